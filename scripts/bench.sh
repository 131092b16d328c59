#!/usr/bin/env bash
# CPU cost of the SSO hot path (criterion): signing responses and parsing
# requests. Prints the time per operation; ops/s = 1 / time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_install "${BUILD_PACKAGES[@]}"
require_cargo
cargo bench --locked --bench saml -- --warm-up-time 1 --measurement-time 5 "$@"
