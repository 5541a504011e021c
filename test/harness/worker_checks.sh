#!/bin/bash
# worker_checks.sh — the periodic background worker and pg_cron (issue 6,
# product.md §3, §4, §9), on a throwaway cluster of its own: preloading
# pg_cron and pg_vtj, vtj.worker_databases, a 1 s vtj.sync_interval and its
# own mock VTJ server. Prints TAP; exits non-zero when a check fails.
#
#   worker start, a database without the extension skipped quietly; runs at
#   the interval as started_by 'worker', pg_stat_activity; the register equal
#   to an uninterrupted SQL sync; concurrent worker, SQL and pg_cron runs never
#   apply a page twice; SIGHUP: interval change (0 = off), vtj.sync_now(),
#   database added and removed (its worker stops also during an HTTP wait);
#   back-off after failures; DROP DATABASE (worker sleeping, and in an HTTP
#   wait) and DROP EXTENSION not blocked, CREATE EXTENSION noticed; retention
#   (deceased) at the end of a worker run; kill -9 of a run worker mid-merge:
#   the run marked failed, the register equal to an uninterrupted run; pg_cron
#   job success and failure; a hot standby: no worker, views readable, fetches
#   refused; the log line per run without personal data; SIGTERM (fast
#   shutdown) during a slow response is prompt.
#
# Run by tools/test (it needs root for runuser, like the rest of the harness).
# About 90 s, most of it waiting for pg_cron's minute.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

N=0
FAILED=0
ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check()  { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; return 1; fi; }

STANDBY_DIR=""
STANDBY_PORT=""
BG_PIDS=()
worker_cleanup() {
  local p
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ -n "$STANDBY_DIR" ] && [ -d "$STANDBY_DIR" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STANDBY_DIR" -m immediate -w stop >/dev/null 2>&1
  fi
  vtj_cleanup
}
trap worker_cleanup EXIT

