#!/bin/bash
# governance_checks.sh — the privacy and governance checks that need more than
# one database, a cluster of their own or the repository's files
# (product.md §8, §9; issue 9). Prints TAP; exits non-zero when a check fails.
#
#   1. the repository: the README passes hetus only through vtj.import (COPY)
#      and holds no hetu literal;
#   2. the server log (a throwaway cluster of its own, pg_vtj preloaded,
#      log_statement = 'all', log_min_duration_statement = 0, bind parameters
#      logged, also on error): after registering, failing to register,
#      PostgreSQL's own errors, bind parameters (pgbench, extended and
#      prepared protocol), PREPARE/EXECUTE, COPY errors, querying persons and
#      a sync, no hetu is in the log; with vtj.log_redact = off they are (so
#      the check can fail), except in the errors pg_vtj raises itself, which
#      never log their statement;
#   3. backups: a register with base data, changes, a hetu HMAC admin log,
#      purposes, reader limits, a turvakielto rule and pending imports is
#      dumped (pg_dump -Fc) from the cluster PGHOST/PGPORT name and restored
#      into a fresh database there and into the fresh cluster of (2) (roles
#      first, with pg_dumpall --roles-only); every table, sequence and view
#      compares equal, seeded rows are not duplicated, and both copies refuse
#      to fetch until vtj.adopt_instance().
#
# Runs against the cluster PGHOST/PGPORT/PGUSER name (with pg_vtj installed
# and its vtj.base_url pointing at the mock of VTJ_MOCK_URL, as tools/test
# sets up), as a superuser, and starts a second cluster of its own with
# test/harness/lib.sh. Only test hetus (individual number 900-999).

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
S_PGHOST=${PGHOST:-}
S_PGPORT=${PGPORT:-5432}
S_PGUSER=${PGUSER:-postgres}
MOCK_URL=${VTJ_MOCK_URL:-}

# shellcheck source=lib.sh
. "$HERE/lib.sh"     # resets PGHOST/PGPORT; installs vtj_cleanup on EXIT
PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
SUFFIX=$$
N=0
FAILED=0

ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check()  { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; return 1; fi; }

# the shared cluster (S) and the own cluster (O)
s_sql() { local db=$1; shift; PGHOST=$S_PGHOST PGPORT=$S_PGPORT PGUSER=$S_PGUSER "${PSQL[@]}" -d "$db" "$@"; }
s_q()   { s_sql "$1" -c "$2" 2>&1; }
o_sql() { local db=$1; shift; PGHOST=$O_PGHOST PGPORT=$O_PGPORT PGUSER=postgres "${PSQL[@]}" -d "$db" "$@"; }
o_q()   { o_sql "$1" -c "$2" 2>&1; }

HETU_RE='(^|[^0-9A-Za-z])[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-FHJ-NPR-Ya-fhj-npr-y]([^0-9A-Za-z]|$)'

cleanup() {
  local db
  for db in $(s_q postgres "SELECT datname FROM pg_database WHERE datname LIKE 'vtj\_gc\_%\_${SUFFIX}'" 2>/dev/null); do
    s_sql postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  s_sql postgres -c "DROP ROLE IF EXISTS vtj_gc_water_${SUFFIX}" >/dev/null 2>&1
  [ -n "$MOCK_URL" ] && curl -sS -X POST "$MOCK_URL/_mock/reset" >/dev/null 2>&1
  vtj_cleanup
}
trap cleanup EXIT

echo "# pg_vtj governance checks against ${S_PGHOST:-default}:${S_PGPORT}"

# =============================================================================
# 1. the repository
# =============================================================================
readme="$ROOT/README.md"
if grep -nE "$HETU_RE" "$readme" >/dev/null; then
  not_ok "the README holds no hetu literal" "$(grep -nE "$HETU_RE" "$readme" | head -3 | cut -c1-60)"
else
  ok "the README holds no hetu literal"
fi
check "the README registers persons with \\copy vtj.import and vtj.import_persons" \
  grep -q "^\\\\copy vtj.import (hetu, customer_ref) FROM 'asiakkaat.csv' CSV" "$readme"
check "... then SELECT vtj.import_persons('laskutus')" grep -q "^SELECT vtj.import_persons('laskutus');" "$readme"


# =============================================================================
# 2. the server log, in a cluster of its own
# =============================================================================
if [ -z "$MOCK_URL" ]; then
  vtj_start_mock >/dev/null 2>&1 || { echo "Bail out! cannot start the mock VTJ server"; exit 1; }
  MOCK_URL=$VTJ_MOCK_URL
