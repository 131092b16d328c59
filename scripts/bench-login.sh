#!/usr/bin/env bash
# Login timing on the real release binary over a temporary SQLite file:
# the answer to a wrong password for an existing user and to an unknown
# user name must take the same time (no user enumeration by timing);
# also the time of a successful password login, and of a signed-in tile
# click (IdP-initiated SSO: access and second-factor checks, signing).
#
#   scripts/bench-login.sh [ROUNDS]     (default 150 of each, interleaved)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
apt_install "${BUILD_PACKAGES[@]}"
require_cargo
cargo build --locked --release --quiet
ROUNDS="${1:-150}"
WORK="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export OMAKASE_DATA_DIR="$WORK" OMAKASE_LISTEN="127.0.0.1:$PORT" OMAKASE_BASE_URL="http://127.0.0.1:$PORT"
# Neither the lock nor the throttle may step in during the measurement.
export OMAKASE_LOCKOUT_THRESHOLD=100 OMAKASE_LOGIN_IP_MAX_FAILURES=1000000 OMAKASE_LOG=warn
BIN="$PWD/target/release/omakase"
(cd "$WORK" && "$BIN" serve >"$WORK/serve.log" 2>&1) &
PID=$!
python3 - "$PORT" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2); break
    except OSError:
        time.sleep(0.1)
PY
for i in 1 2 3 4; do
    printf '%s' 'bench-password-123' | (cd "$WORK" && "$BIN" user add "bench$i" --password-stdin --email "bench$i@example.com" >/dev/null)
done
(cd "$WORK" && "$BIN" sp import "$OLDPWD/metadata/pysaml2-sp.xml" >/dev/null && "$BIN" sp assign https://app.example.org/saml2/metadata --all-users >/dev/null)
python3 - "$PORT" "$ROUNDS" <<'PY'
import http.client, statistics, sys, time, urllib.parse
port, rounds = int(sys.argv[1]), int(sys.argv[2])
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5); c.request("GET", "/healthz")
        if c.getresponse().status == 200: break
    except OSError: time.sleep(0.1)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c.request("GET", "/login"); r = c.getresponse(); body = r.read().decode()
cookie = r.getheader("Set-Cookie").split(";")[0]
token = body.split('name="csrf_token" value="')[1].split('"')[0]
def login(user, pw):
    form = urllib.parse.urlencode({"username": user, "password": pw, "csrf_token": token, "next": "/"})
    t = time.perf_counter()
    c.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
    r = c.getresponse(); r.read()
    return time.perf_counter() - t, r.status
cases = {"wrong password (existing user)": [], "unknown user name": [], "right password": []}
for i in range(rounds):
    u = f"bench{i % 4 + 1}"
    for name, (user, pw) in {"wrong password (existing user)": (u, "not-the-password"),
                             "unknown user name": (f"ghost{i}", "not-the-password"),
                             "right password": (u, "bench-password-123")}.items():
        dt, status = login(user, pw)
        assert status in (303, 401), (name, status)
        cases[name].append(dt * 1000)
for name, xs in cases.items():
    xs.sort()
    print(f"{name:32s} median {statistics.median(xs):6.2f} ms  p90 {xs[int(len(xs)*0.9)]:6.2f} ms  (n={len(xs)})")
w = statistics.median(cases["wrong password (existing user)"]); u = statistics.median(cases["unknown user name"])
print(f"difference of the medians: {abs(w-u):.2f} ms ({abs(w-u)/w*100:.1f} %)")
form = urllib.parse.urlencode({"username": "bench1", "password": "bench-password-123", "csrf_token": token, "next": "/"})
c.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})
r = c.getresponse(); r.read()
session = [h.split(";")[0] for k, h in r.getheaders() if k.lower() == "set-cookie" and h.startswith("omakase_session=")][0]
xs = []
for _ in range(rounds * 2):
    t = time.perf_counter()
    c.request("GET", "/saml/idp-init?sp=https%3A%2F%2Fapp.example.org%2Fsaml2%2Fmetadata", headers={"Cookie": f"{cookie}; {session}"})
    r = c.getresponse(); body = r.read()
    xs.append((time.perf_counter() - t) * 1000)
    assert r.status == 200 and b"SAMLResponse" in body, r.status
xs.sort()
print(f"{'tile click (signed response)':32s} median {statistics.median(xs):6.2f} ms  p90 {xs[int(len(xs)*0.9)]:6.2f} ms  (n={len(xs)})")
PY
