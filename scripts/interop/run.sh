#!/usr/bin/env bash
# Interoperability test: real Service Providers against the omakase IdP.
#
#   scripts/interop/run.sh path/to/omakase
#
# Starts the IdP on a free loopback port with a throw-away data dir, then
#   - a Shibboleth SP 3 (Apache + mod_shib + shibd, private config and ports)
#   - a pysaml2 SP (in-process)
# and checks that both accept the IdP's signed assertions, SP-initiated
# (HTTP-Redirect and HTTP-POST AuthnRequests) and IdP-initiated. With
# Chromium and playwright-core (deps.sh), also the admin console and a TOTP
# enrolment followed by a login with a code, in a real browser.
# Needs scripts/interop/deps.sh to have run. Exits 1 if any check fails.
#
# Environment:
#   OMAKASE_INTEROP_VENV  Python venv with pysaml2 + requests
#                         (default: ~/.cache/omakase-interop/venv)
#   OMAKASE_INTEROP_KEEP  set to 1 to keep the temp dir (logs, configs)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PATH="$PATH:/usr/sbin:/sbin"
VENV="${OMAKASE_INTEROP_VENV:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/omakase-interop/venv}"
PY="$VENV/bin/python"

RESULTS=""

# The closing line; a run that stops early counts as at least one failure.
summary() {
    local passed=0 failed=0
    if [[ -n "$RESULTS" && -f "$RESULTS" ]]; then
        passed="$(grep -c '^PASS' "$RESULTS" || true)"
        failed="$(grep -c '^FAIL' "$RESULTS" || true)"
    fi
    if [[ "${1:-}" == early && "$failed" -eq 0 ]]; then failed=1; fi
    echo "interop: $passed passed, $failed failed"
}

die() {
    echo "interop: $*" >&2
    summary early
    exit 1
}

