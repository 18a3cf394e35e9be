#!/usr/bin/env bash
# CI: headless Chromium for the HTML report's browser test (HtmlReportBrowserTest), from Debian's own package.
# The test fails when CI=true and no Chromium is found, so this runs before `mvn verify`.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null || echo present)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends chromium >&2
echo "chromium: $(chromium --version)" >&2
