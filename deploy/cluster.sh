#!/usr/bin/env bash
# Starts and stops a Flink 1.19.0 session cluster (a JobManager and TaskManagers as separate JVMs) from the
# Maven-resolved jars of deploy/pom.xml. There is no Flink binary distribution: this script does what Flink's own
# bin/ scripts do (memory options from BashJavaUtils, Java 17 module flags, log files, pid files).
#
#   deploy/cluster.sh start|stop|status|add-taskmanager|kill-taskmanager N|start-jobmanager|start-taskmanager
#   deploy/cluster.sh --help
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF'
Usage: deploy/cluster.sh COMMAND [OPTIONS]

Commands
  start                 JobManager + N TaskManagers on this host; returns once N TaskManagers are registered
                        and prints the REST address (host:port, the value for --flink-master).
  stop                  Stops every process of the cluster (TERM, then KILL after --stop-timeout) and waits.
  status                Prints the REST /overview JSON; prints "not running" and exits 3 if no JobManager runs.
  add-taskmanager       Starts one more TaskManager on this host and waits until it has registered.
  kill-taskmanager N    kill -9 TaskManager number N (1-based) of this host, to simulate a lost worker.
  start-jobmanager      Multi-host: only the JobManager on this host (use --bind-host 0.0.0.0 --address HOST).
  start-taskmanager     Multi-host: --taskmanagers TaskManagers on this host, connecting to --jobmanager HOST:PORT.
  print-config          Writes conf/ into the cluster dir and prints config.yaml; starts nothing.

Options (each also an environment variable; a flag wins over the variable, both over the default)
  --cluster-dir DIR        BITSWEEP_CLUSTER_DIR      deploy/target/cluster  (conf/, log/, pids/, tmp/)
  --lib-dir DIR            BITSWEEP_FLINK_LIB        deploy/target/flink-lib (built with Maven if missing)
  --extra-classpath CP     BITSWEEP_EXTRA_CLASSPATH  (none) prepended entries, e.g. '/opt/bitsweep/lib/*'
  --bind-host HOST         BITSWEEP_BIND_HOST        127.0.0.1  interface the servers listen on (0.0.0.0 = all)
  --address HOST           BITSWEEP_ADDRESS          = bind host, or `hostname -f` when binding 0.0.0.0;
                                                     the name other hosts use to reach this host's processes
  --jobmanager HOST:PORT   BITSWEEP_JOBMANAGER       (start-taskmanager) JobManager RPC address
  --port-base N            BITSWEEP_PORT_BASE        (none) derive every default port from N: rest N, rpc N+1,
                                                     blob N+2, tm-rpc N+10, tm-data N+30 (tests pick a free N)
  --rest-port PORT         BITSWEEP_REST_PORT        8081
  --rpc-port PORT          BITSWEEP_RPC_PORT         6123  JobManager RPC
  --blob-port PORT         BITSWEEP_BLOB_PORT        6124
  --tm-rpc-port PORT       BITSWEEP_TM_RPC_PORT      6130  TaskManager N uses PORT+N-1 (0 = any free port)
  --tm-data-port PORT      BITSWEEP_TM_DATA_PORT     6150  TaskManager N uses PORT+N-1 (0 = any free port)
  --jm-memory SIZE         BITSWEEP_JM_MEMORY        1024m  jobmanager.memory.process.size
  --tm-memory SIZE         BITSWEEP_TM_MEMORY        2048m  taskmanager.memory.process.size
  --slots N                BITSWEEP_SLOTS            2      taskmanager.numberOfTaskSlots
  --taskmanagers N         BITSWEEP_TASKMANAGERS     1
  --restart-strategy S     BITSWEEP_RESTART_STRATEGY fixed-delay  (fixed-delay | none)
  --restart-attempts N     BITSWEEP_RESTART_ATTEMPTS 3
  --restart-delay D        BITSWEEP_RESTART_DELAY    "2 s"
  --heartbeat-interval MS  BITSWEEP_HEARTBEAT_INTERVAL 5000
  --heartbeat-timeout MS   BITSWEEP_HEARTBEAT_TIMEOUT  30000  how soon a silent TaskManager is declared lost
  --conf KEY=VALUE         BITSWEEP_FLINK_CONF       any other Flink option; repeatable (the variable holds
                                                     newline-separated KEY=VALUE lines); wins over the above
  --timeout SECONDS        BITSWEEP_START_TIMEOUT    180  how long start waits for the TaskManagers
  --stop-timeout SECONDS   BITSWEEP_STOP_TIMEOUT     30
  JAVA_HOME / BITSWEEP_JAVA select the java binary; BITSWEEP_JAVA_OPTS adds JVM options to every process.

