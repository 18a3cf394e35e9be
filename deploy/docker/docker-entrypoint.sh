#!/usr/bin/env bash
# Entrypoint of the bitsweep Flink image.
#   jobmanager [-Dkey=value ...]    a session-cluster JobManager (StandaloneSessionClusterEntrypoint)
#   taskmanager [-Dkey=value ...]   a TaskManager (TaskManagerRunner) that registers at JOB_MANAGER_RPC_ADDRESS
#   bitsweep ARGS...                the bitsweep CLI from /opt/bitsweep (e.g. to submit a sweep from inside)
#   anything else                   executed as a command (e.g. bash)
#
# Configuration: a config.yaml (or flink-conf.yaml) mounted at /opt/flink/conf, as the Flink Kubernetes Operator
# does, or else the image's template /opt/flink/conf-template/config.yaml; then these environment variables:
#   JOB_MANAGER_RPC_ADDRESS            jobmanager.rpc.address (the JobManager's host name; taskmanager needs it)
#   TASK_MANAGER_NUMBER_OF_TASK_SLOTS  taskmanager.numberOfTaskSlots
#   FLINK_JM_MEMORY / FLINK_TM_MEMORY  jobmanager/taskmanager.memory.process.size
#   FLINK_PROPERTIES                   newline-separated "key: value" Flink options (win over all of the above)
#   FLINK_ENV_JAVA_OPTS                extra JVM options
#   BITSWEEP_ON_CLASSPATH=true         put /opt/bitsweep/lib/*.jar on the cluster's classpath as well
#   BITSWEEP_MAIN_CLASS, BITSWEEP_JAVA_OPTS   main class and JVM options of the `bitsweep` role
set -euo pipefail

FLINK_HOME="${FLINK_HOME:-/opt/flink}"
BITSWEEP_HOME="${BITSWEEP_HOME:-/opt/bitsweep}"
RUN_DIR="${FLINK_RUN_DIR:-/tmp/flink-run}"
MOUNTED_CONF="$FLINK_HOME/conf"
TEMPLATE_CONF="$FLINK_HOME/conf-template"

log() { echo "docker-entrypoint: $*" >&2; }
die() { log "$*"; exit 1; }

JAVA17_OPTS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