q()    { local db=$1; shift; "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$*" 2>&1; }
mock() { if [ $# -ge 3 ]; then curl -sS -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$VTJ_MOCK_URL$2"
         else curl -sS -X "$1" "$VTJ_MOCK_URL$2"; fi; }
now()  { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
lt()   { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
# wait_for SECONDS DB SQL: until the query returns t (polls every 0.2 s)
wait_for() {
  local limit=$1 db=$2 sql=$3 t0; t0=$(now)
  while lt "$(elapsed "$t0")" "$limit"; do
    [ "$(q "$db" "$sql")" = t ] && return 0
    sleep 0.2
  done
  return 1
}
set_conf() {   # set_conf "name = 'value'" ...: ALTER SYSTEM + reload
  local kv
  for kv in "$@"; do q postgres "ALTER SYSTEM SET $kv" >/dev/null; done
  q postgres "SELECT pg_reload_conf()" >/dev/null
}
workers() { q postgres "SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker'"; }
key()     { q "$1" "SELECT kirjausavain FROM vtj.status"; }
runs()    { q "$1" "SELECT count(*) FROM vtj.sync_runs WHERE started_by = 'worker'"; }
# The register as readers see it, without run ids and times: equal in two
# databases that applied the same pages.
state() {
  q "$1" "SELECT md5(string_agg(x, '|' ORDER BY x)) || ' ' || count(*) FROM (
    SELECT format('P %s %s %s %s %s %s %s %s %s %s %s %s', hetu, etunimet, sukunimi, aidinkieli, asiointikieli, kuollut,
                  kuolinpv, turvakielto, turvakielto_loppupv, kotikunta, kotikunta_nimi, kuntaan_muuttopv) AS x FROM vtj.persons
    UNION ALL SELECT format('A %s', a.*) FROM vtj.addresses a
    UNION ALL SELECT format('N %s', n.*) FROM vtj.name_history n
    UNION ALL SELECT format('C %s %s %s', hetu, tietoryhma, muutosattribuutti) FROM vtj.changes
    UNION ALL SELECT format('R %s %s', hetu, purpose) FROM vtj.register
    UNION ALL SELECT format('K %s', kirjausavain) FROM vtj.status) s"
}
change_records() { q "$1" "SELECT coalesce(sum(records), 0) FROM vtj.sync_runs WHERE kind = 'changes'"; }

echo "# pg_vtj background worker checks"
T_START=$(now)

# --- cluster, mock, databases -------------------------------------------------------------
vtj_start_mock >/dev/null 2>&1 || { echo "Bail out! the mock server did not start"; exit 1; }
vtj_start_cluster \
  "shared_preload_libraries = 'pg_cron,pg_vtj'" \
  "max_worker_processes = 40" \
  "cron.database_name = 'postgres'" \
  "cron.use_background_workers = on" \
  "cron.log_run = on" \
  "vtj.base_url = '$VTJ_MOCK_URL/api/v1'" \
  "vtj.xroad_client = 'FI/MUN/0123456-7/vtj-test'" \
  "vtj.username = 'vtjuser'" \
  "vtj.password = 'vtjpass'" \
  "vtj.http_timeout_ms = 60000" \
  "vtj.http_retries = 0" \
  "vtj.worker_databases = 'vtjw, nox'" \
  "vtj.sync_interval = '1s'" >/dev/null 2>&1 || { echo "Bail out! the cluster did not start"; exit 1; }
export VTJ_MOCK_URL

HETUS=$VTJ_WORK/hetus.txt
"$VTJ_PYTHON" "$VTJ_ROOT/test/mock/vtj_mock.py" --print-hetus 200 >"$HETUS"
chmod 644 "$HETUS"
K0=8000000
mock POST /_mock/population '{"size": 200}' >/dev/null
mock POST /_mock/config "{\"start_key\": $K0}" >/dev/null

# vtjw: the worker's database; ref: synced by SQL only (the reference);
# vtjk: the crash database (SQL first, the worker later); nox: listed, no
# extension; cronfail: pg_cron's failing job.
for db in vtjw ref vtjk nox cronfail; do q postgres "CREATE DATABASE $db" >/dev/null; done
q postgres "CREATE ROLE cronadmin LOGIN" >/dev/null
for db in vtjw ref vtjk cronfail; do
  q "$db" "CREATE EXTENSION pg_vtj" >/dev/null
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$db" \
    -c "CREATE TEMP TABLE h (hetu text)" -c "\\copy h FROM '$HETUS'" \
    -c "SELECT vtj.add_persons(array_agg(hetu), 'laskutus') FROM h" >/dev/null 2>&1 ||
    not_ok "register the test persons in $db"
done
q postgres "GRANT vtj_admin TO cronadmin" >/dev/null
q cronfail "ALTER DATABASE cronfail SET vtj.base_url = 'http://127.0.0.1:9/api/v1'" >/dev/null

# pg_cron, from its own database: scheduled now, checked once its minute came.
q postgres "CREATE EXTENSION pg_cron" >/dev/null
JOB_OK=$(q postgres "SELECT cron.schedule_in_database('vtj-sync', '* * * * *', 'SELECT vtj.sync()', 'vtjw', 'cronadmin')")
JOB_FAIL=$(q postgres "SELECT cron.schedule_in_database('vtj-sync-failing', '* * * * *', 'SELECT vtj.sync()', 'cronfail', 'cronadmin')")
check "pg_cron: cron.schedule_in_database('...', '* * * * *', 'SELECT vtj.sync()', '<database>') from pg_cron's database" \
  test -n "$JOB_OK" -a -n "$JOB_FAIL"
q postgres "SELECT pg_reload_conf()" >/dev/null   # the launcher looks at the list at once

# ref and vtjk: base load by SQL, at the same key as the worker's.
for db in ref vtjk; do q "$db" "SELECT vtj.sync()" >/dev/null; done

# --- worker start --------------------------------------------------------------------------
check "the launcher runs (backend_type 'pg_vtj launcher')" \
  wait_for 5 postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj launcher'"
check "a worker starts for the listed database with the extension" wait_for 10 postgres \
  "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND application_name = 'pg_vtj worker' AND datname = 'vtjw'"
check "it base-loads the register as started_by 'worker'" \
  wait_for 10 vtjw "SELECT count(*) = 200 FROM vtj.persons"
check "... as the extension owner (the run worker's user)" \
  test "$(q vtjw "SELECT count(*) FROM vtj.sync_runs WHERE started_by = 'worker' AND kind = 'base' AND status = 'ok'")" = 1
check "no worker stays for the listed database without the extension" \
  test "$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'nox'")" = 0
check "... and nothing about it in the server log" bash -c "! grep -E '\"nox\"' '$VTJ_LOG'"

# --- runs at the interval, page by page; equal to an uninterrupted SQL sync -----------------------
S1=$(mock POST /_mock/changes/generate "{\"count\": 200, \"pages\": 4, \"seed\": 11, \"start_key\": $K0}")
K1=$(sed -n 's/.*"end_key": *\([0-9]*\).*/\1/p' <<<"$S1")
check "the mock generated a scenario of 4 pages" test -n "$K1"
check "the worker follows the chain to its end by itself" wait_for 15 vtjw "SELECT kirjausavain = $K1 FROM vtj.status"
q ref "SELECT vtj.sync()" >/dev/null; q vtjk "SELECT vtj.sync()" >/dev/null
a=$(state vtjw); b=$(state ref)
if [ "$a" = "$b" ]; then ok "the worker's register equals the SQL-synced reference"
else not_ok "the worker's register equals the SQL-synced reference" "worker: $a" "ref:    $b"; fi
r0=$(runs vtjw); sleep 3; r1=$(runs vtjw)
check "it runs every vtj.sync_interval (1 s): $((r1 - r0)) runs in 3 s" test $((r1 - r0)) -ge 2 -a $((r1 - r0)) -le 4
check "pg_stat_activity shows what it does" wait_for 3 postgres \
  "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND query LIKE 'pg_vtj worker: %'"
check "vtj.status shows the last success" test "$(q vtjw "SELECT last_success_age < interval '10 s' AND warning IS NULL FROM vtj.status")" = t

# --- concurrent worker and SQL runs never apply a page twice ---------------------------------------------
mock POST /_mock/faults '{"rules": [{"path": "/api/v1/muutokset", "kind": "latency", "ms": 300, "times": -1}]}' >/dev/null
S2=$(mock POST /_mock/changes/generate "{\"count\": 240, \"pages\": 6, \"seed\": 12, \"start_key\": $K1}")
K2=$(sed -n 's/.*"end_key": *\([0-9]*\).*/\1/p' <<<"$S2")
for i in 1 2; do
  ( t0=$(now); while lt "$(elapsed "$t0")" 5; do q vtjw "SELECT vtj.sync()"; done >"$VTJ_WORK/loop$i.out" ) &
  BG_PIDS+=($!)
done
check "worker and two SQL sessions syncing at once reach the chain's end" wait_for 20 vtjw "SELECT kirjausavain = $K2 FROM vtj.status"
for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done; BG_PIDS=()
mock DELETE /_mock/faults >/dev/null
q ref "SELECT vtj.sync()" >/dev/null; q vtjk "SELECT vtj.sync()" >/dev/null
busy=$(cat "$VTJ_WORK"/loop*.out | grep -c 'already in progress')
check "... excluding each other ($busy SQL runs found the chain busy and returned 0)" test "$busy" -ge 1
a=$(change_records vtjw); b=$(change_records ref)
check "... and no page applied twice: $a change records applied, as in the reference" test "$a" = "$b"
a=$(state vtjw); b=$(state ref)
if [ "$a" = "$b" ]; then ok "... and the register equals the reference"
else not_ok "... and the register equals the reference" "worker: $a" "ref:    $b"; fi

# --- SIGHUP: interval, sync_now, databases added and removed ------------------------------------------
set_conf "vtj.sync_interval = 0"
sleep 1.5; r0=$(runs vtjw); sleep 2.5; r1=$(runs vtjw)
check "SIGHUP: vtj.sync_interval = 0 stops the periodic runs" test "$r0" = "$r1"
check "... the worker says so in pg_stat_activity" test "$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND query LIKE '%vtj.sync_interval = 0%'")" = 1
t0=$(now); q vtjw "SELECT vtj.sync_now()" >/dev/null
check "vtj.sync_now() wakes it at once" wait_for 3 vtjw "SELECT count(*) = $((r1 + 1)) FROM vtj.sync_runs WHERE started_by = 'worker' AND status <> 'running'"
check "... (run started within $(elapsed "$t0") s)" lt "$(elapsed "$t0")" 3
out=$(q ref "SELECT vtj.sync_now()")
check "vtj.sync_now() raises in a database without a worker" grep -q 'no pg_vtj background worker runs for database "ref"' <<<"$out"
set_conf "vtj.sync_interval = '1s'" "vtj.worker_databases = 'vtjw, nox, vtjk'"
check "SIGHUP: a database added to vtj.worker_databases gets a worker" wait_for 5 postgres \
  "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND datname = 'vtjk'"
