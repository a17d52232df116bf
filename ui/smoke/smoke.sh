#!/usr/bin/env bash
# Smoke test of the real tumble binary: builds cmd/tumble, starts it under
# Xvfb against a local Mumble server (Tor off, null sound devices), connects,
# holds the push-to-talk key with xdotool and checks the screenshots with
# tesseract. Screenshots are kept in $TUMBLE_SMOKE_OUT (default
# /tmp/tumble-smoke). Needs: Xvfb, imagemagick, xdotool, tesseract-ocr,
# mumble-server. Any missing piece fails the run (TUMBLE_REQUIRE_SERVERS=1).
set -euo pipefail
cd "$(dirname "$0")/../.."
export TUMBLE_SMOKE_OUT="${TUMBLE_SMOKE_OUT:-/tmp/tumble-smoke}"
export TUMBLE_REQUIRE_SERVERS=1
go test -tags nolibopusfile -count=1 -run '^TestSmoke$' -v ./ui/smoke
echo "smoke: screenshots in $TUMBLE_SMOKE_OUT"
ls -1 "$TUMBLE_SMOKE_OUT"