The settings used by start are saved in CLUSTER_DIR/cluster.env and reused by stop, status, add-taskmanager
and kill-taskmanager, so those need only --cluster-dir (if not the default).
EOF
}

die() { echo "cluster.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Settings

COMMAND="${1:-}"
[[ -n "$COMMAND" ]] || { usage >&2; exit 2; }
shift
case "$COMMAND" in -h|--help|help) usage; exit 0 ;; esac

KILL_INDEX=""
if [[ "$COMMAND" == "kill-taskmanager" ]]; then
  [[ $# -ge 1 && "$1" =~ ^[0-9]+$ ]] || die "kill-taskmanager needs the TaskManager number, e.g. 'kill-taskmanager 1'"
  KILL_INDEX="$1"
  shift
fi

declare -A FLAG=()
EXTRA_CONF_FLAGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --conf) [[ $# -ge 2 ]] || die "--conf needs KEY=VALUE"; EXTRA_CONF_FLAGS+=("$2"); shift 2 ;;
    --conf=*) EXTRA_CONF_FLAGS+=("${1#--conf=}"); shift ;;
    --*=*) key="${1%%=*}"; FLAG["${key#--}"]="${1#*=}"; shift ;;
    --*) [[ $# -ge 2 ]] || die "$1 needs a value (see --help)"; FLAG["${1#--}"]="$2"; shift 2 ;;
    *) die "unexpected argument '$1' (see --help)" ;;
  esac
done

KNOWN_FLAGS=(cluster-dir lib-dir extra-classpath bind-host address jobmanager port-base rest-port rpc-port blob-port
  tm-rpc-port tm-data-port jm-memory tm-memory slots taskmanagers restart-strategy restart-attempts restart-delay
  heartbeat-interval heartbeat-timeout timeout stop-timeout)
for key in "${!FLAG[@]}"; do
  [[ " ${KNOWN_FLAGS[*]} " == *" $key "* ]] || die "unknown option --$key (see --help)"
done

CLUSTER_DIR="${FLAG[cluster-dir]:-${BITSWEEP_CLUSTER_DIR:-$SCRIPT_DIR/target/cluster}}"
mkdir -p "$CLUSTER_DIR"
CLUSTER_DIR="$(cd "$CLUSTER_DIR" && pwd)"
CONF_DIR="$CLUSTER_DIR/conf"
LOG_DIR="$CLUSTER_DIR/log"
PID_DIR="$CLUSTER_DIR/pids"
TMP_DIR="$CLUSTER_DIR/tmp"
STATE_FILE="$CLUSTER_DIR/cluster.env"

# Commands other than start/print-config reuse what start saved, unless a flag overrides it.
if [[ "$COMMAND" != "start" && "$COMMAND" != "print-config" && "$COMMAND" != "start-jobmanager" \
      && "$COMMAND" != "start-taskmanager" && -f "$STATE_FILE" ]]; then
  # shellcheck disable=SC1090
  source "$STATE_FILE"
fi

setting() { # setting FLAG_NAME ENV_NAME DEFAULT
  local flag="$1" env="$2" default="$3"
  if [[ -n "${FLAG[$flag]:-}" ]]; then printf '%s' "${FLAG[$flag]}"
  elif [[ -n "${!env:-}" ]]; then printf '%s' "${!env}"
  else printf '%s' "$default"; fi
}

LIB_DIR="$(setting lib-dir BITSWEEP_FLINK_LIB "$SCRIPT_DIR/target/flink-lib")"
EXTRA_CLASSPATH="$(setting extra-classpath BITSWEEP_EXTRA_CLASSPATH "")"
BIND_HOST="$(setting bind-host BITSWEEP_BIND_HOST 127.0.0.1)"
if [[ "$BIND_HOST" == "0.0.0.0" ]]; then default_address="$(hostname -f 2>/dev/null || hostname)"; else default_address="$BIND_HOST"; fi
ADDRESS="$(setting address BITSWEEP_ADDRESS "$default_address")"
JOBMANAGER="$(setting jobmanager BITSWEEP_JOBMANAGER "")"
PORT_BASE="$(setting port-base BITSWEEP_PORT_BASE "")"
if [[ -n "$PORT_BASE" ]]; then
  [[ "$PORT_BASE" =~ ^[0-9]+$ && "$PORT_BASE" -ge 1024 && "$PORT_BASE" -le 65000 ]] \
    || die "--port-base must be a number from 1024 to 65000, got '$PORT_BASE'"
  defaults=("$PORT_BASE" $((PORT_BASE + 1)) $((PORT_BASE + 2)) $((PORT_BASE + 10)) $((PORT_BASE + 30)))
else
  defaults=(8081 6123 6124 6130 6150)
fi
REST_PORT="$(setting rest-port BITSWEEP_REST_PORT "${defaults[0]}")"
RPC_PORT="$(setting rpc-port BITSWEEP_RPC_PORT "${defaults[1]}")"
BLOB_PORT="$(setting blob-port BITSWEEP_BLOB_PORT "${defaults[2]}")"
TM_RPC_PORT="$(setting tm-rpc-port BITSWEEP_TM_RPC_PORT "${defaults[3]}")"
TM_DATA_PORT="$(setting tm-data-port BITSWEEP_TM_DATA_PORT "${defaults[4]}")"
JM_MEMORY="$(setting jm-memory BITSWEEP_JM_MEMORY 1024m)"
TM_MEMORY="$(setting tm-memory BITSWEEP_TM_MEMORY 2048m)"
SLOTS="$(setting slots BITSWEEP_SLOTS 2)"
TASKMANAGERS="$(setting taskmanagers BITSWEEP_TASKMANAGERS 1)"
RESTART_STRATEGY="$(setting restart-strategy BITSWEEP_RESTART_STRATEGY fixed-delay)"
RESTART_ATTEMPTS="$(setting restart-attempts BITSWEEP_RESTART_ATTEMPTS 3)"
RESTART_DELAY="$(setting restart-delay BITSWEEP_RESTART_DELAY "2 s")"
HEARTBEAT_INTERVAL="$(setting heartbeat-interval BITSWEEP_HEARTBEAT_INTERVAL 5000)"
HEARTBEAT_TIMEOUT="$(setting heartbeat-timeout BITSWEEP_HEARTBEAT_TIMEOUT 30000)"
START_TIMEOUT="$(setting timeout BITSWEEP_START_TIMEOUT 180)"
STOP_TIMEOUT="$(setting stop-timeout BITSWEEP_STOP_TIMEOUT 30)"
EXTRA_CONF="${BITSWEEP_FLINK_CONF:-}"
for kv in "${EXTRA_CONF_FLAGS[@]+"${EXTRA_CONF_FLAGS[@]}"}"; do EXTRA_CONF+=$'\n'"$kv"; done

if [[ -n "$JOBMANAGER" ]]; then
  [[ "$JOBMANAGER" =~ ^([^:]+):([0-9]+)$ ]] || die "--jobmanager must be HOST:PORT (the JobManager RPC port, e.g. jm1:6123), got '$JOBMANAGER'"
  JM_RPC_HOST="${BASH_REMATCH[1]}"
  RPC_PORT="${BASH_REMATCH[2]}"
else
  JM_RPC_HOST="$ADDRESS"
fi

for pair in "rest-port:$REST_PORT" "rpc-port:$RPC_PORT" "blob-port:$BLOB_PORT" "tm-rpc-port:$TM_RPC_PORT" \
            "tm-data-port:$TM_DATA_PORT" "slots:$SLOTS" "taskmanagers:$TASKMANAGERS" \
            "restart-attempts:$RESTART_ATTEMPTS" "heartbeat-interval:$HEARTBEAT_INTERVAL" \
            "heartbeat-timeout:$HEARTBEAT_TIMEOUT" "timeout:$START_TIMEOUT" "stop-timeout:$STOP_TIMEOUT"; do
  [[ "${pair#*:}" =~ ^[0-9]+$ ]] || die "--${pair%%:*} must be a whole number, got '${pair#*:}'"
done
[[ "$SLOTS" -ge 1 ]] || die "--slots must be at least 1"
[[ "$RESTART_STRATEGY" == "fixed-delay" || "$RESTART_STRATEGY" == "none" ]] \
  || die "--restart-strategy must be 'fixed-delay' or 'none', got '$RESTART_STRATEGY'"
for size in "$JM_MEMORY" "$TM_MEMORY"; do
  [[ "$size" =~ ^[0-9]+([kKmMgG]|[kKmMgG][bB])?$ ]] || die "memory sizes look like 1024m or 2g, got '$size'"
done

if [[ -n "${BITSWEEP_JAVA:-}" ]]; then JAVA="$BITSWEEP_JAVA"
elif [[ -n "${JAVA_HOME:-}" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA="java"; fi

# Flink's own Java 17 module flags (env.java.opts.all of the 1.19 distribution's config.yaml).
JAVA17_OPTS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED
  --add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

# ---------------------------------------------------------------------------------------------------------------
# Building blocks

ensure_lib() {
  if ! compgen -G "$LIB_DIR/flink-runtime-*.jar" >/dev/null; then
    if [[ "$LIB_DIR" != "$SCRIPT_DIR/target/flink-lib" ]]; then
      die "no Flink jars in $LIB_DIR (--lib-dir); build them with: mvn -f $SCRIPT_DIR/pom.xml package"
    fi
    echo "Resolving the Flink classpath (mvn -f $SCRIPT_DIR/pom.xml package) ..." >&2
    mvn -q -f "$SCRIPT_DIR/pom.xml" package >&2 || die "could not resolve the Flink jars with Maven (see above)"
  fi
}

classpath() {
  if [[ -n "$EXTRA_CLASSPATH" ]]; then printf '%s:%s/*' "$EXTRA_CLASSPATH" "$LIB_DIR"; else printf '%s/*' "$LIB_DIR"; fi
}

yaml_quote() { # a YAML double-quoted scalar
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

write_conf() {
  # plugins/: Flink looks for it in the working directory and warns when it is missing.
  mkdir -p "$CONF_DIR" "$LOG_DIR" "$PID_DIR" "$TMP_DIR" "$CLUSTER_DIR/plugins"
  {
    echo "# Written by deploy/cluster.sh $(date -u +%Y-%m-%dT%H:%M:%SZ); edits are overwritten by the next start."
    echo "# Flink 1.19 standard YAML (config.yaml)."
    echo "jobmanager.rpc.address: $(yaml_quote "$JM_RPC_HOST")"
    echo "jobmanager.rpc.port: $RPC_PORT"
    echo "jobmanager.bind-host: $(yaml_quote "$BIND_HOST")"
    echo "jobmanager.memory.process.size: $JM_MEMORY"
    echo "blob.server.port: $(yaml_quote "$BLOB_PORT")"
    echo "rest.address: $(yaml_quote "$ADDRESS")"
    echo "rest.bind-address: $(yaml_quote "$BIND_HOST")"
    echo "rest.port: $REST_PORT"
    echo "taskmanager.bind-host: $(yaml_quote "$BIND_HOST")"
    echo "taskmanager.host: $(yaml_quote "$ADDRESS")"
    echo "taskmanager.memory.process.size: $TM_MEMORY"
    echo "taskmanager.numberOfTaskSlots: $SLOTS"
    echo "parallelism.default: $((SLOTS * (TASKMANAGERS > 0 ? TASKMANAGERS : 1)))"
    if [[ "$RESTART_STRATEGY" == "fixed-delay" ]]; then
      echo "restart-strategy.type: fixed-delay"
      echo "restart-strategy.fixed-delay.attempts: $RESTART_ATTEMPTS"
      echo "restart-strategy.fixed-delay.delay: $(yaml_quote "$RESTART_DELAY")"
    else
      echo "restart-strategy.type: none"
    fi
    echo "heartbeat.interval: $HEARTBEAT_INTERVAL"
    echo "heartbeat.timeout: $HEARTBEAT_TIMEOUT"
    echo "io.tmp.dirs: $(yaml_quote "$TMP_DIR")"
    echo "web.tmpdir: $(yaml_quote "$TMP_DIR/web")"
    echo "blob.storage.directory: $(yaml_quote "$TMP_DIR/blobs")"
    echo "env.java.opts.all: $(yaml_quote "${JAVA17_OPTS[*]}")"
    if [[ -n "${EXTRA_CONF//[$'\n' ]/}" ]]; then
      echo "# --conf / BITSWEEP_FLINK_CONF"
      local line
      while IFS= read -r line; do
        [[ -z "${line// /}" ]] && continue
        [[ "$line" == *=* ]] || die "--conf takes KEY=VALUE, got '$line'"
        echo "${line%%=*}: $(yaml_quote "${line#*=}")"
      done <<<"$EXTRA_CONF"
    fi
  } >"$CONF_DIR/config.yaml.new"
  # A later duplicate key would make the YAML invalid: --conf wins, so drop the earlier line of the same key.
  awk '{ key = $1; sub(/:$/, "", key); if ($0 !~ /^#/) last[key] = NR; line[NR] = $0; k[NR] = key }
       END { for (i = 1; i <= NR; i++) if (line[i] ~ /^#/ || last[k[i]] == i) print line[i] }' \
    "$CONF_DIR/config.yaml.new" >"$CONF_DIR/config.yaml"
  rm -f "$CONF_DIR/config.yaml.new"

  cat >"$CONF_DIR/log4j.properties" <<'EOF'
# Each process logs to the file named by -Dlog.file (the Flink web UI shows it too).
monitorInterval = 30
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = MainAppender
logger.pekko.name = org.apache.pekko
logger.pekko.level = INFO
logger.netty.name = org.apache.flink.shaded.netty4.io.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
appender.main.name = MainAppender
appender.main.type = RollingFile
appender.main.append = true
appender.main.fileName = ${sys:log.file}
appender.main.filePattern = ${sys:log.file}.%i
appender.main.layout.type = PatternLayout
appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
appender.main.policies.type = Policies
appender.main.policies.size.type = SizeBasedTriggeringPolicy
appender.main.policies.size.size = 100MB
appender.main.strategy.type = DefaultRolloverStrategy
appender.main.strategy.max = 10
EOF

  {
    echo "# Settings of the last start of this cluster dir, reused by stop/status/add-taskmanager/kill-taskmanager."
    local var
    for var in LIB_DIR EXTRA_CLASSPATH BIND_HOST ADDRESS JOBMANAGER PORT_BASE REST_PORT RPC_PORT BLOB_PORT TM_RPC_PORT \
               TM_DATA_PORT JM_MEMORY TM_MEMORY SLOTS TASKMANAGERS RESTART_STRATEGY RESTART_ATTEMPTS RESTART_DELAY \
               HEARTBEAT_INTERVAL HEARTBEAT_TIMEOUT START_TIMEOUT STOP_TIMEOUT; do
      printf 'BITSWEEP_%s=%q\n' "$( [[ $var == LIB_DIR ]] && echo FLINK_LIB || echo "$var")" "${!var}"
    done
    printf 'BITSWEEP_FLINK_CONF=%q\n' "$EXTRA_CONF"
  } >"$STATE_FILE"
}

# The lines BashJavaUtils prints after its marker: line 1 JVM options, line 2 "-D key=value" dynamic properties.
resource_params() { # resource_params GET_JM_RESOURCE_PARAMS|GET_TM_RESOURCE_PARAMS
  local out
  if ! out="$("$JAVA" -Dlog.file="$LOG_DIR/bash-java-utils.log" -Dlog4j.configurationFile="file:$CONF_DIR/log4j.properties" \
        -classpath "$(classpath)" org.apache.flink.runtime.util.bash.BashJavaUtils "$1" --configDir "$CONF_DIR" 2>&1)"; then
    echo "$out" | tail -n 20 >&2
    die "BashJavaUtils $1 rejected the configuration in $CONF_DIR/config.yaml (error above; often the memory sizes)"
  fi
  out="$(echo "$out" | sed -n 's/^BASH_JAVA_UTILS_EXEC_RESULT://p')"
  [[ "$(echo "$out" | wc -l)" -eq 2 ]] || die "unexpected BashJavaUtils $1 output: $out"
  echo "$out"
}

pid_alive() { # pid_alive PIDFILE: the process of PIDFILE runs and belongs to this cluster dir
  local pid
  [[ -f "$1" ]] || return 1
  pid="$(cat "$1")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Dbitsweep.cluster.dir=$CLUSTER_DIR " || return 1
}

launch() { # launch NAME MAIN_CLASS RESOURCE_KIND [dynamic properties...]
  local name="$1" main="$2" kind="$3"
  shift 3
  local params jvm_params dynamic
  params="$(resource_params "$kind")"
  jvm_params="$(echo "$params" | sed -n 1p)"
  dynamic="$(echo "$params" | sed -n 2p)"
  # shellcheck disable=SC2206 # both are space-separated option lists without spaces inside values
  local cmd=("$JAVA" $jvm_params "${JAVA17_OPTS[@]}" ${BITSWEEP_JAVA_OPTS:-}
    -Dbitsweep.cluster.dir="$CLUSTER_DIR" -Dlog.file="$LOG_DIR/$name.log"
    -Dlog4j.configurationFile="file:$CONF_DIR/log4j.properties" -Dlog4j2.isThreadContextMapInheritable=true
    -classpath "$(classpath)" "$main" --configDir "$CONF_DIR" $dynamic "$@")
  # Own session, stdin closed, output to files: the caller's pipes close when this script returns.
  (cd "$CLUSTER_DIR" && exec nohup "${cmd[@]}" </dev/null >"$LOG_DIR/$name.out" 2>&1) &
  echo $! >"$PID_DIR/$name.pid"
}

log_tail() {
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 30 "$f" >&2
  done
}

rest_host() { if [[ "$BIND_HOST" == "0.0.0.0" ]]; then echo 127.0.0.1; else echo "$BIND_HOST"; fi; }

overview() { curl -sf --max-time 5 "http://$(rest_host):$REST_PORT/overview"; }

json_number() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

port_in_use() { (exec 3<>"/dev/tcp/$(rest_host)/$1") 2>/dev/null; }

require_free_ports() { # require_free_ports NAME:PORT...
  local pair
  for pair in "$@"; do
    [[ "${pair#*:}" -eq 0 ]] && continue
    if port_in_use "${pair#*:}"; then
      die "port ${pair#*:} (--${pair%%:*}) on $(rest_host) is already in use (another Flink cluster?); stop it, or choose other ports (--port-base N)"
    fi
  done
}

start_jobmanager() {
  pid_alive "$PID_DIR/jobmanager.pid" && die "a JobManager of $CLUSTER_DIR already runs (pid $(cat "$PID_DIR/jobmanager.pid")); run stop first"
  require_free_ports "rest-port:$REST_PORT" "rpc-port:$RPC_PORT" "blob-port:$BLOB_PORT"
  rm -f "$LOG_DIR"/jobmanager.*
  launch jobmanager org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint GET_JM_RESOURCE_PARAMS
}

next_tm_index() {
  local n=0 f i
  for f in "$PID_DIR"/taskmanager-*.pid; do
    [[ -e "$f" ]] || continue
    i="${f##*/taskmanager-}"; i="${i%.pid}"
    (( i > n )) && n=$i
  done
  echo $((n + 1))
}

port_for() { # port_for BASE INDEX: 0 stays 0 (any free port)
  if [[ "$1" -eq 0 ]]; then echo 0; else echo $(($1 + $2 - 1)); fi
}

start_taskmanager() { # prints the index of the started TaskManager
  local i
  i="$(next_tm_index)"
  require_free_ports "tm-rpc-port:$(port_for "$TM_RPC_PORT" "$i")" "tm-data-port:$(port_for "$TM_DATA_PORT" "$i")"
  rm -f "$LOG_DIR/taskmanager-$i".*
  launch "taskmanager-$i" org.apache.flink.runtime.taskexecutor.TaskManagerRunner GET_TM_RESOURCE_PARAMS \
    -D "taskmanager.resource-id=$(hostname -s 2>/dev/null || echo host)-tm-$i" \
    -D "taskmanager.rpc.port=$(port_for "$TM_RPC_PORT" "$i")" \
    -D "taskmanager.data.port=$(port_for "$TM_DATA_PORT" "$i")"
  echo "$i"
}

wait_until() { # wait_until DESCRIPTION CHECK_FUNCTION LOGS...: polls; fails with log tails on timeout or death
  local what="$1" check="$2"
  shift 2
  local deadline=$((SECONDS + START_TIMEOUT)) f
  while ! "$check"; do
    for f in "$PID_DIR"/*.pid; do
      [[ -e "$f" ]] || continue
      if ! kill -0 "$(cat "$f")" 2>/dev/null && [[ ! -e "$f.killed" ]]; then
        log_tail "$LOG_DIR/$(basename "$f" .pid).out" "$LOG_DIR/$(basename "$f" .pid).log"
        die "$(basename "$f" .pid) exited while waiting for $what (logs above, in $LOG_DIR)"
      fi
    done
    if (( SECONDS >= deadline )); then
      log_tail "$@"
      die "timed out after ${START_TIMEOUT}s waiting for $what (logs above, in $LOG_DIR; raise --timeout?)"
    fi
    sleep 0.5
  done
}

tm_registered() { grep -q "Successful registration at resource manager" "$LOG_DIR/taskmanager-$WAIT_TM.log" 2>/dev/null; }
# A TaskManager shows up in /overview a moment before its slots do: wait for both.
enough_taskmanagers() {
  local json tms slots
  json="$(overview 2>/dev/null)" || return 1
  tms="$(echo "$json" | json_number taskmanagers)"
  slots="$(echo "$json" | json_number slots-total)"
  [[ -n "$tms" && -n "$slots" && "$tms" -ge "$WAIT_COUNT" && "$slots" -ge $((WAIT_COUNT * SLOTS)) ]]
}
rest_ready() { overview >/dev/null 2>&1; }

stop_all() {
  local f pid stopped=()
  for f in "$PID_DIR"/taskmanager-*.pid "$PID_DIR"/jobmanager.pid; do
    [[ -e "$f" ]] || continue
    if pid_alive "$f"; then
      pid="$(cat "$f")"
      kill -TERM "$pid" 2>/dev/null || true
      stopped+=("$pid:$(basename "$f" .pid)")
    fi
  done
  local deadline=$((SECONDS + STOP_TIMEOUT)) entry
  for entry in "${stopped[@]+"${stopped[@]}"}"; do
    pid="${entry%%:*}"
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "cluster.sh: ${entry#*:} (pid $pid) ignored TERM for ${STOP_TIMEOUT}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
  done
  rm -f "$PID_DIR"/*.pid "$PID_DIR"/*.killed
  if ((${#stopped[@]} == 0)); then echo "not running ($CLUSTER_DIR)"; else echo "stopped ${#stopped[@]} process(es) of $CLUSTER_DIR"; fi
}

# ---------------------------------------------------------------------------------------------------------------
# Commands

case "$COMMAND" in
  print-config)
    write_conf
    cat "$CONF_DIR/config.yaml"
    ;;

  start)
    [[ -z "$JOBMANAGER" ]] || die "start runs the JobManager here; to join another host's JobManager use start-taskmanager --jobmanager HOST:PORT"
    [[ "$TASKMANAGERS" -ge 1 ]] || die "--taskmanagers must be at least 1 for start (use start-jobmanager for none)"
    ensure_lib
    if pid_alive "$PID_DIR/jobmanager.pid"; then die "the cluster in $CLUSTER_DIR already runs; run stop first"; fi
    rm -f "$PID_DIR"/*.pid "$PID_DIR"/*.killed
    write_conf
    started=$SECONDS
    # Whatever fails from here on, leave no half-started cluster behind.
    trap 'echo "cluster.sh: start failed; stopping what was started" >&2; stop_all >/dev/null 2>&1 || true' EXIT
    start_jobmanager
    for ((t = 1; t <= TASKMANAGERS; t++)); do start_taskmanager >/dev/null; done
    WAIT_COUNT=$TASKMANAGERS
    wait_until "$TASKMANAGERS TaskManager(s) with $SLOTS slots each to register at http://$(rest_host):$REST_PORT/overview" \
      enough_taskmanagers "$LOG_DIR/jobmanager.log" "$LOG_DIR"/taskmanager-*.log
    trap - EXIT
    echo "Flink session cluster up in $((SECONDS - started)) s: $TASKMANAGERS TaskManager(s) x $SLOTS slots; logs in $LOG_DIR" >&2
    echo "Web UI: http://$ADDRESS:$REST_PORT" >&2
    echo "$ADDRESS:$REST_PORT"
    ;;

  start-jobmanager)
    ensure_lib
    rm -f "$PID_DIR"/jobmanager.pid
    write_conf
    trap 'echo "cluster.sh: start-jobmanager failed; stopping it" >&2; stop_all >/dev/null 2>&1 || true' EXIT
    start_jobmanager
    wait_until "the JobManager REST endpoint at http://$(rest_host):$REST_PORT" rest_ready "$LOG_DIR/jobmanager.log" "$LOG_DIR/jobmanager.out"
    trap - EXIT
    echo "JobManager up; TaskManagers join with: deploy/cluster.sh start-taskmanager --jobmanager $ADDRESS:$RPC_PORT" >&2
    echo "$ADDRESS:$REST_PORT"
    ;;

  start-taskmanager|add-taskmanager)
    ensure_lib
    if [[ "$COMMAND" == "start-taskmanager" ]]; then
      [[ -n "$JOBMANAGER" ]] || die "start-taskmanager needs --jobmanager HOST:PORT (the JobManager's RPC address)"
      write_conf
      count=$TASKMANAGERS
    else
      [[ -f "$CONF_DIR/config.yaml" ]] || die "no cluster in $CLUSTER_DIR: run start first"
      count=1
    fi
    for ((t = 1; t <= count; t++)); do
      WAIT_TM="$(start_taskmanager)"
      wait_until "taskmanager-$WAIT_TM to register at the JobManager $JM_RPC_HOST:$RPC_PORT" tm_registered \
        "$LOG_DIR/taskmanager-$WAIT_TM.log" "$LOG_DIR/taskmanager-$WAIT_TM.out"
      echo "taskmanager-$WAIT_TM registered (pid $(cat "$PID_DIR/taskmanager-$WAIT_TM.pid"))" >&2
      echo "$WAIT_TM"
    done
    ;;

  kill-taskmanager)
    f="$PID_DIR/taskmanager-$KILL_INDEX.pid"
    pid_alive "$f" || die "taskmanager-$KILL_INDEX of $CLUSTER_DIR is not running"
    pid="$(cat "$f")"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    touch "$f.killed"
    echo "killed taskmanager-$KILL_INDEX (pid $pid) with SIGKILL" >&2
    ;;

  stop)
    stop_all
    ;;

  status)
    if ! pid_alive "$PID_DIR/jobmanager.pid"; then
      running=()
      for f in "$PID_DIR"/taskmanager-*.pid; do
        [[ -e "$f" ]] && pid_alive "$f" && running+=("$(basename "$f" .pid) (pid $(cat "$f"))")
      done
      if ((${#running[@]} > 0)); then
        echo "no JobManager on this host; running here: ${running[*]} (JobManager $JM_RPC_HOST:$RPC_PORT)"
        exit 0
      fi
      echo "not running"
      exit 3
    fi
    if ! overview; then
      echo "cluster.sh: JobManager (pid $(cat "$PID_DIR/jobmanager.pid")) runs but http://$(rest_host):$REST_PORT/overview does not answer" >&2
      exit 1
    fi
    echo
    ;;

  *)
    usage >&2
    die "unknown command '$COMMAND'"
    ;;
esac
