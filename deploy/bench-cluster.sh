#!/usr/bin/env bash
# Scaling benchmark of the compression stage on a process cluster (deploy/cluster.sh): starts a JobManager and one
# TaskManager with 2 slots, runs `bin/bitsweep bench-cluster` (a synthetic 64-H-H-H-10 MLP sweep, 19 configs x 4
# layers, submitted at parallelism 1 and then 2), and stops the cluster. Figures: deploy/README.md, section 6.
#
#   deploy/bench-cluster.sh [--hidden 2048] [--parallelism 1,2]     (extra arguments go to bench-cluster)
#
# BITSWEEP_BENCH_PORT_BASE (default 18710) and BITSWEEP_BENCH_TM_MEMORY (default 4096m) adjust the cluster;
# BITSWEEP_BENCH_CLUSTER_JAVA_OPTS adds JVM options to the cluster's JVMs, e.g.
# '-Djava.util.concurrent.ForkJoinPool.common.parallelism=1' makes each compression task single-threaded (the
# compressors use parallel streams, so one task alone already fills both cores of this machine).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/deploy/target/bench"
CLUSTER_DIR="$WORK/cluster"
mkdir -p "$WORK"

stop_cluster() { bash "$ROOT/deploy/cluster.sh" stop --cluster-dir "$CLUSTER_DIR" >/dev/null 2>&1 || true; }
trap stop_cluster EXIT

started=$SECONDS
address="$(BITSWEEP_JAVA_OPTS="${BITSWEEP_BENCH_CLUSTER_JAVA_OPTS:-}" bash "$ROOT/deploy/cluster.sh" start --cluster-dir "$CLUSTER_DIR" \
  --port-base "${BITSWEEP_BENCH_PORT_BASE:-18710}" --taskmanagers 1 --slots 2 \
  --tm-memory "${BITSWEEP_BENCH_TM_MEMORY:-4096m}" | tail -1)"
echo "bench-cluster: cluster at $address up in $((SECONDS - started)) s (load average: $(cut -d' ' -f1-3 /proc/loadavg))" >&2

"$ROOT/bin/bitsweep" bench-cluster --flink-master "$address" --work "$WORK/work" \
  --eval-data "$ROOT/calibration-data/digits/eval" "$@"
echo "bench-cluster: load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