# Writes the effective configuration into $RUN_DIR/conf and prints the config file's path.
prepare_conf() {
  local conf="$RUN_DIR/conf" src name
  mkdir -p "$conf"
  if [[ -f "$MOUNTED_CONF/config.yaml" ]]; then src="$MOUNTED_CONF"; name=config.yaml
  elif [[ -f "$MOUNTED_CONF/flink-conf.yaml" ]]; then src="$MOUNTED_CONF"; name=flink-conf.yaml
  else src="$TEMPLATE_CONF"; name=config.yaml; fi
  cp "$src/$name" "$conf/$name"
  if [[ -f "$src/log4j-console.properties" ]]; then cp "$src/log4j-console.properties" "$conf/"
  else cp "$TEMPLATE_CONF/log4j-console.properties" "$conf/"; fi

  local overrides=""
  [[ -n "${JOB_MANAGER_RPC_ADDRESS:-}" ]] && overrides+="jobmanager.rpc.address: $JOB_MANAGER_RPC_ADDRESS"$'\n'
  [[ -n "${TASK_MANAGER_NUMBER_OF_TASK_SLOTS:-}" ]] && overrides+="taskmanager.numberOfTaskSlots: $TASK_MANAGER_NUMBER_OF_TASK_SLOTS"$'\n'
  [[ -n "${FLINK_JM_MEMORY:-}" ]] && overrides+="jobmanager.memory.process.size: $FLINK_JM_MEMORY"$'\n'
  [[ -n "${FLINK_TM_MEMORY:-}" ]] && overrides+="taskmanager.memory.process.size: $FLINK_TM_MEMORY"$'\n'
  [[ -n "${FLINK_PROPERTIES:-}" ]] && overrides+="$FLINK_PROPERTIES"$'\n'
  if [[ -n "${overrides//[$'\n' ]/}" ]]; then
    # One line per key: an override replaces the top-level line of the same key (duplicate keys are invalid YAML).
    printf '%s' "$overrides" | awk -v file="$conf/$name" '
      NR == FNR { if ($0 ~ /^[ \t]*(#|$)/) next; sub(/^[ \t]+/, ""); k = $0; sub(/[ \t]*:.*/, "", k); ov[k] = $0; order[++n] = k; next }
      { k = $0; sub(/[ \t]*:.*/, "", k); if (!($0 ~ /^[ \t#]/) && (k in ov)) next; print }
      END { for (i = 1; i <= n; i++) if (!(order[i] in done)) { print ov[order[i]]; done[order[i]] = 1 } }
    ' - "$conf/$name" >"$conf/$name.new"
    # The loop above prints the last value of a key given twice in the overrides: ov[k] keeps the last one.
    mv "$conf/$name.new" "$conf/$name"
  fi
  echo "$conf/$name"
}

classpath() {
  local cp="$FLINK_HOME/lib/*"
  if [[ "${BITSWEEP_ON_CLASSPATH:-false}" == "true" ]] && compgen -G "$BITSWEEP_HOME/lib/*.jar" >/dev/null; then
    cp="$BITSWEEP_HOME/lib/*:$cp"
  fi
  printf '%s' "$cp"
}

run_flink() { # run_flink jobmanager|taskmanager [dynamic properties...]
  local role="$1"
  shift
  local conf_file conf_dir main kind
  conf_file="$(prepare_conf)"
  conf_dir="$(dirname "$conf_file")"
  case "$role" in
    jobmanager) main=org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint; kind=GET_JM_RESOURCE_PARAMS ;;
    taskmanager) main=org.apache.flink.runtime.taskexecutor.TaskManagerRunner; kind=GET_TM_RESOURCE_PARAMS ;;
  esac
  if [[ "$role" == taskmanager ]] && ! grep -q '^jobmanager.rpc.address:' "$conf_file"; then
    die "a taskmanager needs the JobManager's address: set JOB_MANAGER_RPC_ADDRESS"
  fi

  local log_dir="$FLINK_HOME/log"
  [[ -w "$log_dir" ]] || log_dir="$RUN_DIR/log"
  mkdir -p "$log_dir"
  local log_opts=(-Dlog.file="$log_dir/$role-$(hostname).log" -Dlog4j.configurationFile="file:$conf_dir/log4j-console.properties"
                  -Dlog4j2.isThreadContextMapInheritable=true)

  local out params jvm_params dynamic
  out="$(java -Dlog.file="$log_dir/bash-java-utils.log" -Dlog4j.configurationFile="file:$conf_dir/log4j-console.properties" \
         -classpath "$(classpath)" org.apache.flink.runtime.util.bash.BashJavaUtils "$kind" --configDir "$conf_dir" "$@" 2>&1)" \
    || { echo "$out" >&2; die "BashJavaUtils $kind failed: check the memory options in $conf_file"; }
  params="$(echo "$out" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p')"
  [[ "$(echo "$params" | wc -l)" -eq 2 ]] || { echo "$out" >&2; die "unexpected BashJavaUtils output"; }
  jvm_params="$(echo "$params" | sed -n 1p)"
  dynamic="$(echo "$params" | sed -n 2p)"

  cd "$FLINK_HOME"
  log "starting $role with $conf_file"
  # shellcheck disable=SC2086 # space-separated option lists without spaces inside values
  exec java $jvm_params "${JAVA17_OPTS[@]}" ${FLINK_ENV_JAVA_OPTS:-} "${log_opts[@]}" -classpath "$(classpath)" \
    "$main" --configDir "$conf_dir" $dynamic "$@"
}

run_bitsweep() {
  if [[ -x "$BITSWEEP_HOME/bin/bitsweep" ]]; then exec "$BITSWEEP_HOME/bin/bitsweep" "$@"; fi
  compgen -G "$BITSWEEP_HOME/lib/*.jar" >/dev/null \
    || die "no bitsweep jar in $BITSWEEP_HOME/lib: build the image with deploy/docker/build-image.sh --job-jar PATH"
  [[ -n "${BITSWEEP_MAIN_CLASS:-}" ]] \
    || die "set BITSWEEP_MAIN_CLASS (the CLI's main class; build-image.sh --main-class sets it in the image)"
  # The job jar leaves Flink out (the cluster provides it); the client side needs Flink's jars to submit.
  # shellcheck disable=SC2086
  exec java ${BITSWEEP_JAVA_OPTS:-} -classpath "$BITSWEEP_HOME/lib/*:$FLINK_HOME/lib/*" "$BITSWEEP_MAIN_CLASS" "$@"
}

case "${1:-}" in
  jobmanager|taskmanager) role="$1"; shift; run_flink "$role" "$@" ;;
  bitsweep) shift; run_bitsweep "$@" ;;
  -h|--help|help) sed -n '2,20p' "$0" ;;
  "") die "give a role: jobmanager, taskmanager or bitsweep (or a command to run)" ;;
  *) exec "$@" ;;
esac