check "SIGHUP: the interval is back" wait_for 4 vtjk "SELECT count(*) >= 2 FROM vtj.sync_runs WHERE started_by = 'worker'"

# --- back-off after failures, and sync_now overriding it --------------------------------------------------
mock POST /_mock/faults '{"rules": [{"path": "/api/v1/muutokset", "kind": "status", "status": 503, "times": -1}]}' >/dev/null
wait_for 15 vtjw "SELECT count(*) >= 3 FROM (SELECT 1 FROM vtj.sync_runs WHERE started_by = 'worker' AND status = 'failed') f" >/dev/null
gaps=$(q vtjw "SELECT string_agg(round(extract(epoch FROM g)::numeric, 1)::text, ' ' ORDER BY id) FROM (
                 SELECT id, started_at - lag(started_at) OVER (ORDER BY id) AS g FROM vtj.sync_runs
                  WHERE started_by = 'worker' AND status = 'failed') x WHERE g IS NOT NULL")
read -r g1 g2 _ <<<"$gaps"
check "failed runs back off exponentially (gaps $gaps s after 1 s runs)" \
  awk -v a="${g1:-0}" -v b="${g2:-0}" 'BEGIN { exit !(a >= 1.5 && b >= 1.6 * a) }'
check "... and the worker says so" test "$(q postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'vtjw' AND backend_type = 'pg_vtj worker' AND query LIKE '%backing off after%'")" = 1
mock DELETE /_mock/faults >/dev/null
f0=$(q vtjw "SELECT count(*) FROM vtj.sync_runs WHERE started_by = 'worker' AND status = 'ok'")
q vtjw "SELECT vtj.sync_now()" >/dev/null
check "vtj.sync_now() overrides the back-off; the next run succeeds" \
  wait_for 3 vtjw "SELECT count(*) > $f0 FROM vtj.sync_runs WHERE started_by = 'worker' AND status = 'ok'"
