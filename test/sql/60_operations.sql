-- Operations (issue 6) that need no restart: vtj.sync_now() without a worker,
-- NOTIFY vtj_changes (run id payload, never a hetu), running counts and
-- pg_stat_activity while a run is in progress, retention at the end of every
-- run and vtj._apply_retention's rules, vtj.status's columns. The worker
-- itself (preload, restarts, signals, pg_cron) is test/harness/worker_checks.sh.
-- Runs commit, so this file does not roll back: the harness gives it a fresh
-- database.
\ir lib/mock.sql
SET client_min_messages = warning;
SELECT plan(38);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 12}');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 7000}');
CREATE TABLE pg_temp.h AS SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(12) AS hetu;
SELECT is(vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n <= 10), 'laskutus'),
          10::bigint, '10 test persons registered');

-- ---------------------------------------------------------------- sync_now
-- The test cluster preloads pg_vtj but lists no database in vtj.worker_databases.
SELECT throws_ok('SELECT vtj.sync_now()', '55000', NULL, 'vtj.sync_now() raises when no worker runs for the database');
SELECT throws_like('SELECT vtj.sync_now()', '%no pg_vtj background worker runs for database%',
                   'and says so');

-- ---------------------------------------------------------------- NOTIFY vtj_changes
-- A second session listens (dblink: a notification is delivered to a session
-- between its statements, which a pgTAP script cannot observe in itself).
CREATE EXTENSION dblink;
SELECT dblink_connect('listener', format('dbname=%s host=%s port=%s user=postgres', current_database(),
                      current_setting('unix_socket_directories'), current_setting('port')));
SELECT dblink_exec('listener', 'LISTEN vtj_changes');
CREATE TABLE pg_temp.notes (name text, payload text);
-- Collects what has arrived, waiting up to 3 s for at least p_min notifications.
CREATE FUNCTION pg_temp.collect(p_min integer) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE i integer := 0;
BEGIN
    LOOP
        INSERT INTO pg_temp.notes SELECT notify_name, extra FROM dblink_get_notify('listener');
        EXIT WHEN (SELECT count(*) FROM pg_temp.notes) >= p_min OR i >= 30;
        PERFORM pg_sleep(0.1);
        i := i + 1;
    END LOOP;
    RETURN (SELECT count(*) FROM pg_temp.notes);
END $f$;

SELECT is(vtj.sync(), 0::bigint, 'first sync: base load');
SELECT ok(pg_temp.collect(1) >= 1, 'the base load notified vtj_changes');
SELECT is((SELECT array_agg(DISTINCT payload) FROM pg_temp.notes),
          (SELECT array_agg(id::text) FROM vtj.sync_runs WHERE kind = 'base'),
          'with the base run''s id as payload');

CREATE FUNCTION pg_temp.name_change(p_hetu text, p_first text) RETURNS jsonb LANGUAGE sql AS $f$
    SELECT jsonb_build_object('henkilotunnus', p_hetu, 'muutospv', '2026-01-01T22:00:00.000Z',
        'tietoryhmat', jsonb_build_array(jsonb_build_object('tietoryhma', 'HENKILON_NIMI',
            'muutosattribuutti', 'MUUTETTU', 'etunimi', p_first, 'sukunimi', 'Testinen',
            'etunimiUTF8', p_first, 'sukunimiUTF8', 'Testinen',
            'alkupv', jsonb_build_object('arvo', ((now() AT TIME ZONE 'Europe/Helsinki')::date - 1)::text, 'tarkkuus', 'PAIVA'))))
$f$;
-- Two pages; the second answer is held 2.5 s so the run can be watched.
SELECT pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', 7000, 'pages', jsonb_build_array(
    jsonb_build_object('muutokset', jsonb_build_array(pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 1), 'Aapo'),
                                                       pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 2), 'Bertta')),
                       'next_key', 7010),
    jsonb_build_object('muutokset', jsonb_build_array(pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 3), 'Cecilia')),
                       'next_key', 7020)))::text);
SELECT pg_temp.mock('POST', '/_mock/faults', '{"rules": [{"path": "/api/v1/muutokset", "kind": "delay", "ms": 2500, "skip": 1}]}');
TRUNCATE pg_temp.notes;

-- ---------------------------------------------------------------- a run in progress
SELECT dblink_connect('runner', format('dbname=%s host=%s port=%s user=postgres', current_database(),
                      current_setting('unix_socket_directories'), current_setting('port')));
SELECT dblink_send_query('runner', 'SELECT vtj.sync()');
-- Wait until the first page is merged (the run then waits for the second).
CREATE FUNCTION pg_temp.wait_for(p_sql text, p_seconds numeric) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE t0 timestamptz := clock_timestamp(); v boolean;
BEGIN
    LOOP
        EXECUTE p_sql INTO v;
        IF v THEN RETURN true; END IF;
        IF clock_timestamp() - t0 > make_interval(secs => p_seconds) THEN RETURN false; END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END $f$;
