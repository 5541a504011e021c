#!/usr/bin/env bash
# tls_checks.sh — certificate verification cannot be switched off (issue 8
# §5): runs against an HTTPS mock with test certificates
# (test/mock/make_certs.sh), through the cluster that PGHOST/PGPORT/PGUSER
# name (tools/test's, pg_vtj preloaded), in a database of its own:
#   - the server's certificate from a CA the run does not trust (no
#     vtj.tls_ca_file, or an unrelated CA): the run fails with a TLS error;
#   - the right CA: the run works;
#   - the right CA but a host name outside the certificate: fails;
#   - plain http:// to the TLS port: fails;
#   - a server that requires a client certificate: without one, or with one
#     of another CA, fails; with the right one, works.
# (83_privileges_secrets.sql checks that no setting can disable the checks.)
# Prints TAP.

set -u
SAVED_PGHOST=${PGHOST:-}; SAVED_PGPORT=${PGPORT:-}; SAVED_PGUSER=${PGUSER:-postgres}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
export PGHOST=$SAVED_PGHOST PGPORT=$SAVED_PGPORT PGUSER=$SAVED_PGUSER

N=0
FAILED=0
ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
DB="vtj_tls_$$"
MOCKS=()
cleanup_tls() {
  for p in "${MOCKS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  vtj_cleanup
}
trap cleanup_tls EXIT

vtj_workdir
CERTS="$VTJ_WORK/certs"
"$VTJ_ROOT/test/mock/make_certs.sh" "$CERTS" || { echo "Bail out! make_certs.sh failed"; exit 1; }
chown -R postgres "$CERTS" 2>/dev/null; chmod 755 "$CERTS"

MOCK_PORT=""
start_tls_mock() {   # start_tls_mock HOST [extra args]: sets MOCK_PORT (no subshell: the PID is kept for cleanup)
  local host=$1; shift
  local pf="$VTJ_WORK/tls-$host-$#.port"
  "$VTJ_PYTHON" "$VTJ_ROOT/test/mock/vtj_mock.py" --host "$host" --port 0 --port-file "$pf" --population 10 \
      --tls-cert "$CERTS/server.crt" --tls-key "$CERTS/server.key" "$@" >>"$VTJ_WORK/tls-mock.log" 2>&1 &
  MOCKS+=($!)
  for _ in $(seq 1 100); do [ -s "$pf" ] && break; sleep 0.1; done
  MOCK_PORT=$(cat "$pf" 2>/dev/null)
}
start_tls_mock 127.0.0.1; PORT=$MOCK_PORT
start_tls_mock 127.0.0.2; PORT2=$MOCK_PORT
start_tls_mock 127.0.0.1 --client-ca "$CERTS/ca.crt"; PORT_MTLS=$MOCK_PORT
[ -n "$PORT" ] && [ -n "$PORT2" ] && [ -n "$PORT_MTLS" ] || { echo "Bail out! the TLS mocks did not start"; cat "$VTJ_WORK/tls-mock.log"; exit 1; }

"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB" >/dev/null || { echo "Bail out! cannot create $DB"; exit 1; }
"${PSQL[@]}" -d "$DB" -c "CREATE EXTENSION pg_vtj" >/dev/null
HETUS=$("$VTJ_PYTHON" "$VTJ_ROOT/test/mock/vtj_mock.py" --print-hetus 3 | sed "s/.*/'&'/" | paste -sd,)
"${PSQL[@]}" -d "$DB" -c "SELECT vtj.add_persons(ARRAY[$HETUS], 'laskutus')" >/dev/null

# run DESC EXPECT(ok|fail) PATTERN SETTINGS...: vtj.sync() with these session settings
run() {
  local desc=$1 expect=$2 pattern=$3; shift 3
  local sets="" s
  for s in "$@"; do sets+="SET $s; "; done
  local out
  out=$("${PSQL[@]}" -d "$DB" -c "SET client_min_messages = warning; ${sets}SELECT vtj.sync()" 2>&1)
  if [ "$expect" = ok ]; then
    if [[ "$out" =~ ^[0-9]+$ ]]; then ok "$desc"; else not_ok "$desc" "$out"; fi
  else
    if grep -Eq 'pg_vtj run [0-9]+ failed' <<<"$out" && grep -Eqi -- "$pattern" <<<"$out" && ! grep -q vtjpass <<<"$out"; then ok "$desc"
    else not_ok "$desc" "$out"; fi
  fi
}

run "self-signed chain, no vtj.tls_ca_file: the run fails on the certificate" fail 'certificate|SSL|TLS' \
  "vtj.base_url = 'https://localhost:$PORT/api/v1'"
run "the server's CA not trusted (another CA in vtj.tls_ca_file): fails" fail 'certificate|SSL|TLS' \
  "vtj.base_url = 'https://localhost:$PORT/api/v1'" "vtj.tls_ca_file = '$CERTS/other-ca.crt'"
run "the right CA in vtj.tls_ca_file: the run works" ok '' \
  "vtj.base_url = 'https://localhost:$PORT/api/v1'" "vtj.tls_ca_file = '$CERTS/ca.crt'"
run "the right CA, IP address in the certificate: works" ok '' \
  "vtj.base_url = 'https://127.0.0.1:$PORT/api/v1'" "vtj.tls_ca_file = '$CERTS/ca.crt'"
run "the right CA but a host name the certificate does not name (127.0.0.2): fails" fail 'certificate|SSL|TLS|match|name' \
  "vtj.base_url = 'https://127.0.0.2:$PORT2/api/v1'" "vtj.tls_ca_file = '$CERTS/ca.crt'"
run "plain http:// to the TLS port: fails" fail 'HTTP|connection|reply|protocol|recv|error' \
  "vtj.base_url = 'http://127.0.0.1:$PORT/api/v1'"
run "a server that requires a client certificate, none given: fails" fail 'certificate|SSL|TLS|alert|handshake|connection|recv' \
  "vtj.base_url = 'https://localhost:$PORT_MTLS/api/v1'" "vtj.tls_ca_file = '$CERTS/ca.crt'"
run "a client certificate of another CA: fails" fail 'certificate|SSL|TLS|alert|handshake|connection|recv' \
  "vtj.base_url = 'https://localhost:$PORT_MTLS/api/v1'" "vtj.tls_ca_file = '$CERTS/ca.crt'" \
  "vtj.tls_cert_file = '$CERTS/other-client.crt'" "vtj.tls_key_file = '$CERTS/other-client.key'"
run "the right client certificate: works" ok '' \
  "vtj.base_url = 'https://localhost:$PORT_MTLS/api/v1'" "vtj.tls_ca_file = '$CERTS/ca.crt'" \
  "vtj.tls_cert_file = '$CERTS/client.crt'" "vtj.tls_key_file = '$CERTS/client.key'"
# the trust store of the system does not contain the test CA: an empty
# vtj.tls_ca_file falls back to it, never to "no verification"
run "vtj.tls_ca_file set to an empty string: verification still on, fails" fail 'certificate|SSL|TLS' \
  "vtj.base_url = 'https://localhost:$PORT/api/v1'" "vtj.tls_ca_file = ''"
failed_runs=$("${PSQL[@]}" -d "$DB" -c "SELECT count(*) FROM vtj.run WHERE status = 'failed' AND error !~* 'vtjpass|BEGIN CERTIFICATE|PRIVATE KEY'")
if [ "$failed_runs" = 7 ]; then ok "seven failed runs recorded, their errors without credentials or key material"
else not_ok "seven failed runs recorded, their errors without credentials or key material" "$failed_runs"; fi

echo "1..$N"
[ "$FAILED" -eq 0 ]
