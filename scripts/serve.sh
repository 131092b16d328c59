#!/usr/bin/env bash
# Builds omakase in release mode and runs the IdP on its embedded SQLite
# database under ./data (override with OMAKASE_* variables, see README).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_install "${BUILD_PACKAGES[@]}"
require_cargo
cargo build --release --locked --quiet
exec target/release/omakase serve "$@"
