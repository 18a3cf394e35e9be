#!/usr/bin/env bash
# Builds the local base image (Debian bookworm + OpenJDK 17 JRE) from Debian packages, since no image registry is
# reachable to pull one: debootstrap a minimal root filesystem from the machine's own apt mirror, then
# `docker import` it. Idempotent: does nothing if the image exists (--force rebuilds it).
#
#   deploy/docker/build-base-image.sh [--force] [--tag local/debian-jre17:bookworm] [--mirror URL]
#
# Needs root, debootstrap and a running Docker engine (DOCKER_HOST; see .ci/docker-engine.sh).
set -euo pipefail

TAG="${BITSWEEP_BASE_IMAGE:-local/debian-jre17:bookworm}"
MIRROR="${BITSWEEP_DEBIAN_MIRROR:-}"
SUITE=bookworm
FORCE=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) FORCE=true; shift ;;
    --tag) TAG="$2"; shift 2 ;;
    --mirror) MIRROR="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "build-base-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "build-base-image: $*" >&2; }
die() { log "$*"; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-unset}); start one: eval \"\$(bash .ci/docker-engine.sh start)\""
if [[ "$FORCE" == false ]] && docker image inspect "$TAG" >/dev/null 2>&1; then
  log "$TAG exists; nothing to do (--force rebuilds it)"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: apt-get install debootstrap (.ci/docker-engine.sh start installs it)"
[[ "$(id -u)" -eq 0 ]] || die "debootstrap needs root"

# The Debian archive this machine's apt uses for $SUITE (deb822 .sources files and one-line .list files).
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v suite="$SUITE" '
      function flush() { if (uris != "" && suites ~ ("(^| )" suite "( |$)") && types ~ /(^| )deb( |$)/) { split(uris, u, " "); print u[1]; found = 1; exit } uris = ""; suites = ""; types = "" }
      /^[ \t]*$/ { flush(); next }
      /^URIs:/ { sub(/^URIs:[ \t]*/, ""); uris = $0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
      /^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
      END { if (!found) flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    awk -v suite="$SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }' "$f"
  done
}
if [[ -z "$MIRROR" ]]; then
  MIRROR="$(find_mirror | head -n 1)"
  [[ -n "$MIRROR" ]] || die "found no '$SUITE' archive in /etc/apt/sources.list(.d); pass --mirror URL"
fi

ROOTFS="$(mktemp -d /tmp/bitsweep-rootfs.XXXXXX)"
cleanup() { rm -rf "$ROOTFS"; }
trap cleanup EXIT

KEYRING=()
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] && KEYRING=(--keyring /usr/share/keyrings/debian-archive-keyring.gpg)

started=$SECONDS
log "debootstrap $SUITE from $MIRROR into $ROOTFS (a few minutes) ..."
if ! debootstrap --variant=minbase "${KEYRING[@]}" --include=openjdk-17-jre-headless,ca-certificates,curl \
      "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1; then
  tail -n 30 "$ROOTFS.log" >&2
  [[ -f "$ROOTFS/debootstrap/debootstrap.log" ]] && tail -n 30 "$ROOTFS/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (log above: $ROOTFS.log)"
fi
rm -f "$ROOTFS.log"
# Smaller image: no package caches or lists.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/debootstrap
log "importing as $TAG ..."
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64' \
  --change 'CMD ["/bin/bash"]' - "$TAG" >/dev/null
docker run --rm "$TAG" java -version >&2 || die "the imported image cannot run java"
log "built $TAG in $((SECONDS - started)) s ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