fi
vtj_workdir   # so that $VTJ_WORK below is the cluster's directory
vtj_start_cluster \
  "shared_preload_libraries = 'pg_vtj'" \
  "log_statement = 'all'" \
  "log_min_duration_statement = 0" \
  "log_parameter_max_length = -1" \
  "log_parameter_max_length_on_error = -1" \
  "vtj.base_url = '$MOCK_URL/api/v1'" \
  "vtj.xroad_client = 'FI/MUN/0123456-7/vtj-test'" \
  "vtj.username = 'vtjuser'" \
  "vtj.password_file = '$VTJ_WORK/vtj-password'" \
  "vtj.http_timeout_ms = 5000" \
  2>/dev/null || { echo "Bail out! cannot start a cluster"; exit 1; }
O_PGHOST=$PGHOST O_PGPORT=$PGPORT
LOG="$VTJ_WORK/postgres.log"
printf 'vtjpass\n' >"$VTJ_WORK/vtj-password"
chown postgres:postgres "$VTJ_WORK/vtj-password"; chmod 600 "$VTJ_WORK/vtj-password"
mock() {  # mock METHOD PATH [JSON]
  if [ $# -ge 3 ]; then curl -sS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$MOCK_URL$2"
  else curl -sS -X "$1" "$MOCK_URL$2"; fi
}

# test hetus: 20 for the redacted phase (the first 6 are in the mock's
# population), 10 for the phase without redaction
"$VTJ_PYTHON" "$ROOT/test/mock/vtj_mock.py" --print-hetus 30 >"$VTJ_WORK/hetus.txt"
mapfile -t H <"$VTJ_WORK/hetus.txt"
check "30 test hetus" test "${#H[@]}" -eq 30
head -20 "$VTJ_WORK/hetus.txt" >"$VTJ_WORK/hetus_redacted.txt"
tail -10 "$VTJ_WORK/hetus.txt" >"$VTJ_WORK/hetus_plain.txt"

o_sql postgres -c "CREATE DATABASE logtest" >/dev/null
o_sql logtest -c "CREATE EXTENSION pg_vtj" >/dev/null
mock POST /_mock/reset >/dev/null
mock POST /_mock/population '{"size": 6}' >/dev/null
log_start=$(stat -c %s "$LOG")

# --- phase 1: vtj.log_redact = on (the default) ---
O() { o_sql logtest "$@" >/dev/null 2>&1; }   # failures are expected for some
O -c "SELECT vtj.add_person('${H[0]}', 'laskutus', 'c-0')"
O -c "SELECT vtj.add_persons(ARRAY['${H[1]}', '${H[2]}', '${H[3]}'], 'vesilaitos', ARRAY['v-1', 'v-2', 'v-3'])"
O -c "SELECT vtj.add_person('${H[4]}', 'tyontekija')"                      # pg_vtj's own error
O -c "SELECT vtj.add_persons(ARRAY['${H[5]}', 'not a hetu'], 'laskutus')"  # invalid element
O -c "SELECT vtj.remove_person('${H[6]}', 'no_such_purpose')"
O -c "SELECT '${H[7]}'::integer"                                           # PostgreSQL's own error
O -c "CREATE TEMP TABLE t (h text PRIMARY KEY); INSERT INTO t VALUES ('${H[8]}'), ('${H[8]}')"   # key in DETAIL
O -c "DO \$\$BEGIN RAISE WARNING 'checking %', '${H[9]}'; RAISE EXCEPTION 'failed for %', '${H[9]}'; END\$\$"
O -c "PREPARE p(text) AS SELECT vtj.hetu_valid(\$1); EXECUTE p('${H[10]}')"
O -c "SELECT * FROM vtj.persons WHERE hetu = '${H[0]}'"
O -c "SELECT vtj.load_base(ARRAY['${H[11]}'])"                             # not registered: refused in C++
printf '%s,x,extra\n' "${H[12]}" >"$VTJ_WORK/bad.csv"
O -c "\\copy vtj.import (hetu, customer_ref) FROM '$VTJ_WORK/bad.csv' CSV"  # COPY error names the line in CONTEXT
printf '%s,i-1\n%s,i-2\n' "${H[13]}" "${H[14]}" >"$VTJ_WORK/ok.csv"
O -c "\\copy vtj.import (hetu, customer_ref) FROM '$VTJ_WORK/ok.csv' CSV"
O -c "SELECT vtj.import_persons('laskutus')"
# bind parameters: extended and prepared protocol, success and failure
cat >"$VTJ_WORK/bind.sql" <<'SQL'
SELECT vtj.hetu_valid(:h);
SELECT vtj.add_person(:h, 'asiakasrekisteri');
SQL
cat >"$VTJ_WORK/bind_fail.sql" <<'SQL'
SELECT (:h)::integer;
SQL
for mode in extended prepared; do
  PGHOST=$O_PGHOST PGPORT=$O_PGPORT PGUSER=postgres "$PG_BIN/pgbench" -n -t 1 -M $mode -D h="${H[15]}" -f "$VTJ_WORK/bind.sql" logtest >/dev/null 2>&1
  PGHOST=$O_PGHOST PGPORT=$O_PGPORT PGUSER=postgres "$PG_BIN/pgbench" -n -t 1 -M $mode -D h="${H[16]}" -f "$VTJ_WORK/bind_fail.sql" logtest >/dev/null 2>&1
done
# a sync against the mock (the first six hetus are in its population)
O -c "SELECT vtj.sync()"
O -c "SELECT vtj.refresh_person('${H[0]}')"
O -c "SELECT vtj.remove_person('${H[1]}')"
sleep 0.5   # the log is written by the server processes; let the last lines land
log_mid=$(stat -c %s "$LOG")
tail -c +$((log_start + 1)) "$LOG" | head -c $((log_mid - log_start)) >"$VTJ_WORK/log_redacted.txt"

check "phase 1 logged statements (log_statement = all)" grep -q "statement: SELECT vtj.add_person('\[hetu\]', 'laskutus', 'c-0')" "$VTJ_WORK/log_redacted.txt"
check "... bind parameters" grep -q "parameters: \$1 = '\[hetu\]'" "$VTJ_WORK/log_redacted.txt"
check "... PostgreSQL's own errors" grep -q 'invalid input syntax for type integer: "\[hetu\]"' "$VTJ_WORK/log_redacted.txt"
check "... key values in DETAIL" grep -q 'Key (h)=(\[hetu\]) already exists' "$VTJ_WORK/log_redacted.txt"
check "... COPY lines in CONTEXT" grep -q 'COPY import, line 1: "\[hetu\],x,extra"' "$VTJ_WORK/log_redacted.txt"
check "... durations" grep -q "duration: .* ms" "$VTJ_WORK/log_redacted.txt"
check "... a run" grep -q "pg_vtj.*run" "$VTJ_WORK/log_redacted.txt"
found=$(grep -c -F -f "$VTJ_WORK/hetus_redacted.txt" "$VTJ_WORK/log_redacted.txt")
if [ "$found" = 0 ]; then ok "with vtj.log_redact = on no test hetu is in the server log"
else not_ok "with vtj.log_redact = on no test hetu is in the server log" "$found lines contain one; e.g.:" \
       "$(grep -F -f "$VTJ_WORK/hetus_redacted.txt" "$VTJ_WORK/log_redacted.txt" | head -3 | sed -E 's/[0-9]{6}[-+A-FU-Y][0-9]{3}./<HETU>/g')"; fi
found=$(grep -cE "$HETU_RE" "$VTJ_WORK/log_redacted.txt")
check "... nor any other hetu-shaped token (the sync's persons included)" test "$found" = 0
found=$(grep -c 'STATEMENT:.*\[hetu\]' "$VTJ_WORK/log_redacted.txt")
check "... and no STATEMENT line of a statement that held one (hidden, not merely redacted)" test "$found" = 0
check "... while other statements keep theirs" grep -qE "STATEMENT:  COPY +vtj.import" "$VTJ_WORK/log_redacted.txt"

# --- phase 2: vtj.log_redact = off ---
P() { PGOPTIONS="-c vtj.log_redact=off $*" o_sql logtest -c "$SQL" >/dev/null 2>&1; }
SQL="SELECT vtj.add_person('${H[20]}', 'laskutus')"; P
SQL="SELECT '${H[21]}'::integer"; P
# without log_statement and durations the only place a statement could
# appear is an error's STATEMENT line: pg_vtj's own errors never log it
NOSTMT="-c log_statement=none -c log_min_duration_statement=-1"
SQL="SELECT vtj.add_person('${H[22]}', 'tyontekija')"; P "$NOSTMT"
SQL="SELECT vtj.add_persons(ARRAY['${H[23]}'], 'no_such_purpose')"; P "$NOSTMT"
SQL="SELECT vtj.remove_person('${H[24]}', 'no_such_purpose')"; P "$NOSTMT"
SQL="SELECT vtj.load_base(ARRAY['${H[25]}'])"; P "$NOSTMT"
SQL="SELECT vtj.refresh_person('${H[26]}')"; P "$NOSTMT"
SQL="SELECT * FROM vtj.admin_log_for('${H[27]}')"; P "$NOSTMT"
SQL="SELECT '${H[28]}'::integer"; P "$NOSTMT"
sleep 0.5
tail -c +$((log_mid + 1)) "$LOG" >"$VTJ_WORK/log_plain.txt"
check "with vtj.log_redact = off a statement's hetu is in the log (the check can fail)" grep -q -F "${H[20]}" "$VTJ_WORK/log_plain.txt"
check "... and a PostgreSQL error's" grep -q -F "${H[21]}" "$VTJ_WORK/log_plain.txt"
check "... also without log_statement (the error and its STATEMENT line)" \
  test "$(grep -c -F "${H[28]}" "$VTJ_WORK/log_plain.txt")" -ge 2
leaked=""
for i in 22 23 24 25 26 27; do grep -q -F "${H[$i]}" "$VTJ_WORK/log_plain.txt" && leaked="$leaked $i"; done
if [ -z "$leaked" ]; then ok "pg_vtj's own errors (add_person, add_persons, remove_person, load_base, refresh_person, admin_log_for) log no STATEMENT, even without the hook"
else not_ok "pg_vtj's own errors log no STATEMENT, even without the hook" "leaked by call number:$leaked"; fi
check "... yet the errors themselves are logged" grep -q 'purpose "tyontekija" is not allowed' "$VTJ_WORK/log_plain.txt"

# =============================================================================
# 3. backups: dump, restore into a fresh database and a fresh cluster, compare
# =============================================================================
src="vtj_gc_src_${SUFFIX}"; dsta="vtj_gc_dsta_${SUFFIX}"
keyfile="$VTJ_WORK/hmac.key"
printf 'governance check key\n' >"$keyfile"; chown postgres:postgres "$keyfile"; chmod 600 "$keyfile"
"$VTJ_PYTHON" "$ROOT/test/mock/vtj_mock.py" --print-hetus 40 --offset 100 >"$VTJ_WORK/pop.txt"
head -30 "$VTJ_WORK/pop.txt" | awk '{printf "%s,asiakas-%d\n", $0, NR}' >"$VTJ_WORK/register.csv"
mock POST /_mock/reset >/dev/null
mock POST /_mock/population '{"size": 140}' >/dev/null
mock POST /_mock/changes/generate '{"count": 120, "pages": 2, "seed": 9}' >/dev/null

s_sql postgres -c "CREATE DATABASE $src TEMPLATE template0 ENCODING 'UTF8'" >/dev/null
s_sql postgres -c "DROP ROLE IF EXISTS vtj_gc_water_${SUFFIX}" >/dev/null 2>&1
s_sql postgres -c "CREATE ROLE vtj_gc_water_${SUFFIX} NOLOGIN" >/dev/null
out=$(PGOPTIONS="-c vtj.hmac_key_file=$keyfile" s_sql "$src" 2>&1 <<SQL
CREATE EXTENSION pg_vtj;
\\copy vtj.import (hetu, customer_ref) FROM '$VTJ_WORK/register.csv' CSV
SELECT vtj.import_persons('laskutus');
\\copy vtj.import (hetu, customer_ref) FROM program 'head -8 $VTJ_WORK/register.csv' CSV
SELECT vtj.import_persons('vesilaitos');
\\copy vtj.import (hetu) FROM program 'sed -n 31,32p $VTJ_WORK/pop.txt' CSV
SELECT vtj.set_purpose('muu', 'Kansalaisopiston kurssirekisteri');
SELECT vtj.set_purpose('kirjasto', 'Kirjaston asiakasrekisteri', 'Kirjastolaki 1492/2016');
SELECT vtj.set_purpose('laskutus', legal_basis => 'Kuntalaki 410/2015');
SELECT vtj.grant_reader('vtj_gc_water_${SUFFIX}', ARRAY['vesilaitos']);
SELECT vtj.set_turvakielto_rule('TIEDOT_SENSUROIDAAN', vtj._censored_groups() || ARRAY['NIMENMUUTOS']);
SELECT vtj._instance_ok();
SELECT vtj.sync();
SELECT vtj.remove_person(hetu) FROM (SELECT hetu FROM vtj.register WHERE purpose = 'laskutus' ORDER BY hetu LIMIT 2) x;
INSERT INTO vtj.kunta (kuntakoodi, nimi) VALUES ('998', 'Testikunta');
SQL
)
check "a register with base data, changes, purposes, reader limits, a rule and an HMAC admin log" test $? -eq 0 || echo "# ${out:0:600}"
check "... the sync merged persons and changes" \
  test "$(s_q "$src" "SELECT (SELECT count(*) FROM vtj.persons) > 20 AND (SELECT count(*) FROM vtj.journal WHERE kind = 'change') > 0 AND (SELECT count(*) FROM vtj.admin_log WHERE hetu_hmac IS NOT NULL) > 30")" = t

dump="$VTJ_WORK/register.dump"
out=$(PGHOST=$S_PGHOST PGPORT=$S_PGPORT PGUSER=$S_PGUSER "$PG_BIN/pg_dump" -Fc -d "$src" -f "$dump" 2>&1)
check "pg_dump -Fc" test $? -eq 0 || echo "# ${out:0:400}"
s_sql postgres -c "CREATE DATABASE $dsta TEMPLATE template0 ENCODING 'UTF8'" >/dev/null
out=$(PGHOST=$S_PGHOST PGPORT=$S_PGPORT PGUSER=$S_PGUSER "$PG_BIN/pg_restore" -d "$dsta" "$dump" 2>&1)
check "pg_restore into a fresh database without an error" test $? -eq 0 || echo "# ${out:0:600}"
# a fresh cluster: the roles first, as the README says
PGHOST=$S_PGHOST PGPORT=$S_PGPORT PGUSER=$S_PGUSER "$PG_BIN/pg_dumpall" --roles-only 2>/dev/null \
  | o_sql postgres -v ON_ERROR_STOP=0 >/dev/null 2>&1
o_sql postgres -c "CREATE DATABASE restored TEMPLATE template0 ENCODING 'UTF8'" >/dev/null
out=$(PGHOST=$O_PGHOST PGPORT=$O_PGPORT PGUSER=postgres "$PG_BIN/pg_restore" -d restored "$dump" 2>&1)
check "pg_restore into a fresh cluster (after pg_dumpall --roles-only) without an error" test $? -eq 0 || echo "# ${out:0:600}"

# One line per table, sequence and view of schema vtj: name, rows, md5 of the
# rows in a fixed order (vtj.status without its clock-dependent columns).
DIGEST=$(cat <<'SQL'
CREATE FUNCTION pg_temp.digest() RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE r record; v text;
BEGIN
    FOR r IN SELECT c.relname, c.relkind FROM pg_class c
              WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'S', 'v') ORDER BY c.relname
    LOOP
        IF r.relkind = 'S' THEN
            EXECUTE format('SELECT format(''%%s %%s'', last_value, is_called) FROM vtj.%I', r.relname) INTO v;
        ELSIF r.relname = 'status' THEN
            SELECT format('%s %s %s %s %s %s %s', s.last_success_at, s.kirjausavain, s.key_advanced_at, s.registered,
                          s.not_loaded, s.not_found, s.deceased) INTO v FROM vtj.status s;
        ELSIF r.relname IN ('_instance_warning', '_reader_purposes') THEN
            CONTINUE;   -- depend on where and as whom they are read
        ELSIF r.relname = 'purposes' THEN   -- seeded rows: the install's time
            SELECT format('%s %s', count(*), md5(string_agg(format('%s %s %s %s %s %s %s', p.purpose, p.description, p.legal_basis,
                          p.enabled, p.seeded, CASE WHEN NOT p.seeded THEN p.changed_at END, p.changed_by), E'\n' ORDER BY p.purpose)))
              INTO v FROM vtj.purposes p;
        ELSE
            EXECUTE format('SELECT format(''%%s %%s'', count(*), md5(coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), ''''))) FROM vtj.%I x',
                           r.relname) INTO v;
        END IF;
        RETURN NEXT r.relname || ' ' || v;
    END LOOP;
END $f$;
SELECT * FROM pg_temp.digest();
SQL
)
d_src=$(s_sql "$src" <<<"$DIGEST" 2>&1)
d_a=$(s_sql "$dsta" <<<"$DIGEST" 2>&1)
d_b=$(o_sql restored <<<"$DIGEST" 2>&1)
compare() {   # compare DESC DIGEST
  local desc=$1 other=$2 diff
  diff=$(diff <(echo "$d_src") <(echo "$other") | grep '^[<>]' | cut -c1-80 | head -6)
  if [ -z "$diff" ] && [ "$(echo "$d_src" | wc -l)" -gt 25 ]; then ok "$desc"
  else not_ok "$desc" "${diff:-digest too short: $(echo "$d_src" | head -3)}"; fi
}
compare "the restored database equals the source: every table, sequence and view (register, stored data, journal, feed, key, runs, admin log, purposes, rules, limits)" "$d_a"
compare "the database restored into a fresh cluster equals the source too" "$d_b"
check "... which holds what was dumped (persons, journal, feed, admin log, limits, pending imports)" \
  test "$(o_q restored "SELECT (SELECT count(*) FROM vtj.persons) > 20 AND (SELECT count(*) FROM vtj.changes) > 20
                           AND (SELECT count(*) FROM vtj.journal) > 20 AND (SELECT count(*) FROM vtj.admin_log WHERE hetu_hmac IS NOT NULL) > 30
                           AND (SELECT count(*) FROM vtj.reader_scope) = 1 AND (SELECT count(*) FROM vtj.import) = 2
                           AND (SELECT kirjausavain FROM vtj.status) IS NOT NULL")" = t
check "seeded rows are not duplicated (purposes, municipality codes, turvakielto rule)" \
  test "$(o_q restored "SELECT format('%s %s %s', (SELECT count(*) FROM vtj.purposes), (SELECT count(*) FROM vtj.kunta), (SELECT count(*) FROM vtj.turvakielto_rule))")" \
     = "$(s_q "$src" "SELECT format('%s %s %s', (SELECT count(*) FROM vtj.purposes), (SELECT count(*) FROM vtj.kunta), (SELECT count(*) FROM vtj.turvakielto_rule))")"
check "... and the reader limit names its role again" \
  test "$(o_q restored "SELECT role::text || ' ' || purposes::text FROM vtj.reader_scope")" = "vtj_gc_water_${SUFFIX} {vesilaitos}"
check "the sequences continue after the restored rows" \
  test "$(o_q restored "SELECT nextval('vtj.run_id_seq') > (SELECT max(id) FROM vtj.run) AND nextval('vtj.admin_log_id_seq') > (SELECT max(id) FROM vtj.admin_log)")" = t
# the copies do not fetch
out=$(o_q restored "SELECT vtj._instance_ok()")
check "the copy in a fresh cluster refuses to fetch" grep -q 'loaded in another cluster' <<<"$out" || echo "# $out"
out=$(s_q "$dsta" "SELECT vtj._instance_ok()")
check "the copy in another database of the same cluster refuses too" grep -q 'loaded in another database' <<<"$out" || echo "# $out"
check "... and vtj.status says why" \
  grep -q 'restored or copied from another database or cluster' <<<"$(s_q "$dsta" "SELECT warning FROM vtj.status")"
check "the source itself fetches on" test "$(s_q "$src" "SELECT vtj._instance_ok()")" = t
# A run refuses in the copy before its first request once the run driver
# calls vtj._instance_ok() (it then recorded the log test database's first run).
if [ "$(o_q logtest "SELECT count(*) FROM vtj.instance")" = 1 ]; then
  mock DELETE /_mock/requests >/dev/null
  out=$(s_q "$dsta" "SELECT vtj.sync()")
  check "vtj.sync() in the copy refuses before any request" grep -q 'does not fetch in a copy' <<<"$out" || echo "# ${out:0:300}"
  check "... no request reached VTJ" test "$(mock GET /_mock/requests)" = "[]"
else
  N=$((N + 1)); echo "ok $N # SKIP the run driver does not call vtj._instance_ok() yet"
  N=$((N + 1)); echo "ok $N # SKIP (no request check either)"
fi
o_sql restored -c "SELECT vtj.adopt_instance()" >/dev/null 2>&1
check "after vtj.adopt_instance() the copy may fetch" test "$(o_q restored "SELECT vtj._instance_ok()")" = t
check "... and the adoption is logged" \
  test "$(o_q restored "SELECT count(*) FROM vtj.admin_log WHERE action = 'instance_adopt'")" = 1

echo "1..$N"
if [ "$FAILED" -gt 0 ]; then
  echo "# $FAILED of $N governance checks failed"
  exit 1
fi
exit 0