SELECT ok(pg_temp.wait_for($$SELECT EXISTS (SELECT 1 FROM vtj.sync_runs WHERE kind = 'changes' AND status = 'running' AND records = 2)$$, 5),
          'vtj.sync_runs shows the running run with the counts of its merged page');
SELECT is((SELECT http_requests FROM vtj.sync_runs WHERE status = 'running'), 1::bigint,
          'and its requests so far');
SELECT ok(pg_temp.wait_for($$SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run'
                                             AND application_name = 'pg_vtj run' AND query LIKE 'pg_vtj: change sync, page 2%')$$, 2),
          'pg_stat_activity shows the run worker and what it does');
SELECT ok(pg_temp.collect(1) >= 1, 'the committed first page notified while the run goes on');
SELECT is((SELECT x FROM dblink_get_result('runner') AS r(x bigint)), 3::bigint, 'the run applies both pages');
SELECT dblink_disconnect('runner');
SELECT is(pg_temp.collect(2), 2::bigint, 'one notification per page with feed rows');
SELECT is((SELECT array_agg(DISTINCT payload) FROM pg_temp.notes),
          (SELECT array_agg(id::text) FROM vtj.sync_runs WHERE kind = 'changes' AND records = 3),
          'each with the run id as payload');
SELECT is((SELECT array_agg(DISTINCT name) FROM pg_temp.notes), ARRAY['vtj_changes'], 'on channel vtj_changes');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_temp.notes n WHERE n.payload !~ '^[0-9]+$'
                      OR EXISTS (SELECT 1 FROM pg_temp.h WHERE strpos(n.payload, h.hetu) > 0)),
          'no payload carries anything but a run id (never a hetu)');
SELECT pg_temp.mock('DELETE', '/_mock/faults');
TRUNCATE pg_temp.notes;
SELECT is(vtj.sync(), 0::bigint, 'a sync without changes');
SELECT is(pg_temp.collect(0), 0::bigint, 'adds no feed row and sends no notification');
SELECT dblink_disconnect('listener');

-- ---------------------------------------------------------------- retention at the end of a run
-- Age some rows by hand (the defaults: journal 30 d, history 30 d, change
-- feed 90 d, runs 2 y); the next run, whoever starts it, removes them.
CREATE TABLE pg_temp.before AS
SELECT (SELECT count(*) FROM vtj.journal) AS journal,
       (SELECT count(*) FROM vtj.change_feed) AS feed,
       (SELECT count(*) FROM vtj.run) AS runs;
UPDATE vtj.journal SET logged_at = now() - interval '31 days'
 WHERE run_id = (SELECT min(id) FROM vtj.run WHERE kind = 'base');
UPDATE vtj.journal SET logged_at = now() - interval '29 days'
 WHERE run_id = (SELECT max(id) FROM vtj.run WHERE kind = 'changes' AND records = 3);
UPDATE vtj.change_feed SET applied_at = now() - interval '91 days' WHERE tietoryhma = 'PERUSTIEDOT';
INSERT INTO vtj.run (kind, started_at, finished_at, status, started_by)
VALUES ('changes', now() - interval '3 years', now() - interval '3 years', 'ok', 'vanha'),
       ('changes', now() - interval '3 years', now() - interval '3 years', 'failed', 'vanha'),
       ('changes', now() - interval '1 year', now() - interval '1 year', 'failed', 'tuore');
-- Ended entries: an address that ended 40 days ago (goes), a language that
-- ended 10 days ago (stays), a name-history entry that ended long ago (not
-- history in the retention sense: stays).
CREATE TABLE pg_temp.ended AS
SELECT 'old_address'::text AS what, (SELECT e.id FROM vtj.person_entry e JOIN pg_temp.h USING (hetu)
                                      WHERE h.n = 4 AND e.tietoryhma LIKE '%OSOITE' ORDER BY e.id LIMIT 1) AS id, 40 AS days
UNION ALL
SELECT 'recent_language', (SELECT e.id FROM vtj.person_entry e JOIN pg_temp.h USING (hetu)
                            WHERE h.n = 5 AND e.tietoryhma IN ('AIDINKIELI', 'ASIOINTIKIELI') ORDER BY e.id LIMIT 1), 10;
