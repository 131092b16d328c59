#!/usr/bin/env bash
# Installs what scripts/interop/run.sh needs on Debian 12: Apache with
# mod_shib (Shibboleth SP 3), xmlsec1 and a Python venv with pysaml2 and
# requests. Idempotent and quiet when everything is already there.
#
# Environment:
#   OMAKASE_INTEROP_VENV  where to put the venv (default: ~/.cache/omakase-interop/venv)
#   PYTHON                interpreter for the venv (default: python3)
set -euo pipefail

VENV="${OMAKASE_INTEROP_VENV:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/omakase-interop/venv}"
PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(apache2 libapache2-mod-shib xmlsec1 openssl ca-certificates chromium fonts-noto-cjk)
PY_PACKAGES=("pysaml2>=7.5,<8" "requests>=2.31,<3")

SUDO=()
if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps.sh: needs root (or sudo) for apt-get" >&2; exit 1; }
    SUDO=(sudo)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
# Node.js drives the browser tests (playwright-core); machines without it
# get Debian's.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    # Debian's own python3 needs python3-venv for `python3 -m venv`.
    missing+=(python3-venv)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    echo "deps.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    # Packages' maintainer scripts may try to start apache2/shibd system
    # services; the harness never uses them (it runs private instances).
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "deps.sh: creating venv $VENV"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "${PY_PACKAGES[@]}" >/dev/null 2>&1 <<'PYEOF'
import sys
from importlib.metadata import PackageNotFoundError, version

def parse(v):
    return tuple(int(x) for x in v.split(".")[:2] if x.isdigit())

# Exit 1 unless each "name>=lo,<hi" requirement is met.
for req in sys.argv[1:]:
    name, _, spec = req.partition(">=")
    lo, _, hi = spec.partition(",<")
    try:
        have = parse(version(name))
    except PackageNotFoundError:
        sys.exit(1)
    if have < parse(lo) or have >= parse(hi):
        sys.exit(1)
import saml2.client, requests  # noqa: E401,F401
PYEOF
then
    echo "deps.sh: installing ${PY_PACKAGES[*]} into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
fi

command -v xmlsec1 >/dev/null 2>&1 || { echo "deps.sh: xmlsec1 still missing" >&2; exit 1; }
[[ -f /usr/lib/apache2/modules/mod_shib.so ]] || { echo "deps.sh: mod_shib.so still missing" >&2; exit 1; }

# playwright-core (no browser download: it drives Debian's chromium), and
# pngjs + jsqr (pure JS) to decode the TOTP QR code in browser_totp.js.
E2E_DIR="${OMAKASE_E2E_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/omakase-e2e}"
NODE_PACKAGES=(playwright-core@1 pngjs@7 jsqr@1)
missing_js=()
for pkg in "${NODE_PACKAGES[@]}"; do
    [[ -d "$E2E_DIR/node_modules/${pkg%@*}" ]] || missing_js+=("$pkg")
done
if [[ ${#missing_js[@]} -gt 0 ]]; then
    command -v npm >/dev/null 2>&1 || { echo "deps.sh: npm is needed for ${missing_js[*]}" >&2; exit 1; }
    echo "deps.sh: installing ${missing_js[*]} into $E2E_DIR"
    mkdir -p "$E2E_DIR"
    [[ -f "$E2E_DIR/package.json" ]] || echo '{"private":true}' >"$E2E_DIR/package.json"
    (cd "$E2E_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund "${missing_js[@]}" >/dev/null)
fi
