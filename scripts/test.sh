#!/usr/bin/env bash
# Runs every test: formatting, lints, migration parity, unit and HTTP
# tests on SQLite, the same HTTP tests on a PostgreSQL cluster started
# here, and real service providers (Shibboleth SP 3, pysaml2) end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install "${BUILD_PACKAGES[@]}" xmlsec1 postgresql
scripts/interop/deps.sh
require_cargo

step() { printf '\n=== %s\n' "$*"; }

step "format and lints"
cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

step "migrations: the same versions for both backends"
diff <(ls migrations/sqlite) <(ls migrations/postgres)

step "unit and HTTP tests on SQLite"
OMAKASE_REQUIRE_TOOLS=1 cargo test --locked

step "HTTP tests on PostgreSQL"
scripts/with-postgres.sh cargo test --locked --test http

step "real service providers"
cargo build --locked --quiet
OMAKASE_REQUIRE_BROWSER=1 scripts/interop/run.sh target/debug/omakase