check "the failures are in vtj.status" test "$(q vtjw "SELECT failed_last_24h >= 3 FROM vtj.status")" = t

# --- DROP DATABASE and DROP EXTENSION are not blocked ---------------------------------------------------
for db in vtjd1 vtjd2; do
  q postgres "CREATE DATABASE $db" >/dev/null; q "$db" "CREATE EXTENSION pg_vtj" >/dev/null
done
"$PG_BIN/psql" -X -q -d vtjd2 -c "CREATE TEMP TABLE h (hetu text)" -c "\\copy h FROM '$HETUS'" \
  -c "SELECT vtj.add_persons((array_agg(hetu))[1:5], 'laskutus') FROM h" >/dev/null 2>&1
set_conf "vtj.worker_databases = 'vtjw, nox, vtjk, vtjd1, vtjd2'"
wait_for 5 postgres "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND datname IN ('vtjd1', 'vtjd2')" >/dev/null
wait_for 5 postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND datname = 'vtjd1' AND state = 'idle'" >/dev/null
t0=$(now); out=$(q postgres "DROP DATABASE vtjd1"); rc=$?
check "DROP DATABASE while its worker sleeps: done in $(elapsed "$t0") s" test $rc -eq 0 -a "$(q postgres "SELECT count(*) FROM pg_database WHERE datname = 'vtjd1'")" = 0 || echo "# $out"
mock POST /_mock/faults '{"rules": [{"path": "/api/v1/muutokset", "kind": "delay", "ms": 30000, "times": -1}]}' >/dev/null
wait_for 8 postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND datname = 'vtjd2' AND query LIKE 'pg_vtj: change sync%'" >/dev/null
t0=$(now); out=$(q postgres "DROP DATABASE vtjd2"); rc=$?
d=$(elapsed "$t0")
check "DROP DATABASE while its worker's run waits on HTTP: done in $d s" test $rc -eq 0 || echo "# $out"
check "... promptly" lt "$d" 6

# the same slow answer: removing a database from the list stops its worker and run at once
wait_for 8 postgres "SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND datname = 'vtjk' AND query LIKE 'pg_vtj: change sync%'" >/dev/null
t0=$(now); set_conf "vtj.worker_databases = 'vtjw, nox'"
check "SIGHUP: a database removed from the list loses its worker, also during an HTTP wait" wait_for 6 postgres \
  "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'vtjk' AND backend_type LIKE 'pg_vtj%'"
check "... within $(elapsed "$t0") s" lt "$(elapsed "$t0")" 6