[[ $# -eq 1 ]] || { echo "usage: $0 OMAKASE_BINARY" >&2; exit 2; }
[[ -x "$1" && -f "$1" ]] || die "binary '$1' not found or not executable"
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"

[[ -x "$PY" ]] || die "no Python venv at $VENV; run scripts/interop/deps.sh"
"$PY" -c 'import saml2, requests' 2>/dev/null || die "pysaml2/requests missing in $VENV; run scripts/interop/deps.sh"
for tool in apache2 shibd xmlsec1 openssl; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run scripts/interop/deps.sh"
done
[[ -f /usr/lib/apache2/modules/mod_shib.so ]] || die "mod_shib not installed; run scripts/interop/deps.sh"

WORK="$(mktemp -d /tmp/omakase-interop.XXXXXX)"
# Run from the temp dir so that no omakase.toml in the caller's directory is read.
cd "$WORK"
RESULTS="$WORK/results"
PIDFILE="$WORK/pids"
LOGS="$WORK/logs"
mkdir -p "$LOGS" "$WORK/run"
: >"$RESULTS"
: >"$PIDFILE"
export INTEROP_RESULTS="$RESULTS"
export PYTHONDONTWRITEBYTECODE=1

cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    if [[ -s "$PIDFILE" ]]; then
        while read -r pid; do
            kill -TERM "$pid" 2>/dev/null || true
        done <"$PIDFILE"
        for _ in $(seq 50); do
            local alive=0
            while read -r pid; do
                kill -0 "$pid" 2>/dev/null && alive=1
            done <"$PIDFILE"
            [[ $alive -eq 0 ]] && break
            sleep 0.1
        done
        while read -r pid; do
            kill -KILL "$pid" 2>/dev/null || true
        done <"$PIDFILE"
    fi
    if [[ "${OMAKASE_INTEROP_KEEP:-}" == 1 ]]; then
        echo "interop: kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start a background process, remember its pid for cleanup.
spawn() {
    local log="$1"
    shift
    "$@" >"$log" 2>&1 &
    echo $! >>"$PIDFILE"
    echo $!
}

record() { printf '%s\t%s\n' "$1" "$2" >>"$RESULTS"; echo "$1 $2"; }

# Run a Python driver that records its own checks; if it dies without
# recording a failure (a crash, a missing module), record one for it.
run_driver() { # PREFIX COMMAND...
    local prefix="$1" before after rc=0
    shift
    before="$(grep -c "^FAIL"$'\t'"$prefix:" "$RESULTS" || true)"
    "$@" || rc=$?
    after="$(grep -c "^FAIL"$'\t'"$prefix:" "$RESULTS" || true)"
    if [[ $rc -ne 0 && "$after" -eq "$before" ]]; then
        record FAIL "$prefix: driver $(basename -- "${2:-$1}") exited with status $rc"
    fi
    return 0
}

show_tail() {
    local file="$1" n="${2:-40}"
    [[ -s "$file" ]] || return 0
    echo "    --- $file (last $n lines) ---"
    tail -n "$n" "$file" | sed 's/^/    /'
}

free_ports() {
    "$PY" - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

wait_http() { # URL SECONDS PID: wait until URL answers 200 while PID lives
    local url="$1" secs="$2" pid="$3"
    "$PY" - "$url" "$secs" "$pid" <<'EOF'
import os, sys, time, urllib.request
url, secs, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + secs
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        print(f"process {pid} exited", file=sys.stderr)
        sys.exit(1)
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.2)
print(f"{url} did not answer 200 within {secs:.0f}s", file=sys.stderr)
sys.exit(1)
EOF
}

read -r IDP_PORT SP_PORT PY_PORT <<<"$(free_ports 3)"
IDP_BASE="http://127.0.0.1:$IDP_PORT"
IDP_ENTITY_ID="$IDP_BASE/saml/metadata"
TEST_USER=taro
TEST_EMAIL=taro@example.com
TEST_NAME='山田 太郎'
TOTP_USER=hanako
PASSWORD_FILE="$WORK/password"
# No trailing newline: the file is fed as is to `user add --password-stdin`.
"$PY" -c 'import secrets, sys; sys.stdout.write("Interop-" + secrets.token_urlsafe(18))' >"$PASSWORD_FILE"
chmod 600 "$PASSWORD_FILE"

export OMAKASE_LISTEN="127.0.0.1:$IDP_PORT"
export OMAKASE_BASE_URL="$IDP_BASE"
export OMAKASE_DATA_DIR="$WORK/idp"
mkdir -p "$OMAKASE_DATA_DIR"
chmod 700 "$OMAKASE_DATA_DIR"
echo "interop: work dir $WORK"
echo "interop: IdP $IDP_BASE, Shibboleth SP on port $SP_PORT"

# ---------------------------------------------------------------- IdP ---
IDP_LOG="$LOGS/idp.log"
IDP_PID="$(NO_COLOR=1 spawn "$IDP_LOG" "$BIN" serve)"
if wait_http "$IDP_BASE/healthz" 30 "$IDP_PID"; then
    record PASS "idp: serve starts and /healthz answers"
else
    record FAIL "idp: serve starts and /healthz answers"
    show_tail "$IDP_LOG"
    die "the IdP did not start"
fi

idp_setup() {
    "$PY" - "$IDP_ENTITY_ID" "$WORK/idp-metadata.xml" <<'EOF'
import sys, urllib.request
import xml.etree.ElementTree as ET
url, out = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(url, timeout=10) as r:
    body = r.read()
root = ET.fromstring(body)
md = "{urn:oasis:names:tc:SAML:2.0:metadata}"
if root.tag != md + "EntityDescriptor":
    sys.exit(f"IdP metadata root is {root.tag}")
if root.get("entityID") != url:
    sys.exit(f"IdP metadata entityID {root.get('entityID')!r} != {url!r}")
if root.find(md + "IDPSSODescriptor") is None:
    sys.exit("IdP metadata has no IDPSSODescriptor")
open(out, "wb").write(body)
EOF
    "$BIN" user add "$TEST_USER" --password-stdin --email "$TEST_EMAIL" --name "$TEST_NAME" \
        <"$PASSWORD_FILE" >>"$LOGS/cli.log" 2>&1
    "$BIN" user add interop-admin --role admin --password-stdin --name 'Interop Admin' \
        <"$PASSWORD_FILE" >>"$LOGS/cli.log" 2>&1
    # Sets up an authenticator app in browser_totp.js.
    "$BIN" user add "$TOTP_USER" --password-stdin --email hanako@example.com --name '鈴木 花子' \
        <"$PASSWORD_FILE" >>"$LOGS/cli.log" 2>&1
}

if idp_setup; then
    record PASS "idp: metadata downloaded, test user created"
else
    record FAIL "idp: metadata downloaded, test user created"
    show_tail "$LOGS/cli.log" 20
    show_tail "$IDP_LOG"
    die "IdP setup failed"
fi

# Register an SP's metadata file with the IdP and give the test user access.
register_sp() { # FILE NAME EXPECTED_ENTITY_ID [EXTRA sp import ARGS...]
    local out entity
    out="$("$BIN" sp import "$1" --name "$2" "${@:4}" 2>>"$LOGS/cli.log")" || {
        echo "'sp import $1' failed" >&2
        return 1
    }
    entity="$(printf '%s\n' "$out" | tail -n 1 | tr -d '\r')"
    if [[ "$entity" != "$3" ]]; then
        echo "'sp import' printed entity ID '$entity', expected '$3'" >&2
        return 1
    fi
    "$BIN" sp assign "$entity" "$TEST_USER" >>"$LOGS/cli.log" 2>&1 || {
        echo "'sp assign $entity $TEST_USER' failed" >&2
        return 1
    }
}

# ---------------------------------------------------------- Shibboleth ---
E2E_DIR="${OMAKASE_E2E_DIR:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/omakase-e2e}"
browser_available() {
    [[ -x /usr/bin/chromium && -d "$E2E_DIR/node_modules/playwright-core" ]] && command -v node >/dev/null 2>&1
}

shib_section() {
    set -e
    trap 'echo "shibboleth setup failed at line $LINENO: $BASH_COMMAND" >&2' ERR
    local sp_base="http://127.0.0.1:$SP_PORT" sp_entity="http://127.0.0.1:$SP_PORT/shibboleth"
    local shib="$WORK/shib" runuser rungroup f
    mkdir -p "$shib" "$WORK/apache" "$WORK/htdocs/secure"
    echo '<!doctype html><title>home</title><p>home</p>' >"$WORK/htdocs/index.html"
    echo '<!doctype html><title>secure</title><p>secure-ok</p>' >"$WORK/htdocs/secure/index.html"
    cp "$WORK/idp-metadata.xml" "$shib/idp-metadata.xml"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -keyout "$shib/sp-key.pem" -out "$shib/sp-cert.pem" >/dev/null 2>&1

    if [[ $EUID -eq 0 ]]; then runuser=www-data; rungroup=www-data; else runuser="$(id -un)"; rungroup="$(id -gn)"; fi
    for f in shibboleth2.xml.in:shib/shibboleth2.xml shibd.logger.in:shib/shibd.logger \
        native.logger.in:shib/native.logger httpd.conf.in:apache/httpd.conf \
        attribute-map.xml:shib/attribute-map.xml attribute-policy.xml:shib/attribute-policy.xml; do
        "$PY" "$HERE/render.py" "$HERE/shibboleth/${f%%:*}" "$WORK/${f##*:}" \
            WORK="$WORK" SPPORT="$SP_PORT" SP_ENTITY_ID="$sp_entity" IDP_ENTITY_ID="$IDP_ENTITY_ID" \
            CONFDIR=/etc/shibboleth RUNUSER="$runuser" RUNGROUP="$rungroup"
    done
    # Apache's children run as $runuser: they read the config and write native.log.
    chmod 755 "$WORK"
    chmod -R a+rX "$shib" "$WORK/apache" "$WORK/htdocs"
    chmod 640 "$shib/sp-key.pem"
    chgrp "$rungroup" "$shib/sp-key.pem"
    touch "$LOGS/native.log"
    chown "$runuser:$rungroup" "$LOGS/native.log"
    chmod 755 "$LOGS" "$WORK/run"

    # Keep the SP library's bootstrap logging and default dirs out of /var.
    export SHIBSP_LOGDIR="$LOGS" SHIBSP_RUNDIR="$WORK/run" SHIBSP_CACHEDIR="$WORK/run"

    echo "shibboleth: starting shibd"
    local shibd_pid
    shibd_pid="$(SHIBSP_LOGGING="$shib/shibd.logger" spawn "$LOGS/shibd.out" shibd -F -f -c "$shib/shibboleth2.xml" -p "$WORK/run/shibd.pid")"
    for _ in $(seq 150); do
        [[ -S "$WORK/run/shibd.sock" ]] && break
        kill -0 "$shibd_pid" 2>/dev/null || { echo "shibd exited" >&2; return 1; }
        sleep 0.2
    done
    [[ -S "$WORK/run/shibd.sock" ]] || { echo "shibd did not open its socket" >&2; return 1; }

    echo "shibboleth: starting apache2 on 127.0.0.1:$SP_PORT"
    export SHIBSP_LOGGING="$shib/native.logger"
    apache2 -t -f "$WORK/apache/httpd.conf" >"$LOGS/apache-configtest.log" 2>&1 || {
        cat "$LOGS/apache-configtest.log" >&2
        return 1
    }
    local apache_pid
    apache_pid="$(spawn "$LOGS/apache.out" apache2 -f "$WORK/apache/httpd.conf" -DFOREGROUND)"
    wait_http "$sp_base/Shibboleth.sso/Metadata" 30 "$apache_pid"
    "$PY" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=10).read())' \
        "$sp_base/Shibboleth.sso/Metadata" >"$WORK/shibboleth-sp-metadata.xml"

    if browser_available; then
        echo "shibboleth: an admin registers the SP in Chromium; the user signs in through its tile"
        local out
        out="$(NODE_PATH="$E2E_DIR/node_modules" node "$HERE/browser_admin.js" "$IDP_BASE" "$sp_base" "$WORK/shibboleth-sp-metadata.xml" \
            interop-admin "$PASSWORD_FILE" "$TEST_USER" "$PASSWORD_FILE" "$TEST_EMAIL" "$TEST_NAME" 2>&1)" || true
        printf '%s\n' "$out" | grep -E $'^(PASS|FAIL)\t' >>"$RESULTS" || true
        printf '%s\n' "$out"
        grep -q $'^PASS\tbrowser: the user signs in' <<<"$out" || record FAIL "browser: admin registration and tile sign-in"
    elif [[ "${OMAKASE_REQUIRE_BROWSER:-}" == 1 ]]; then
        record FAIL "browser: chromium and playwright-core are required (OMAKASE_REQUIRE_BROWSER=1) but missing"
    fi
    echo "shibboleth: registering the SP with the IdP (command line)"
    register_sp "$WORK/shibboleth-sp-metadata.xml" "Shibboleth SP" "$sp_entity"

    echo "shibboleth: running the browser flows"
    run_driver shibboleth "$PY" "$HERE/shib_check.py" --sp-base "$sp_base" --sp-entity-id "$sp_entity" \
        --idp-base "$IDP_BASE" --username "$TEST_USER" --password-file "$PASSWORD_FILE" \
        --email "$TEST_EMAIL" --name "$TEST_NAME" --logs "$LOGS"
}

