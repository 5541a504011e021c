#!/usr/bin/env bash
# concurrency_checks.sh — runs and register changes at the same time (issue 8
# §3), on a throwaway cluster and mock of its own (lib.sh). A reference
# database follows the same chain alone; after every schedule the register
# must equal the reference's (canonical dump as in
# test/sql/include/reliability.psql), so no page was merged twice or lost.
#
#   1. four sessions call vtj.sync() at once (three rounds, one of them with
#      vtj.load_base() and vtj.refresh_person() mixed in): one run follows
#      the chain, the others return 0 (NOTICE) or find nothing left to do;
#      a fifth sync afterwards catches up (a load_base() that held the chain
#      made the syncs return 0 without applying anything);
#   2. persons removed while a base load runs, at random moments: no datum
#      of them remains (state, entries, journal, feed, register), the others
#      are all loaded;
#   3. persons removed while a change sync merges records of theirs: the
#      same;
#   4. the interleaving spelled out: a page merge holds a person's register
#      row while vtj.remove_person() of that person waits; the removal
#      completes after the page and purges what the page stored;
#   5. persons added while a base load runs: loaded by that run or the next;
#   6. with the background worker (when src/worker provides one): manual
#      syncs and vtj.sync_now() while the worker syncs on its own.
# Randomised with a fixed seed (VTJ_CONCURRENCY_SEED, printed). Prints TAP.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

SEED=${VTJ_CONCURRENCY_SEED:-4242}
RANDOM=$SEED
N=0
FAILED=0
ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check()  { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }
skip()   { N=$((N + 1)); echo "ok $N - # SKIP $1"; }

echo "# concurrency checks: seed $SEED"
vtj_start_mock --population 700 --start-key 8000000 >/dev/null 2>&1 || { echo "Bail out! mock did not start"; exit 1; }
vtj_start_cluster \
  "shared_preload_libraries = 'pg_vtj'" \
  "vtj.base_url = '$VTJ_MOCK_URL/api/v1'" \
  "vtj.xroad_client = 'FI/MUN/0123456-7/vtj-test'" \
  "vtj.username = 'vtjuser'" \
  "vtj.password = 'vtjpass'" \
  "vtj.http_timeout_ms = 10000" \
  "vtj.http_retries = 1" \
  "vtj.batch_size = 20" \
  "vtj.http_parallel = 1" >/dev/null 2>&1 || { echo "Bail out! cluster did not start"; exit 1; }
CONC_LOG=$VTJ_LOG

PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
q()    { "${PSQL[@]}" -d "$1" -c "$2" 2>&1; }
mock() { curl -sS -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$VTJ_MOCK_URL$2"; }
latency() { mock POST /_mock/faults "{\"rules\": [{\"path\": \"*\", \"kind\": \"latency\", \"ms\": $1, \"times\": -1}]}" >/dev/null; }

CANON="SELECT md5(string_agg(l, E'\\n' ORDER BY l COLLATE \"C\")) FROM ("
sep=""
for r in vtj.persons vtj.addresses vtj.name_history vtj.guardianships vtj.hetu_history vtj.register vtj.status vtj.changes vtj.person_state vtj.person_entry vtj.hetu_correction vtj.chain; do
  CANON+="$sep SELECT '$r ' || coalesce((SELECT pg_catalog.jsonb_object_agg(x.k, x.v) FROM pg_catalog.jsonb_each(pg_catalog.to_jsonb(t)) AS x(k, v) WHERE x.k !~ '(_at|_since|run_id)\$' AND x.k <> ALL (ARRAY['id', 'last_success_age', 'failed_last_24h', 'warning'])), '{}')::text AS l FROM $r t"
  sep=" UNION ALL"
done
CANON+=") c"
CANON_LINES="SELECT l FROM (${CANON#*FROM (} ORDER BY l COLLATE \"C\""
same_as_ref() {   # same_as_ref DESC
  local a b
  a=$(q conc "$CANON"); b=$(q conc_ref "$CANON")
  if [ "$a" = "$b" ]; then ok "$1"; else
    not_ok "$1" "md5 $a, reference $b"
    diff <(q conc "$CANON_LINES") <(q conc_ref "$CANON_LINES") | grep '^[<>]' | cut -c1-250 | head -6 | sed 's/^/#   /'
  fi
}
no_data() {       # no_data "'h1','h2'": every stored datum of these hetus
  q conc "SELECT (SELECT count(*) FROM vtj.person_state WHERE hetu IN ($1)) + (SELECT count(*) FROM vtj.person_entry WHERE hetu IN ($1))
               + (SELECT count(*) FROM vtj.journal WHERE hetu IN ($1)) + (SELECT count(*) FROM vtj.change_feed WHERE hetu IN ($1))
               + (SELECT count(*) FROM vtj.subject WHERE hetu IN ($1)) + (SELECT count(*) FROM vtj.registration WHERE hetu IN ($1))
               + (SELECT count(*) FROM vtj.hetu_correction WHERE vanha_hetu IN ($1) OR uusi_hetu IN ($1))"
}
sql_list() { local out="" h; for h in "$@"; do out+="${out:+,}'$h'"; done; echo "$out"; }

"$VTJ_PYTHON" "$VTJ_ROOT/test/mock/vtj_mock.py" --print-hetus 700 >"$VTJ_WORK/hetus.txt"
mapfile -t H <"$VTJ_WORK/hetus.txt"
for db in conc conc_ref; do
  q postgres "CREATE DATABASE $db" >/dev/null && q "$db" "CREATE EXTENSION pg_vtj" >/dev/null || { echo "Bail out! cannot create $db"; exit 1; }
  q "$db" "SELECT vtj.add_persons(ARRAY[$(sql_list "${H[@]:0:300}")], 'laskutus')" >/dev/null
done
check "the reference base-loads 300 persons" test "$(q conc_ref "SELECT vtj.sync()")" = 0
check "this register too" test "$(q conc "SELECT vtj.sync()")" = 0
same_as_ref "both registers are equal after the base load"

# a generated segment of change pages from the current key (no turvakielto
# ends: their re-fetch would return the mock's unchanged base data)
segment() {   # segment SEED COUNT PAGES
  local key
  key=$(q conc_ref "SELECT kirjausavain FROM vtj.status")
  mock POST /_mock/changes/generate "{\"count\": $2, \"pages\": $3, \"seed\": $1, \"start_key\": $key, \"mix\": {\"turvakielto_end\": 0}}" >/dev/null
}

# the hetus of the records the mock serves from KEY on (registered ones)
page_hetus() {   # page_hetus KEY [FIRST_PAGE]
  "$VTJ_PYTHON" - "$VTJ_MOCK_URL" "$1" "${2:-1}" "$VTJ_WORK/hetus.txt" <<'PY'
import json, sys, urllib.request, base64
url, key, first, hetus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [l.strip() for l in open(sys.argv[4])]
cfg = json.load(urllib.request.urlopen(url + "/_mock/config"))
auth = base64.b64encode(("%s:%s" % (cfg["username"], cfg["password"])).encode()).decode()
seen, page = [], 0
while True:
    req = urllib.request.Request(url + "/api/v1/muutokset", method="POST",
        data=json.dumps({"viimeisinKirjausavain": key, "hetulista": hetus}).encode(),
        headers={"Authorization": "Basic " + auth, "X-Road-Client": cfg["xroad_client"],
                 "Accept": "application/json", "Content-Type": "application/json"})
    r = json.load(urllib.request.urlopen(req))
    page += 1
    if page >= first:
        seen += [m["henkilotunnus"] for m in r["muutokset"] if isinstance(m, dict)]
    if r["ajanTasalla"] or r["viimeisinKirjausavain"] == key:
        break
    key = r["viimeisinKirjausavain"]
for h in sorted(set(seen)):
    print(h)
PY
}

# --- 1. concurrent syncs --------------------------------------------------------------------
for round in 1 2 3; do
  latency 0
  segment $((SEED + round)) 300 5
  if [ "$round" = 2 ]; then
    # refresh a person with no change so far and none on these pages (a
    # re-fetch returns the mock's unchanged base data)
    busy=$(sql_list $(page_hetus "$(q conc_ref "SELECT kirjausavain FROM vtj.status")"))
    REFRESH=$(q conc "SELECT s.hetu FROM vtj.subject s WHERE s.hetu NOT IN ($busy)
                        AND NOT EXISTS (SELECT 1 FROM vtj.change_feed f WHERE f.hetu = s.hetu AND f.tietoryhma <> 'PERUSTIEDOT')
                      ORDER BY s.hetu LIMIT 1")
    q conc_ref "SELECT vtj.refresh_person('$REFRESH')" >/dev/null
  fi
  expected=$(q conc_ref "SELECT vtj.sync()")
  latency 60
  pids=()
  for s in 1 2 3 4; do
    stmt="SELECT vtj.sync()"
    if [ "$round" = 2 ] && [ "$s" = 3 ]; then stmt="SELECT vtj.load_base()"; fi
    if [ "$round" = 2 ] && [ "$s" = 4 ]; then stmt="SELECT vtj.refresh_person('$REFRESH')::int"; fi
    "${PSQL[@]}" -d conc -c "$stmt" >"$VTJ_WORK/s$s.out" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  # a session that found the chain busy returned 0 at once; when the busy
  # one was load_base() (which holds the chain but applies no change), the
  # pages are still to come: one more sync catches up
  "${PSQL[@]}" -d conc -c "SELECT vtj.sync()" >"$VTJ_WORK/s5.out" 2>&1
  errors=$(grep -l ERROR "$VTJ_WORK"/s[1-5].out 2>/dev/null | wc -l)
  check "round $round: four sessions at once$( [ "$round" = 2 ] && echo ' (with load_base and refresh_person)'): no session fails" test "$errors" = 0
  total=0
  for s in 1 2 3 4 5; do
    [ "$round" = 2 ] && { [ "$s" = 3 ] || [ "$s" = 4 ]; } && continue
    v=$(grep -E '^[0-9]+$' "$VTJ_WORK/s$s.out" | tail -1); total=$((total + ${v:-0}))
  done
  check "round $round: the records were applied once in all ($total, the reference $expected)" test "$total" = "$expected"
  latency 0
  same_as_ref "round $round: the register equals the reference (no page merged twice)"
done
check "no run failed in the concurrent rounds" test "$(q conc "SELECT count(*) FROM vtj.run WHERE status <> 'ok'")" = 0

# --- 2. removals during a base load ---------------------------------------------------------
NEW=("${H[@]:300:200}")
VICTIMS=()
for i in $(seq 0 9); do VICTIMS+=("${NEW[$((i * 20 + RANDOM % 20))]}"); done        # one of every batch
for i in $(seq 1 5); do VICTIMS+=("${NEW[$((RANDOM % 200))]}"); done
mapfile -t VICTIMS < <(printf '%s\n' "${VICTIMS[@]}" | sort -u)
VL=$(sql_list "${VICTIMS[@]}")
for db in conc conc_ref; do q "$db" "SELECT vtj.add_persons(ARRAY[$(sql_list "${NEW[@]}")], 'vesilaitos')" >/dev/null; done
q conc_ref "SELECT count(vtj.remove_person(h)) FROM unnest(ARRAY[$VL]) h" >/dev/null
q conc_ref "SELECT vtj.sync()" >/dev/null
latency 120
"${PSQL[@]}" -d conc -c "SELECT vtj.sync()" >"$VTJ_WORK/base.out" 2>&1 &
sync_pid=$!
removed=0
for v in "${VICTIMS[@]}"; do
  sleep "0.$(printf '%03d' $((RANDOM % 180)))"
  [ "$(q conc "SELECT vtj.remove_person('$v')")" = t ] && removed=$((removed + 1))
done
wait "$sync_pid"
latency 0
check "removals during a base load: the run completes" grep -qE '^[0-9]+$' "$VTJ_WORK/base.out"
check "every one of the ${#VICTIMS[@]} removals ended a registration ($removed)" test "$removed" = "${#VICTIMS[@]}"
q conc "SELECT vtj.sync()" >/dev/null
check "no datum of a person removed during the base load remains" test "$(no_data "$VL")" = 0
same_as_ref "the register equals the reference's (which removed them before its base load)"

# --- 3. removals during a change sync -----------------------------------------------------------
latency 0
segment $((SEED + 10)) 400 6
KEY0=$(q conc_ref "SELECT kirjausavain FROM vtj.status")
# victims: registered persons with records on pages 3..6
mapfile -t CANDIDATES < <(page_hetus "$KEY0" 3)
CANDIDATES=("${CANDIDATES[@]:0:40}")
VICTIMS2=()
for i in $(seq 1 12); do VICTIMS2+=("${CANDIDATES[$((RANDOM % ${#CANDIDATES[@]}))]}"); done
mapfile -t VICTIMS2 < <(printf '%s\n' "${VICTIMS2[@]}" | sort -u)
# only registered ones (a removed or corrected hetu is not)
mapfile -t VICTIMS2 < <(q conc "SELECT hetu FROM vtj.subject WHERE hetu IN ($(sql_list "${VICTIMS2[@]}")) ORDER BY hetu")
VL2=$(sql_list "${VICTIMS2[@]}")
q conc_ref "SELECT count(vtj.remove_person(h)) FROM unnest(ARRAY[$VL2]) h" >/dev/null
q conc_ref "SELECT vtj.sync()" >/dev/null
latency 150
"${PSQL[@]}" -d conc -c "SELECT vtj.sync()" >"$VTJ_WORK/chg.out" 2>&1 &
sync_pid=$!
for v in "${VICTIMS2[@]}"; do
  sleep "0.$(printf '%03d' $((RANDOM % 150)))"
  q conc "SELECT vtj.remove_person('$v')" >/dev/null
done
wait "$sync_pid"
latency 0
check "removals during a change sync: the run completes" grep -qE '^[0-9]+$' "$VTJ_WORK/chg.out"
check "no datum of the ${#VICTIMS2[@]} persons removed during the change sync remains" test "$(no_data "$VL2")" = 0
same_as_ref "the register equals the reference's (which removed them before the sync)"

# --- 4. a removal waits for the page merge that holds the person ---------------------------------
# Page: records of X and Y (X < Y in hetu order). A third session holds Y's
# register row, so the merge has locked X's row and waits for Y; the removal
# of X waits for the merge; then Y is released.
X=""; Y=""
mapfile -t XY < <(q conc "SELECT hetu FROM vtj.subject s WHERE EXISTS (SELECT 1 FROM vtj.person_state p WHERE p.hetu = s.hetu AND p.base_loaded_at IS NOT NULL) ORDER BY hetu LIMIT 2")
X=${XY[0]}; Y=${XY[1]}
KEY0=$(q conc "SELECT kirjausavain FROM vtj.status")
page=$(cat <<JSON
{"start_key": $KEY0, "pages": [{"next_key": $((KEY0 + 10)), "muutokset": [
 {"henkilotunnus": "$X", "muutospv": "2026-01-01T22:00:00.000Z", "tietoryhmat": [{"tietoryhma": "HENKILON_NIMI", "muutosattribuutti": "MUUTETTU",
   "etunimi": "Poistuva", "sukunimi": "Tes", "alkupv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}}]},
 {"henkilotunnus": "$Y", "muutospv": "2026-01-01T22:00:00.000Z", "tietoryhmat": [{"tietoryhma": "HENKILON_NIMI", "muutosattribuutti": "MUUTETTU",
   "etunimi": "Jaava", "sukunimi": "Tes", "alkupv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}}]}]}]}
JSON
)
mock POST /_mock/scenario "$page" >/dev/null
coproc HOLD { "$PG_BIN/psql" -X -q -At -d conc 2>/dev/null; }
echo "BEGIN; SELECT 1 FROM vtj.subject WHERE hetu = '$Y' FOR UPDATE; SELECT 'held';" >&"${HOLD[1]}"
read -r -t 10 _ <&"${HOLD[0]}"; read -r -t 10 _ <&"${HOLD[0]}"
"${PSQL[@]}" -d conc -c "SELECT vtj.sync()" >"$VTJ_WORK/merge.out" 2>&1 &
sync_pid=$!
merge_waits=""
for _ in $(seq 1 200); do
  merge_waits=$(q conc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND wait_event_type = 'Lock'")
  [ "$merge_waits" = 1 ] && break; sleep 0.05
done
check "the page merge waits for Y's register row (having locked X's)" test "$merge_waits" = 1
PGAPPNAME=conc_remove "${PSQL[@]}" -d conc -c "SELECT vtj.remove_person('$X')" >"$VTJ_WORK/remove.out" 2>&1 &
rm_pid=$!
remove_waits=""
for _ in $(seq 1 100); do
  remove_waits=$(q conc "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'conc_remove' AND wait_event_type = 'Lock'")
  [ "$remove_waits" = 1 ] && break; sleep 0.05
done
check "vtj.remove_person(X) waits for the page merge" test "$remove_waits" = 1
echo "COMMIT;" >&"${HOLD[1]}"; exec {HOLD[1]}>&-
wait "$sync_pid"; wait "$rm_pid"
check "the page merges" grep -qE '^[0-9]+$' "$VTJ_WORK/merge.out"
check "the removal completes after it" test "$(cat "$VTJ_WORK/remove.out")" = t
check "X ends with no data" test "$(no_data "'$X'")" = 0
check "Y got its change" test "$(q conc "SELECT etunimet FROM vtj.persons WHERE hetu = '$Y'")" = Jaava
# keep the reference on the same chain
q conc_ref "SELECT vtj.remove_person('$X')" >/dev/null; q conc_ref "SELECT vtj.sync()" >/dev/null
same_as_ref "the register equals the reference's"

# --- 5. additions during a base load --------------------------------------------------------------
ADD1=("${H[@]:500:100}"); ADD2=("${H[@]:600:60}")
q conc_ref "SELECT vtj.add_persons(ARRAY[$(sql_list "${ADD1[@]}" "${ADD2[@]}")], 'laskutus')" >/dev/null
q conc_ref "SELECT vtj.sync()" >/dev/null
q conc "SELECT vtj.add_persons(ARRAY[$(sql_list "${ADD1[@]}")], 'laskutus')" >/dev/null
latency 100
"${PSQL[@]}" -d conc -c "SELECT vtj.sync()" >"$VTJ_WORK/add.out" 2>&1 &
sync_pid=$!
adderr=0
for i in 0 1 2 3 4 5; do
  sleep 0.1
  out=$(q conc "SELECT vtj.add_persons(ARRAY[$(sql_list "${ADD2[@]:$((i * 10)):10}")], 'laskutus')")
  [ "$out" = 10 ] || adderr=$((adderr + 1))
done
wait "$sync_pid"
latency 0
check "additions during a base load: the run completes" grep -qE '^[0-9]+$' "$VTJ_WORK/add.out"
check "every addition during the run succeeds" test "$adderr" = 0
q conc "SELECT vtj.sync()" >/dev/null
check "every added person is loaded by that run or the next" test "$(q conc "SELECT not_loaded FROM vtj.status")" = 0
same_as_ref "the register equals the reference's"

# --- 6. the background worker --------------------------------------------------------------------------
if [ "$(q conc "SELECT to_regprocedure('vtj.sync_now()') IS NOT NULL")" = t ]; then
  q postgres "ALTER SYSTEM SET vtj.worker_databases = 'conc'" >/dev/null
  q postgres "ALTER SYSTEM SET vtj.sync_interval = '1s'" >/dev/null
  q postgres "SELECT pg_reload_conf()" >/dev/null
  worker=""
  for _ in $(seq 1 60); do
    worker=$(q conc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND datname = 'conc'")
    [ "$worker" = 1 ] && break; sleep 0.25
  done
  if [ "$worker" = 1 ]; then
    ok "the background worker of this database is running"
    latency 0
    segment $((SEED + 20)) 300 5
    q conc_ref "SELECT vtj.sync()" >/dev/null
    latency 60
    runs_before=$(q conc "SELECT coalesce(max(id), 0) FROM vtj.run")
    pids=()
    for s in 1 2 3; do "${PSQL[@]}" -d conc -c "SELECT vtj.sync()" >"$VTJ_WORK/w$s.out" 2>&1 & pids+=($!); sleep 0.2; done
    "${PSQL[@]}" -d conc -c "SELECT vtj.sync_now()" >"$VTJ_WORK/w4.out" 2>&1 & pids+=($!)
    for p in "${pids[@]}"; do wait "$p"; done
    # let the worker run at least once more after the manual ones
    sleep 2.5
    latency 0
    check "manual syncs and vtj.sync_now() next to the worker: none fails" \
      test "$(cat "$VTJ_WORK"/w[1-4].out | grep -c ERROR)" = 0
    check "the worker ran too (runs started by 'worker')" \
      test "$(q conc "SELECT count(*) > 0 FROM vtj.run WHERE id > $runs_before AND started_by = 'worker'")" = t
    check "no run failed" test "$(q conc "SELECT count(*) FROM vtj.run WHERE id > $runs_before AND status = 'failed'")" = 0
    same_as_ref "with the worker: the register equals the reference (no page merged twice)"
  else
    not_ok "the background worker of this database is running (vtj.worker_databases = 'conc')" "workers: $worker"
  fi
  q postgres "ALTER SYSTEM RESET vtj.worker_databases" >/dev/null
  q postgres "ALTER SYSTEM RESET vtj.sync_interval" >/dev/null
  q postgres "SELECT pg_reload_conf()" >/dev/null
else
  skip "no background worker in this build (vtj.sync_now() does not exist)"
fi

hits=$(grep -cE '[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]' "$CONC_LOG")
check "no hetu in this cluster's server log ($hits lines)" test "$hits" = 0
[ "$hits" = 0 ] || grep -nE '[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]' "$CONC_LOG" | sed -E 's/[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]/<hetu>/g' | cut -c1-200 | head -5 | sed 's/^/#   /'

echo "1..$N"
[ "$FAILED" -eq 0 ]
