#!/usr/bin/env bash
# Builds the Flink 1.19.0 + bitsweep image from deploy/docker/Dockerfile on top of the local base image.
#
#   deploy/docker/build-image.sh [--tag local/bitsweep-flink:1.19.0] [--base-image local/debian-jre17:bookworm]
#                                [--job-jar PATH]... [--main-class dev.bitsweep....]
#
# --job-jar (repeatable; or BITSWEEP_JOB_JAR, space-separated) copies the bitsweep job jar into /opt/bitsweep/lib.
# Without it the image holds only Flink, which is enough for a cluster that jobs are submitted to with
# --filesToStage. --main-class names the CLI's main class for the image's `bitsweep` role.
# Needs a running Docker engine (DOCKER_HOST) and the base image (build-base-image.sh).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEPLOY_DIR="$(dirname "$SCRIPT_DIR")"
TAG="${BITSWEEP_IMAGE:-local/bitsweep-flink:1.19.0}"
BASE_IMAGE="${BITSWEEP_BASE_IMAGE:-local/debian-jre17:bookworm}"
MAIN_CLASS="${BITSWEEP_MAIN_CLASS:-}"
read -r -a JOB_JARS <<<"${BITSWEEP_JOB_JAR:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) TAG="$2"; shift 2 ;;
    --base-image) BASE_IMAGE="$2"; shift 2 ;;
    --job-jar) JOB_JARS+=("$2"); shift 2 ;;
    --main-class) MAIN_CLASS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "build-image: $*" >&2; }
die() { log "$*"; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one: eval \"\$(bash .ci/docker-engine.sh start)\""
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 \
  || die "base image $BASE_IMAGE is missing: build it with deploy/docker/build-base-image.sh"
for jar in "${JOB_JARS[@]+"${JOB_JARS[@]}"}"; do
  [[ -f "$jar" ]] || die "--job-jar $jar: no such file (build the job jar first)"
done

LIB="$DEPLOY_DIR/target/flink-lib"
if ! compgen -G "$LIB/flink-runtime-*.jar" >/dev/null; then
  log "resolving the Flink classpath (mvn -f $DEPLOY_DIR/pom.xml package) ..."
  mvn -q -f "$DEPLOY_DIR/pom.xml" package >&2
fi

CONTEXT="$DEPLOY_DIR/target/docker-context"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/bitsweep-lib"
cp -r "$LIB" "$CONTEXT/flink-lib"
cp -r "$SCRIPT_DIR/conf" "$CONTEXT/conf"
cp "$SCRIPT_DIR/docker-entrypoint.sh" "$SCRIPT_DIR/Dockerfile" "$CONTEXT/"
cp "$SCRIPT_DIR/bitsweep-lib/README.md" "$CONTEXT/bitsweep-lib/"
for jar in "${JOB_JARS[@]+"${JOB_JARS[@]}"}"; do cp "$jar" "$CONTEXT/bitsweep-lib/"; done

started=$SECONDS
log "building $TAG FROM $BASE_IMAGE (${#JOB_JARS[@]} job jar(s)) ..."
docker build --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "BITSWEEP_MAIN_CLASS=$MAIN_CLASS" -t "$TAG" "$CONTEXT" >&2
docker image prune -f >/dev/null 2>&1 || true  # the previous build's image, now untagged
log "built $TAG in $((SECONDS - started)) s"
echo "$TAG"