# ------------------------------------------------------------- pysaml2 ---
pysaml2_section() {
    set -e
    trap 'echo "pysaml2 setup failed at line $LINENO: $BASH_COMMAND" >&2' ERR
    local dir="$WORK/pysaml2" entity="http://127.0.0.1:$PY_PORT/sp" acs="http://127.0.0.1:$PY_PORT/acs"
    local p_entity="http://127.0.0.1:$PY_PORT/sp-persistent" p_acs="http://127.0.0.1:$PY_PORT/acs-persistent"
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pysaml2 interop SP" \
        -keyout "$dir/sp-key.pem" -out "$dir/sp-cert.pem" >/dev/null 2>&1
    "$PY" "$HERE/pysaml2_sp.py" metadata --work "$dir" --entity-id "$entity" --acs "$acs" \
        --out "$dir/sp-metadata.xml" >/dev/null
    # A second SP (same software, own entity ID) registered for persistent NameIDs.
    "$PY" "$HERE/pysaml2_sp.py" metadata --work "$dir" --entity-id "$p_entity" --acs "$p_acs" \
        --nameid-format persistent --out "$dir/sp-persistent-metadata.xml" >/dev/null
    echo "pysaml2: registering the SPs with the IdP"
    register_sp "$dir/sp-metadata.xml" "pysaml2 SP" "$entity"
    register_sp "$dir/sp-persistent-metadata.xml" "pysaml2 SP (persistent)" "$p_entity" --nameid-format persistent
    echo "pysaml2: running the flows"
    run_driver pysaml2 "$PY" "$HERE/pysaml2_sp.py" check --work "$dir" --entity-id "$entity" --acs "$acs" \
        --idp-metadata "$WORK/idp-metadata.xml" --idp-base "$IDP_BASE" \
        --username "$TEST_USER" --password-file "$PASSWORD_FILE" \
        --email "$TEST_EMAIL" --name "$TEST_NAME" \
        --persistent-entity-id "$p_entity" --persistent-acs "$p_acs"
}