wait_for 8 postgres "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND datname = 'vtjw' AND query LIKE 'pg_vtj: change sync%'" >/dev/null
t0=$(now); out=$(q vtjw "DROP EXTENSION pg_vtj"); rc=$?
check "DROP EXTENSION while the worker's run waits on HTTP: done in $(elapsed "$t0") s" test $rc -eq 0 || echo "# $out"
mock DELETE /_mock/faults >/dev/null
check "... and the worker leaves quietly" wait_for 12 postgres \
  "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = 'vtjw' AND backend_type LIKE 'pg_vtj%'"
q vtjw "CREATE EXTENSION pg_vtj" >/dev/null; q nox "CREATE EXTENSION pg_vtj" >/dev/null
check "CREATE EXTENSION is noticed: the workers come (back) by themselves" wait_for 8 postgres \
  "SELECT count(*) = 2 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND datname IN ('vtjw', 'nox')"
check "no worker error in the server log so far" bash -c "! grep -E 'pg_vtj (worker|launcher).*(ERROR|FATAL)|(ERROR|FATAL|WARNING): .*pg_vtj (worker|launcher)|background worker \"pg_vtj.*exited with exit code [^0]' '$VTJ_LOG'"

# --- kill -9 of a run worker mid-merge -------------------------------------------------------------------
# vtjk catches up by SQL first (the worker left it in an HTTP wait above).
q vtjk "SELECT vtj.sync()" >/dev/null
S3=$(mock POST /_mock/changes/generate "{\"count\": 150, \"pages\": 3, \"seed\": 13, \"start_key\": $K2}")
K3=$(sed -n 's/.*"end_key": *\([0-9]*\).*/\1/p' <<<"$S3")
# A session holds every register row of vtjk: the run's first page waits for
# them inside its page transaction, after it moved the key.
printf '%s\n' "BEGIN;" "SELECT count(*) FROM (SELECT 1 FROM vtj.subject FOR UPDATE) s;" "SELECT pg_sleep(60);" |
  "$PG_BIN/psql" -X -q -d vtjk >/dev/null 2>&1 &
BG_PIDS+=($!)
sleep 0.5
set_conf "vtj.worker_databases = 'vtjw, nox, vtjk'"
check "the run of vtjk waits inside its first page's transaction" wait_for 10 postgres \
  "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND datname = 'vtjk' AND wait_event_type = 'Lock'"
