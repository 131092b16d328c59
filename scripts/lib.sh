# Shared by serve.sh and test.sh: installs missing Debian packages.
# shellcheck shell=bash

# apt_install PKG... : installs the packages that are not installed yet.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "installing: ${missing[*]}"
    local sudo=()
    [[ $EUID -ne 0 ]] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The packages the build needs (SQLite is compiled in).
BUILD_PACKAGES=(build-essential pkg-config libssl-dev libpq-dev)

require_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        [[ -x "$HOME/.cargo/bin/cargo" ]] && export PATH="$HOME/.cargo/bin:$PATH"
    fi
    command -v cargo >/dev/null 2>&1 || {
        echo "error: the Rust toolchain (cargo) is needed; install it with rustup" >&2
        exit 1
    }
}
