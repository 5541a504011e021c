#!/usr/bin/env bash
# crash_checks.sh — crashes in the middle of runs (issue 8 §2), on a
# throwaway cluster and mock of its own (lib.sh), so that crash restarts do
# not disturb the other checks.
#
# A register of 1,500 persons of the mock's population is base-loaded in 15
# batches of 100 (one request in flight) and then follows a generated chain
# of 1,500 change records on 6 pages; the mock adds 40 ms to every answer,
# so a run lasts a few seconds. A reference database runs the same
# scenario undisturbed; its canonical dump (views and storage without ids,
# timestamps, run rows and journal, as in test/sql/include/reliability.psql)
# is recorded at the end and at every page boundary.
#
# Each iteration copies a fresh database from a template, starts vtj.sync()
# and crashes it at a randomised point, one of:
#   worker      kill -9 of the run worker at a random moment of the run
#   client      kill -9 of the client backend that called vtj.sync()
#   immediate   pg_ctl stop -m immediate, then start, at a random moment
#   merge-base  the run worker held inside the merge of batch k (another
#               session holds a row lock the merge needs), then kill -9 /
#               immediate restart
#   merge-page  the same inside the merge of change page j, after the
#               page's transaction has already moved the key (compare-and-set)
# and checks, right after recovery: only whole batches loaded (a multiple
# of 100), the key at a page boundary and the register equal to the
# reference's at that boundary (no partial page); then the next sync
# completes, the crashed run is recorded failed, nothing is left running,
# and the register equals the undisturbed reference. Finally the cluster's
# log is searched for hetus.
#
# Randomised with a fixed seed (printed; VTJ_CRASH_SEED overrides), at least
# 20 crashes (VTJ_CRASH_ITERATIONS, default 24). Prints TAP.

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

SEED=${VTJ_CRASH_SEED:-8008}
ITERATIONS=${VTJ_CRASH_ITERATIONS:-24}
PERSONS=1500
BATCH=100
PAGES=6
LATENCY_MS=40
RANDOM=$SEED

N=0
FAILED=0
ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check()  { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; fi; }

echo "# crash checks: seed $SEED, $ITERATIONS crashes"

vtj_start_mock --population "$PERSONS" --start-key 7000000 >/dev/null 2>&1 || { echo "Bail out! mock did not start"; exit 1; }
vtj_start_cluster \
  "shared_preload_libraries = 'pg_vtj'" \
  "vtj.base_url = '$VTJ_MOCK_URL/api/v1'" \
  "vtj.xroad_client = 'FI/MUN/0123456-7/vtj-test'" \
  "vtj.username = 'vtjuser'" \
  "vtj.password = 'vtjpass'" \
  "vtj.http_timeout_ms = 10000" \
  "vtj.http_retries = 1" \
  "vtj.batch_size = $BATCH" \
  "vtj.http_parallel = 1" \
  "restart_after_crash = on" \
  "log_min_messages = warning" >/dev/null 2>&1 || { echo "Bail out! cluster did not start"; exit 1; }
CRASH_LOG=$VTJ_LOG

PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
q()      { "${PSQL[@]}" -d "$1" -c "$2" 2>&1; }
mock()   { curl -sS -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$VTJ_MOCK_URL$2"; }

wait_ready() {
  local i
  for i in $(seq 1 120); do
    "$PG_BIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT" && q postgres "SELECT 1" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}

# The canonical dump (see test/sql/include/reliability.psql, canon_sql).
CANON_RELS="vtj.persons vtj.addresses vtj.name_history vtj.guardianships vtj.hetu_history vtj.register vtj.status vtj.changes vtj.person_state vtj.person_entry vtj.hetu_correction vtj.chain"
CANON="SELECT md5(string_agg(l, E'\\n' ORDER BY l COLLATE \"C\")) FROM ("
sep=""
for r in $CANON_RELS; do
  CANON+="$sep SELECT '$r ' || coalesce((SELECT pg_catalog.jsonb_object_agg(x.k, x.v) FROM pg_catalog.jsonb_each(pg_catalog.to_jsonb(t)) AS x(k, v) WHERE x.k !~ '(_at|_since|run_id)\$' AND x.k <> ALL (ARRAY['id', 'last_success_age', 'failed_last_24h', 'warning'])), '{}')::text AS l FROM $r t"
  sep=" UNION ALL"
done
CANON+=") c"
canon_md5() { "${PSQL[@]}" -d "$1" -c "$CANON" 2>&1; }
CANON_LINES=${CANON#SELECT md5(string_agg(l, E\'\\n\' ORDER BY l COLLATE \"C\")) FROM (}
CANON_LINES="SELECT l FROM (${CANON_LINES} ORDER BY l COLLATE \"C\""
canon_diff() {   # canon_diff DB1 DB2: the first differing lines
  diff <("${PSQL[@]}" -d "$1" -c "$CANON_LINES" 2>&1) <("${PSQL[@]}" -d "$2" -c "$CANON_LINES" 2>&1) | grep '^[<>]' | cut -c1-300 | head -8 | sed 's/^/#   /'
}

# --- the scenario -----------------------------------------------------------------
q postgres "CREATE DATABASE crash_tpl" >/dev/null || { echo "Bail out! no template database"; exit 1; }
q crash_tpl "CREATE EXTENSION pg_vtj" >/dev/null
"$VTJ_PYTHON" "$VTJ_ROOT/test/mock/vtj_mock.py" --print-hetus "$PERSONS" >"$VTJ_WORK/hetus.txt"
chmod 644 "$VTJ_WORK/hetus.txt"
"${PSQL[@]}" -d crash_tpl -c "CREATE TABLE public.h (hetu text)" -c "\\copy public.h FROM '$VTJ_WORK/hetus.txt'" \
  -c "SELECT vtj.add_persons(array_agg(hetu ORDER BY hetu), 'laskutus') FROM public.h" -c "DROP TABLE public.h" >/dev/null \
  || { echo "Bail out! cannot register"; exit 1; }
SORTED=()
mapfile -t SORTED < <(LC_ALL=C sort "$VTJ_WORK/hetus.txt")

# (no turvakielto ends: their re-fetch would return the mock's unchanged base
# data, which differs from the chain's result; not what is tested here)
mock POST /_mock/changes/generate "{\"count\": $PERSONS, \"pages\": $PAGES, \"seed\": $SEED, \"start_key\": 7000000, \"mix\": {\"turvakielto_end\": 0}}" >/dev/null
# Read the pages back (for the per-page references and the merge-page locks).
PAGES_JSON="$VTJ_WORK/pages.json"
"$VTJ_PYTHON" - "$VTJ_MOCK_URL" "$VTJ_WORK/hetus.txt" "$PAGES_JSON" <<'PY' || { echo "Bail out! cannot read the pages"; exit 1; }
import json, sys, urllib.request, base64
url, hetus_file, out = sys.argv[1:4]
hetus = [l.strip() for l in open(hetus_file) if l.strip()]
cfg = json.load(urllib.request.urlopen(url + "/_mock/config"))
auth = base64.b64encode(("%s:%s" % (cfg["username"], cfg["password"])).encode()).decode()
key, pages = 7000000, []
while True:
    req = urllib.request.Request(url + "/api/v1/muutokset", method="POST",
        data=json.dumps({"viimeisinKirjausavain": key, "hetulista": hetus}).encode(),
        headers={"Authorization": "Basic " + auth, "X-Road-Client": cfg["xroad_client"],
                 "Accept": "application/json", "Content-Type": "application/json"})
    r = json.load(urllib.request.urlopen(req))
    if r["viimeisinKirjausavain"] == key:
        break
    pages.append({"muutokset": r["muutokset"], "next_key": r["viimeisinKirjausavain"], "key": key})
    key = r["viimeisinKirjausavain"]
    if r["ajanTasalla"]:
        break
json.dump(pages, open(out, "w"))
PY
page_key()  { "$VTJ_PYTHON" -c "import json,sys; p=json.load(open('$PAGES_JSON')); print(p[$1]['key'] if $1 < len(p) else p[-1]['next_key'])"; }
page_hetu() { "$VTJ_PYTHON" -c "import json,sys; p=json.load(open('$PAGES_JSON')); print(p[$1]['muutokset'][len(p[$1]['muutokset'])//2]['henkilotunnus'])"; }
load_pages() {   # load_pages J: the first J pages as the mock's scenario
  "$VTJ_PYTHON" - "$PAGES_JSON" "$1" <<'PY' | curl -sS -X POST -H 'Content-Type: application/json' --data-binary @- "$VTJ_MOCK_URL/_mock/scenario" >/dev/null
import json, sys
p = json.load(open(sys.argv[1]))[: int(sys.argv[2])]
print(json.dumps({"start_key": 7000000, "pages": [{"muutokset": x["muutokset"], "next_key": x["next_key"]} for x in p]}))
PY
}
NPAGES=$("$VTJ_PYTHON" -c "import json; print(len(json.load(open('$PAGES_JSON'))))")
check "the mock serves a chain of $PAGES pages" test "$NPAGES" = "$PAGES"
mock POST /_mock/faults "{\"rules\": [{\"path\": \"*\", \"kind\": \"latency\", \"ms\": $LATENCY_MS, \"times\": -1}]}" >/dev/null

# --- the reference: undisturbed, page by page -----------------------------------------------
declare -A REF_AT   # key -> md5 of the reference's register at that key
# FILE_COPY: with the default WAL_LOG strategy of PostgreSQL 15, a sequence
# of a database copied from a template can hand out the same values again
# after a crash that comes before the database's first checkpoint (the copied
# page's logged-ahead values are not WAL-logged again); FILE_COPY ends with a
# checkpoint. (See README, Reliability.)
CREATEDB_OPTS="TEMPLATE crash_tpl STRATEGY FILE_COPY"
q postgres "CREATE DATABASE crash_ref $CREATEDB_OPTS" >/dev/null
ms() { echo $(( $(date +%s%N) / 1000000 )); }
t0=$(ms)
load_pages 0
out=$(q crash_ref "SELECT vtj.sync()")
t_base=$(( $(ms) - t0 ))
check "the reference base-loads $PERSONS persons ($t_base ms)" test "$out" = 0
REF_AT[7000000]=$(canon_md5 crash_ref)
t0=$(ms)
for j in $(seq 1 "$PAGES"); do
  load_pages "$j"
  q crash_ref "SELECT vtj.sync()" >/dev/null
  REF_AT[$(page_key "$j")]=$(canon_md5 crash_ref)
done
t_changes=$(( $(ms) - t0 ))
REF_FINAL=$(canon_md5 crash_ref)
check "the reference follows the chain to its end ($t_changes ms)" \
  test "$(q crash_ref "SELECT kirjausavain FROM vtj.status")" = "$(page_key "$PAGES")"
load_pages "$PAGES"
# one undisturbed run of the whole chain: its length bounds the random kill
# points, and it must reach the same register as the page-by-page reference
q postgres "CREATE DATABASE crash_ref2 $CREATEDB_OPTS" >/dev/null
t0=$(ms)
q crash_ref2 "SELECT vtj.sync()" >/dev/null
T_RUN_MS=$(( $(ms) - t0 ))
check "one undisturbed run ($T_RUN_MS ms) reaches the same register as the page-by-page reference" \
  test "$(canon_md5 crash_ref2)" = "$REF_FINAL"
q postgres "DROP DATABASE crash_ref2" >/dev/null

# --- iterations ------------------------------------------------------------------------------
KINDS=(worker client immediate merge-base merge-page worker immediate merge-base merge-page client)
declare -A DONE
crashes=0
iter=0
while [ "$crashes" -lt "$ITERATIONS" ] && [ "$iter" -lt $((ITERATIONS * 2)) ]; do
  iter=$((iter + 1))
  kind=${KINDS[$((RANDOM % ${#KINDS[@]}))]}
  db="crash_$iter"
  q postgres "CREATE DATABASE $db $CREATEDB_OPTS" >/dev/null || { not_ok "iteration $iter: CREATE DATABASE"; continue; }
  lock_pid=""
  point=""
  how=$([ $((RANDOM % 3)) = 0 ] && echo immediate || echo kill)
  case "$kind" in
    merge-base)
      k=$((2 + RANDOM % 13))                       # batch 2..14
      hetu=${SORTED[$(((k - 1) * BATCH + RANDOM % BATCH))]}
      point="inside the merge of batch $k ($how)" ;;
    merge-page)
      j=$((2 + RANDOM % (PAGES - 1)))              # page 2..PAGES
      hetu=$(page_hetu $((j - 1)))
      point="inside the first change-page merge of a person of page $j ($how)" ;;
    *)
      delay_ms=$((50 + (RANDOM * 32768 + RANDOM) % (T_RUN_MS * 9 / 10)))
      point="$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000))) s into the run" ;;
  esac
  take_lock() {   # a session holds the register row FOR UPDATE: a merge of that person waits for it
    coproc LOCK { "$PG_BIN/psql" -X -q -At -d "$db" 2>/dev/null; }
    lock_pid=$LOCK_PID
    echo "BEGIN; SELECT 1 FROM vtj.subject WHERE hetu = '$hetu' FOR UPDATE; SELECT 'locked';" >&"${LOCK[1]}"
    read -r -t 10 line <&"${LOCK[0]}"; read -r -t 10 line <&"${LOCK[0]}"
  }
  [ "$kind" = merge-base ] && take_lock
  PGAPPNAME=crash_sync "$PG_BIN/psql" -X -q -At -d "$db" -c "SELECT vtj.sync()" >"$VTJ_WORK/sync.out" 2>&1 &
  sync_pid=$!
  if [ "$kind" = merge-page ]; then
    # the base phase must pass first (it locks the same register rows)
    for _ in $(seq 1 400); do
      [ "$(q "$db" "SELECT count(*) FROM vtj.run WHERE kind = 'changes'")" = 1 ] && break
      sleep 0.02
    done
    take_lock
  fi
  target=""
  if [ "${kind#merge}" != "$kind" ]; then
    for _ in $(seq 1 200); do
      target=$(q "$db" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND wait_event_type = 'Lock'" 2>/dev/null)
      [ -n "$target" ] && break
      sleep 0.05
    done
    [ "$how" = kill ] && kind_target=worker || kind_target=immediate
  else
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    case "$kind" in
      worker) target=$(q "$db" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_vtj run'") ;;
      client) target=$(q "$db" "SELECT pid FROM pg_stat_activity WHERE application_name = 'crash_sync' AND backend_type = 'client backend'") ;;
      immediate) target=$(q "$db" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_vtj run'") ;;
    esac
    kind_target=$kind; [ "$kind_target" = client ] || [ "$kind_target" = immediate ] || kind_target=worker
  fi
  if ! [[ "$target" =~ ^[0-9]+$ ]]; then
    # the run had not started or had already ended: not a crash, try again
    wait "$sync_pid" 2>/dev/null
    [ -n "$lock_pid" ] && { kill "$lock_pid" 2>/dev/null; wait "$lock_pid" 2>/dev/null; }
    echo "# iteration $iter ($kind, $point): missed the run, not counted"
    q postgres "DROP DATABASE $db WITH (FORCE)" >/dev/null
    continue
  fi
  # where the run was: the stored key and the loaded count just before the crash
  if [ "$kind_target" = immediate ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$VTJ_PGDATA" -m immediate -w stop >/dev/null 2>&1
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$VTJ_PGDATA" -l "$CRASH_LOG" -w -t 60 start >/dev/null 2>&1
  else
    kill -9 "$target" 2>/dev/null
  fi
  wait "$sync_pid" 2>/dev/null
  [ -n "$lock_pid" ] && { kill "$lock_pid" 2>/dev/null; wait "$lock_pid" 2>/dev/null; }
  crashes=$((crashes + 1))
  DONE[$kind]=$(( ${DONE[$kind]:-0} + 1 ))
  desc="crash $crashes ($kind_target of the $kind kind, $point)"
  if ! wait_ready; then not_ok "$desc: the server comes back"; continue; fi

  # right after recovery: nothing partial
  loaded=$(q "$db" "SELECT count(*) FROM vtj.person_state WHERE base_loaded_at IS NOT NULL")
  key=$(q "$db" "SELECT coalesce(kirjausavain::text, 'none') FROM vtj.status")
  # base phase: no entry of a person not loaded; one PERUSTIEDOT feed row per loaded person
  orphans=0
  if [ "$loaded" != "$PERSONS" ]; then
    orphans=$(q "$db" "SELECT (SELECT count(*) FROM vtj.person_entry e WHERE NOT EXISTS (SELECT 1 FROM vtj.person_state s WHERE s.hetu = e.hetu AND s.base_loaded_at IS NOT NULL))
                            + abs((SELECT count(*) FROM vtj.change_feed f WHERE f.tietoryhma = 'PERUSTIEDOT') - (SELECT count(*) FROM vtj.person_state WHERE base_loaded_at IS NOT NULL))")
  fi
  if [[ "$loaded" =~ ^[0-9]+$ ]] && [ $((loaded % BATCH)) = 0 ] && [ "$orphans" = 0 ]; then
    if [ "$kind" = merge-base ] && [ "$loaded" != $(((k - 1) * BATCH)) ]; then
      not_ok "$desc: exactly the batches before batch $k are loaded" "loaded $loaded"
    else
      ok "$desc: only whole batches are loaded ($loaded), each with its feed row and nothing else"
    fi
  else
    not_ok "$desc: only whole batches are loaded" "loaded $loaded, orphans/feed mismatch $orphans"
  fi
  if [ "$loaded" = "$PERSONS" ] && [ -n "${REF_AT[$key]:-}" ]; then
    now=$(canon_md5 "$db")
    if [ "$now" = "${REF_AT[$key]}" ]; then
      ok "$desc: the key is at a page boundary ($key) and the register equals the reference's there"
    else
      not_ok "$desc: the key is at a page boundary ($key) and the register equals the reference's there" "md5 $now, reference ${REF_AT[$key]}"
    fi
    if [ "$key" = "$(page_key "$PAGES")" ]; then
      echo "#   (the crash came after the last page)"
    fi
  elif [ "$loaded" = "$PERSONS" ]; then
    not_ok "$desc: the key is at a page boundary" "key $key"
  else
    check "$desc: the key is the starting key or not yet obtained ($key)" test "$key" = 7000000 -o "$key" = none
  fi

  # the next run completes and repairs everything
  out=$(q "$db" "SELECT vtj.sync()")
  if [[ "$out" =~ ^[0-9]+$ ]]; then ok "$desc: the next sync completes"; else not_ok "$desc: the next sync completes" "$out"; fi
  runs=$(q "$db" "SELECT count(*) FILTER (WHERE status = 'running') || '/' || count(*) FILTER (WHERE status = 'failed' AND error LIKE '%ended without finishing%') || '/' || count(*) FILTER (WHERE status = 'failed') FROM vtj.run")
  # (0/0/0 only when the crash fell between two runs of the sync)
  if [ "$runs" = 0/1/1 ] || [ "$runs" = 0/0/0 ]; then ok "$desc: the crashed run is recorded failed, nothing is left running ($runs)"
  else not_ok "$desc: the crashed run is recorded failed, nothing is left running" "running/crashed/failed: $runs"; fi
  now=$(canon_md5 "$db")
  if [ "$now" = "$REF_FINAL" ]; then ok "$desc: the register equals the undisturbed reference"
  else not_ok "$desc: the register equals the undisturbed reference" "md5 $now, reference $REF_FINAL"
       q "$db" "SELECT count(*) || ' loaded, key ' || (SELECT kirjausavain FROM vtj.status) FROM vtj.person_state WHERE base_loaded_at IS NOT NULL" | sed 's/^/#   /'
       canon_diff "$db" crash_ref
  fi
  q postgres "DROP DATABASE $db WITH (FORCE)" >/dev/null
done

check "at least 20 crashes ($crashes)" test "$crashes" -ge 20
summary=""
for k in "${!DONE[@]}"; do summary+="$k ${DONE[$k]}, "; done
echo "# crashes by kind: ${summary%, } (seed $SEED)"

# the crash cluster's log holds no hetu
hits=$(grep -cE '[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]' "$CRASH_LOG")
check "no hetu in the crash cluster's server log ($hits lines)" test "$hits" = 0

echo "1..$N"
[ "$FAILED" -eq 0 ]