victim=$(q postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND datname = 'vtjk'")
killed_run=$(q vtjk "SELECT max(id) FROM vtj.run WHERE status = 'running'")
kill -9 "$victim"
for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done; BG_PIDS=()
check "after kill -9 the postmaster restarts and the worker comes back" wait_for 30 postgres \
  "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj worker' AND datname = 'vtjk'"
check "the next run marks the killed run failed" wait_for 10 vtjk \
  "SELECT status = 'failed' AND error LIKE '%ended without finishing%' FROM vtj.sync_runs WHERE id = $killed_run"
check "... and so is the run stopped during the HTTP wait" \
  test "$(q vtjk "SELECT count(*) FROM vtj.sync_runs WHERE status = 'running' AND id < $killed_run")" = 0
check "the worker completes the chain" wait_for 15 vtjk "SELECT kirjausavain = $K3 FROM vtj.status"
q ref "SELECT vtj.sync()" >/dev/null
a=$(state vtjk); b=$(state ref)
if [ "$a" = "$b" ]; then ok "the register is identical to the uninterrupted reference (no half-merged page)"
else not_ok "the register is identical to the uninterrupted reference (no half-merged page)" "vtjk: $a" "ref:  $b"; fi
a=$(change_records vtjk); b=$(change_records ref)
check "... and the same change records were applied ($a)" test "$a" = "$b"

# --- retention at the end of a worker run ----------------------------------------------------------------
# (after the comparisons: every run of every database applies it)
DEAD=$(sed -n 7p "$HETUS")
set_conf "vtj.deceased_retention = '1d'"
q vtjk "UPDATE vtj.person_state SET kuollut = true, kuolinpv = current_date - 3, kuolinpv_tarkkuus = 'PAIVA' WHERE hetu = '$DEAD'" >/dev/null
q vtjk "UPDATE vtj.journal SET logged_at = now() - interval '40 days' WHERE kind = 'base'" >/dev/null
check "retention at the end of a worker run ends the registration of a person dead longer than vtj.deceased_retention" \
  wait_for 5 vtjk "SELECT NOT EXISTS (SELECT 1 FROM vtj.register WHERE hetu = '$DEAD')"
check "... and removes journal rows older than vtj.journal_retention" \
  test "$(q vtjk "SELECT count(*) FROM vtj.journal WHERE logged_at < now() - interval '30 days'")" = 0
set_conf "vtj.deceased_retention = -1"

# --- a hot standby ---------------------------------------------------------------------------------------
STANDBY_DIR=$VTJ_WORK/standby
STANDBY_PORT=$(vtj_free_port)
if runuser -u postgres -- "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres -D "$STANDBY_DIR" -R -X stream \
     >"$VTJ_WORK/basebackup.log" 2>&1; then
  {
    echo "port = $STANDBY_PORT"
    echo "hot_standby = on"
    echo "cron.database_name = 'postgres'"
  } >>"$STANDBY_DIR/postgresql.conf"
  rm -f "$STANDBY_DIR/postgresql.auto.conf.tmp"
  if runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STANDBY_DIR" -l "$VTJ_WORK/standby.log" -w -t 60 start >/dev/null 2>&1; then
    qs() { local db=$1; shift; PGPORT=$STANDBY_PORT q "$db" "$@"; }
    sleep 2
    check "standby: in recovery" test "$(qs postgres "SELECT pg_is_in_recovery()")" = t
    check "standby: no pg_vtj launcher or worker runs" \
      test "$(qs postgres "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_vtj%'")" = 0
    check "standby: the views are readable" test "$(qs vtjk "SELECT count(*) > 0 FROM vtj.persons")" = t
    check "standby: a fetch is refused" grep -q 'standby' <<<"$(qs vtjk "SELECT vtj.sync()")"
    check "standby: vtj.sync_now() raises" grep -q 'no pg_vtj background worker runs' <<<"$(qs vtjk "SELECT vtj.sync_now()")"
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$STANDBY_DIR" -m fast -w stop >/dev/null 2>&1
  else
    not_ok "standby: starts" "$(tail -5 "$VTJ_WORK/standby.log")"
  fi
else
  not_ok "standby: pg_basebackup" "$(tail -5 "$VTJ_WORK/basebackup.log")"
fi

# --- pg_cron ---------------------------------------------------------------------------------------------
check "pg_cron: the vtj.sync() job succeeds (a run, or 0 while the worker holds the chain)" wait_for 75 postgres \
  "SELECT EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = $JOB_OK AND status = 'succeeded')"
check "pg_cron: a failed run makes the job fail (VT001 names the run)" wait_for 10 postgres \
  "SELECT EXISTS (SELECT 1 FROM cron.job_run_details WHERE jobid = $JOB_FAIL AND status = 'failed' AND return_message LIKE '%pg_vtj run % failed%')"
check "pg_cron: its run is recorded failed, started by the job's user" \
  test "$(q cronfail "SELECT count(*) > 0 FROM vtj.sync_runs WHERE status = 'failed' AND started_by = 'cronadmin'")" = t
q postgres "SELECT cron.unschedule($JOB_OK), cron.unschedule($JOB_FAIL)" >/dev/null

# --- the log --------------------------------------------------------------------------------------------
check "one log line per run: counts and duration" grep -Eq 'pg_vtj changes run [0-9]+ ok in [0-9.]+ s: [0-9]+ records' "$VTJ_LOG"
check "no hetu in the server log" bash -c "! grep -F -f '$HETUS' '$VTJ_LOG'"
check "no credential in the server log" bash -c "! grep -E 'vtjpass|dnRqdXNlcjp2dGpwYXNz' '$VTJ_LOG'"

# --- SIGTERM during a slow response ---------------------------------------------------------------------
mock POST /_mock/faults '{"rules": [{"path": "/api/v1/muutokset", "kind": "delay", "ms": 30000, "times": -1}]}' >/dev/null
wait_for 8 postgres "SELECT count(*) >= 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run' AND query LIKE 'pg_vtj: change sync%'" >/dev/null
t0=$(now)
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$VTJ_PGDATA" -m fast -w -t 60 stop >/dev/null 2>&1
d=$(elapsed "$t0")
check "fast shutdown (SIGTERM) while runs wait on a 30 s answer takes $d s" lt "$d" 6
mock DELETE /_mock/faults >/dev/null

echo "1..$N"
echo "# $(elapsed "$T_START") s"
if [ "$FAILED" -gt 0 ]; then
  echo "# $FAILED of $N worker checks failed"
  [ "${VTJ_KEEP:-0}" = 1 ] && echo "# server log: $VTJ_LOG"
  exit 1
fi
exit 0