INSERT INTO vtj.person_entry (hetu, tietoryhma, nimilaji, nimi, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
SELECT hetu, 'NIMENMUUTOS', 'EDELLINEN_SUKUNIMI', 'Vanhanen', date '2000-01-01', 'PAIVA', date '2001-01-01', 'PAIVA'
  FROM pg_temp.h WHERE n = 6;
SELECT ok((SELECT count(id) FROM pg_temp.ended) = 2, 'entries to age were found');
UPDATE vtj.person_entry e
   SET loppupv = (now() AT TIME ZONE 'Europe/Helsinki')::date - x.days, loppupv_tarkkuus = 'PAIVA'
  FROM pg_temp.ended x WHERE e.id = x.id;

-- The history pass runs when its cut-off date has moved, i.e. at the first
-- run of a Finnish day: make this run the first of a new day.
UPDATE vtj.retention_state SET history_cutoff = NULL;
SELECT is(vtj.sync(), 0::bigint, 'a run');
SELECT is((SELECT count(*) FROM vtj.journal WHERE logged_at < now() - interval '30 days'), 0::bigint,
          'retention at the end of the run removed journal rows older than 30 days');
SELECT ok((SELECT count(*) FROM vtj.journal WHERE logged_at < now() - interval '28 days') > 0,
          'and kept younger ones');
SELECT is((SELECT count(*) FROM vtj.change_feed WHERE tietoryhma = 'PERUSTIEDOT'), 0::bigint,
          'removed feed rows older than 90 days');
SELECT is((SELECT count(*) FROM vtj.change_feed WHERE tietoryhma = 'HENKILON_NIMI'), 3::bigint,
          'kept the recent ones');
SELECT is((SELECT string_agg(started_by || ' ' || status, ', ' ORDER BY started_by) FROM vtj.run WHERE started_by IN ('vanha', 'tuore')),
          'tuore failed', 'removed runs finished more than 2 years ago');
SELECT is((SELECT count(*) FROM vtj.person_entry WHERE id = (SELECT id FROM pg_temp.ended WHERE what = 'old_address')), 0::bigint,
          'removed an address entry that ended 40 days ago');
SELECT is((SELECT count(*) FROM vtj.person_entry WHERE id = (SELECT id FROM pg_temp.ended WHERE what = 'recent_language')), 1::bigint,
          'kept a language entry that ended 10 days ago');
SELECT is((SELECT count(*) FROM vtj.name_history n JOIN pg_temp.h USING (hetu) WHERE h.n = 6 AND n.nimi = 'Vanhanen'), 1::bigint,
          'kept name history');

SELECT is((SELECT history_cutoff FROM vtj.retention_state),
          ((now() - interval '30 days') AT TIME ZONE 'Europe/Helsinki')::date, 'the history pass recorded its cut-off');
-- Later the same day the history pass does not read person_entry again.
UPDATE vtj.person_entry e
   SET loppupv = (now() AT TIME ZONE 'Europe/Helsinki')::date - 50, loppupv_tarkkuus = 'PAIVA'
  FROM pg_temp.ended x WHERE e.id = x.id AND x.what = 'recent_language';
SELECT is((vtj._apply_retention()->>'history')::bigint, 0::bigint, 'a second pass the same day skips the history');
SELECT ok((vtj._apply_retention(now() + interval '1 day')->>'history')::bigint >= 1,
          'the next day''s first pass reads it again');
SELECT is((SELECT count(*) FROM vtj.person_entry WHERE id = (SELECT id FROM pg_temp.ended WHERE what = 'recent_language')), 0::bigint,
          'and removes what ended before the new cut-off');

-- ---------------------------------------------------------------- the rules, with a later clock
SELECT is(vtj._apply_retention(now() + interval '100 days') - 'admin_log',
          jsonb_build_object('journal', (SELECT count(*) FROM vtj.journal), 'history',
                             (SELECT count(*) FROM vtj.person_entry WHERE loppupv IS NOT NULL
                                 AND tietoryhma NOT IN ('NIMENMUUTOS', 'HENKILON_NIMI', 'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS')
                                 AND loppupv < ((now() + interval '100 days' - interval '43200 minutes') AT TIME ZONE 'Europe/Helsinki')::date),
                             'changes', (SELECT count(*) FROM vtj.change_feed), 'runs', 0, 'deceased', 0),
          '100 days on: the whole journal and feed, the history ended before day 70; no run; no deceased (off by default)');
SELECT is((SELECT count(*) FROM vtj.journal) + (SELECT count(*) FROM vtj.change_feed), 0::bigint, 'journal and feed are empty');
SELECT is((vtj._apply_retention(now() + interval '3 years')->>'runs')::bigint,
          (SELECT count(*) - 1 FROM vtj.run), 'three years on: every run but the latest success');
SELECT is((SELECT count(*) FROM vtj.run WHERE status = 'ok'), 1::bigint, 'the latest success is kept (vtj.status reports its age)');
SELECT ok((SELECT last_success_at IS NOT NULL FROM vtj.status), 'so vtj.status still knows it');
SELECT is((SELECT count(*) FROM vtj.persons), 10::bigint, 'retention removed no person (deceased retention is off)');

-- ---------------------------------------------------------------- vtj.status
SELECT columns_are('vtj', 'status', ARRAY['last_success_at', 'last_success_age', 'kirjausavain', 'key_advanced_at',
                                          'registered', 'not_loaded', 'not_found', 'stale', 'deceased',
                                          'failed_last_24h', 'warning'],
                   'vtj.status has the columns of product.md §3');

SELECT * FROM finish();