# Each section runs in a subshell with `set -e` in force; a setup step that
# fails ends the section, is recorded as a failed check and shows the logs.
set +e
(shib_section)
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
    record FAIL "shibboleth: SP setup (shibd, apache2, metadata import)"
    show_tail "$LOGS/shibd.out" 20
    show_tail "$LOGS/shibd.log" 40
    show_tail "$LOGS/apache-error.log" 20
    show_tail "$LOGS/apache.out" 20
    show_tail "$LOGS/cli.log" 20
fi

set +e
(pysaml2_section)
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
    record FAIL "pysaml2: SP setup (metadata, import)"
    show_tail "$LOGS/cli.log" 20
fi

# ---------------------------------------------------------------- TOTP ---
if browser_available; then
    echo "totp: $TOTP_USER sets up an authenticator app in Chromium and signs in with a code (up to a minute)"
    out="$(NODE_PATH="$E2E_DIR/node_modules" node "$HERE/browser_totp.js" "$IDP_BASE" "$TOTP_USER" "$PASSWORD_FILE" 2>&1)" || true
    printf '%s\n' "$out" | grep -E $'^(PASS|FAIL)\t' >>"$RESULTS" || true
    printf '%s\n' "$out"
    if ! grep -q $'^PASS\tbrowser totp: the code just used' <<<"$out" && ! grep -q $'^FAIL\t' <<<"$out"; then
        record FAIL "browser totp: browser_totp.js ended without a result (pngjs/jsqr missing? run deps.sh)"
    fi
elif [[ "${OMAKASE_REQUIRE_BROWSER:-}" == 1 ]]; then
    record FAIL "browser totp: chromium and playwright-core are required (OMAKASE_REQUIRE_BROWSER=1) but missing"
fi

if kill -0 "$IDP_PID" 2>/dev/null; then
    record PASS "idp: still running after all flows"
else
    record FAIL "idp: still running after all flows"
fi

if grep -q '^FAIL' "$RESULTS"; then
    echo
    echo "failed checks:"
    grep '^FAIL' "$RESULTS" | cut -f2 | sed 's/^/  - /'
    show_tail "$IDP_LOG" 30
    summary
    exit 1
fi
summary
