-- Runs against the mock VTJ server: base load, change sync, the run record,
-- faults (nothing of a failing page merged, key kept, run failed with a
-- clear, personal-data-free error, the next run completes), misuse refused
-- before any request, cancel. Runs commit, so this file does not roll back:
-- the harness gives it a fresh database.
\ir lib/mock.sql
SET client_min_messages = warning;
SELECT plan(68);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 40}');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 5000}');

CREATE TABLE pg_temp.h AS SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(40) AS hetu;
SELECT is((SELECT count(*) FROM pg_temp.h), 40::bigint, 'the mock gave 40 test hetus');
SELECT is(vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n <= 30), 'laskutus'),
          30::bigint, '30 persons registered');

-- ---------------------------------------------------------------- misuse
SELECT pg_temp.mock('DELETE', '/_mock/requests');
BEGIN;
SELECT vtj.add_person((SELECT hetu FROM pg_temp.h WHERE n = 31), 'laskutus');
SELECT throws_ok('SELECT vtj.sync()', '25001', NULL,
                 'a run refuses to start in a transaction that changed data');
ROLLBACK;
SET vtj.base_url = '';
SELECT throws_ok('SELECT vtj.sync()', '22023', 'vtj.base_url is not set', 'missing base URL: refused');
RESET vtj.base_url;
SET vtj.base_url = 'ftp://127.0.0.1/api/v1';
SELECT throws_like('SELECT vtj.sync()', '%', 'a non-HTTP URL is refused');
RESET vtj.base_url;
SELECT throws_ok(format('SELECT vtj.load_base(ARRAY[%L])', (SELECT hetu FROM pg_temp.h WHERE n = 35)),
                 '22023', NULL, 'load_base refuses an unregistered hetu');
SELECT throws_ok($$SELECT vtj.refresh_person('010190-999K')$$, '22023', NULL,
                 'refresh_person refuses an invalid hetu');
SELECT is(jsonb_array_length(pg_temp.mock('GET', '/_mock/requests')), 0, 'misuse sent no request to VTJ');
SELECT is((SELECT count(*) FROM vtj.sync_runs), 0::bigint, 'misuse recorded no run');

-- ---------------------------------------------------------------- base load
SELECT is(vtj.sync(), 0::bigint, 'first sync applies no change records');
SELECT is((SELECT pg_temp.mock('GET', '/_mock/requests')->0->>'path'), '/api/v1/kirjausavain/' || (now() AT TIME ZONE 'Europe/Helsinki')::date,
          'the starting key is fetched first, for today''s Finnish date');
SELECT is((SELECT string_agg(format('%s %s %s %s', kind, status, persons, billed_persons), '; ' ORDER BY id) FROM vtj.sync_runs),
          'base ok 30 30; changes ok 0 0', 'a base run and a changes run, both ok');
SELECT is((SELECT count(*) FROM vtj.persons), 30::bigint, 'the 30 persons are in vtj.persons');
SELECT is((SELECT kirjausavain FROM vtj.status), 5000::bigint, 'the chain starts at the mock''s start key');
SELECT is((SELECT count(*) FROM vtj.changes WHERE tietoryhma = 'PERUSTIEDOT'), 30::bigint,
          'one PERUSTIEDOT feed row per first base load');
SELECT is((SELECT not_loaded FROM vtj.status), 0::bigint, 'nobody left to load');
SELECT ok((SELECT http_requests FROM vtj.sync_runs WHERE kind = 'base') >= 2, 'the base run counts its requests');

-- A hetu DVV does not know: marked not found, asked again later.
SELECT vtj.add_person('010594Y9032', 'laskutus');
SELECT is(vtj.load_base(), 0::bigint, 'an unknown hetu merges nobody');
SELECT is((SELECT not_found FROM vtj.status), 1::bigint, 'and is counted not found');
SELECT is((SELECT not_found FROM vtj.sync_runs ORDER BY id DESC LIMIT 1), 1::bigint, 'the run counts it too');

-- refresh_person
SELECT is(vtj.refresh_person((SELECT hetu FROM pg_temp.h WHERE n = 1)), true, 'refresh_person finds a known person');
SELECT is((SELECT kind FROM vtj.sync_runs ORDER BY id DESC LIMIT 1), 'refresh', 'recorded as a refresh run');
SELECT is((SELECT count(*) FROM vtj.changes WHERE tietoryhma = 'PERUSTIEDOT'), 30::bigint,
          'a refresh that changes nothing writes no feed row');

-- ---------------------------------------------------------------- change pages
CREATE FUNCTION pg_temp.name_change(p_hetu text, p_first text) RETURNS jsonb LANGUAGE sql AS $f$
    SELECT jsonb_build_object('henkilotunnus', p_hetu, 'muutospv', '2026-01-01T22:00:00.000Z',
        'tietoryhmat', jsonb_build_array(jsonb_build_object('tietoryhma', 'HENKILON_NIMI',
            'muutosattribuutti', 'MUUTETTU', 'etunimi', p_first, 'sukunimi', 'Testinen',
            'etunimiUTF8', p_first, 'sukunimiUTF8', 'Testinen',
            'alkupv', jsonb_build_object('arvo', ((now() AT TIME ZONE 'Europe/Helsinki')::date - 1)::text, 'tarkkuus', 'PAIVA'))))
$f$;
SELECT pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', 5000, 'pages', jsonb_build_array(
    jsonb_build_object('muutokset', jsonb_build_array(pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 1), 'Aatu'),
                                                       pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 2), 'Beea')),
                       'next_key', 5010),
    jsonb_build_object('muutokset', jsonb_build_array(pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 3), 'Ceci'),
                                                       pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 35), 'Unregistered')),
                       'next_key', 5020)))::text);
SELECT is(vtj.sync(), 3::bigint, 'sync applies the three registered persons'' records of two pages');
SELECT is((SELECT kirjausavain FROM vtj.status), 5020::bigint, 'the key follows the chain to its end');
SELECT results_eq($$SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n <= 3 ORDER BY n$$,
                  $$VALUES ('Aatu'::text), ('Beea'), ('Ceci')$$, 'the names changed');
SELECT is((SELECT count(*) FROM vtj.changes WHERE tietoryhma = 'HENKILON_NIMI'), 3::bigint, 'three feed rows');
SELECT is((SELECT records FROM vtj.sync_runs ORDER BY id DESC LIMIT 1), 3::bigint, 'the run counts three records');

-- Replaying merged pages is harmless (vtj.set_kirjausavain's effect, by hand).
SELECT vtj._chain_obtained(1, 5000);
SELECT ok(vtj.sync() IS NOT NULL, 'replaying merged pages is harmless');
SELECT results_eq($$SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n <= 3 ORDER BY n$$,
                  $$VALUES ('Aatu'::text), ('Beea'), ('Ceci')$$, 'the state is the same after the replay');
SELECT is((SELECT count(*) FROM vtj.changes WHERE tietoryhma = 'HENKILON_NIMI'), 3::bigint, 'and adds no feed row');
SELECT is((SELECT kirjausavain FROM vtj.status), 5020::bigint, 'the key is back at the chain''s end');

-- ---------------------------------------------------------------- faults
-- Two more pages; the first of them merges, the second fails in many ways.
SELECT pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', 5000, 'pages', jsonb_build_array(
    jsonb_build_object('muutokset', '[]'::jsonb, 'next_key', 5010),
    jsonb_build_object('muutokset', '[]'::jsonb, 'next_key', 5020),
    jsonb_build_object('muutokset', jsonb_build_array(pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 4), 'Daavid')),
                       'next_key', 5030),
    jsonb_build_object('muutokset', jsonb_build_array(pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 5), 'Eemeli'),
                                                       pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 6), 'Fanni')),
                       'next_key', 5040)))::text);

-- The fault rules go to the mock in their own statement: a run refuses to
-- start in a transaction that has written anything (the mock helper writes a
-- temporary table).
CREATE FUNCTION pg_temp.faults(p_rules jsonb) RETURNS void LANGUAGE sql AS $f$
    SELECT pg_temp.mock('POST', '/_mock/faults', jsonb_build_object('rules', p_rules)::text)
$f$;
CREATE FUNCTION pg_temp.try_sync() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE v_state text; v_msg text;
BEGIN
    PERFORM vtj.sync();
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
    RETURN v_state || ' ' || v_msg;
END $f$;

CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $f$
    SELECT (SELECT kirjausavain FROM vtj.status)::text || '/' ||
           (SELECT string_agg(p.etunimet, ',' ORDER BY n) FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n BETWEEN 4 AND 6)
$f$;
CREATE TABLE pg_temp.before AS SELECT pg_temp.state() AS s;
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "status", "status": 503, "times": 2, "skip": 1}]');

SELECT alike(pg_temp.try_sync(),
            'VT001 pg_vtj run % failed: %HTTP 503%', '503 on the second page, retries exhausted: VT001 naming the run');
SELECT is((SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n = 4), 'Daavid',
          'the page before the failing one committed');
SELECT is((SELECT kirjausavain FROM vtj.status), 5030::bigint, 'the key stays at the failing page''s request key');
SELECT is((SELECT status FROM vtj.sync_runs ORDER BY id DESC LIMIT 1), 'failed', 'the run is recorded failed');
SELECT alike((SELECT error FROM vtj.sync_runs ORDER BY id DESC LIMIT 1), '%muutokset%503%', 'its error names phase and status');
SELECT ok(NOT EXISTS (SELECT 1 FROM vtj.sync_runs r, pg_temp.h WHERE r.error LIKE '%' || h.hetu || '%'),
          'no error names a hetu');
SELECT is((SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n = 5),
          (SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n = 5 AND p.etunimet <> 'Eemeli'),
          'nothing of the failing page was merged');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "invalid_json"}]');

SELECT alike(pg_temp.try_sync(),
            'VT001 %', 'invalid JSON fails the run');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "truncate"}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %', 'truncated JSON fails the run');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "wrong_types"}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %', 'wrong JSON types fail the run');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "key_backwards"}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %earlier key%', 'a key going backwards fails the run');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "empty_not_current"}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %no progress%', 'an empty page that is not current fails the run');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "status", "status": 404}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %404%', 'a 404 fails at once');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "status", "status": 429, "retry_after": "600"}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %Retry-After%', 'a Retry-After longer than vtj.max_retry_after fails the run');
SELECT is((SELECT kirjausavain FROM vtj.status), 5030::bigint, 'after all these the key has not moved');
SELECT is((SELECT count(*) FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n IN (5, 6) AND p.etunimet IN ('Eemeli', 'Fanni')),
          0::bigint, 'and the failing page is still unmerged');
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "status", "status": 429, "retry_after": "1"}]');

-- 429 with a short Retry-After is honoured and the run completes.
SELECT is(pg_temp.try_sync(),
          'no error', '429 with Retry-After 1: retried, the run completes');
SELECT is((SELECT kirjausavain FROM vtj.status), 5040::bigint, 'the key reached the end of the chain');
SELECT results_eq($$SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n IN (5, 6) ORDER BY n$$,
                  $$VALUES ('Eemeli'::text), ('Fanni')$$, 'the once-failing page is merged now');
SELECT is((SELECT count(*) FROM vtj.sync_runs WHERE status = 'failed'), 8::bigint, 'eight failed runs recorded');

-- A malformed person among good ones: the others merge, it is marked stale.
SELECT pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', 5040, 'pages', jsonb_build_array(
    jsonb_build_object('muutokset', jsonb_build_array(
        pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 7), 'Gabriel'),
        pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 8), 'Hilma'),
        pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 9), 'Iida')), 'next_key', 5050)))::text);
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "bad_person", "index": 1, "variant": "field_wrong_type"}]');
SELECT is(pg_temp.try_sync(),
          'no error', 'a malformed person does not fail the page');
SELECT results_eq($$SELECT p.etunimet FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n IN (7, 9) ORDER BY n$$,
                  $$VALUES ('Gabriel'::text), ('Iida')$$, 'the good persons of the page merged');
SELECT is((SELECT kirjausavain FROM vtj.status), 5050::bigint, 'the key moved past the page');

-- ---------------------------------------------------------------- timeouts and cancel
SET vtj.http_timeout_ms = 1000;
SET vtj.http_retries = 0;
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "delay", "ms": 3000}]');
SELECT alike(pg_temp.try_sync(),
            'VT001 %', 'a response slower than vtj.http_timeout_ms fails the run');
SELECT alike((SELECT error FROM vtj.sync_runs ORDER BY id DESC LIMIT 1), '%timed out%', 'recorded as a timeout');
RESET vtj.http_timeout_ms;
RESET vtj.http_retries;

-- Cancel: a second session runs the sync with a statement_timeout while the
-- mock holds the answer for 20 s. (PL/pgSQL cannot catch a cancel, so the
-- second session is a dblink connection.)
CREATE EXTENSION dblink;
SELECT dblink_connect('other', format('dbname=%s host=%s port=%s user=postgres', current_database(),
                      current_setting('unix_socket_directories'), current_setting('port')));
SELECT pg_temp.mock('POST', '/_mock/faults', '{"rules": [{"path": "/api/v1/muutokset", "kind": "delay", "ms": 20000}]}');
CREATE TABLE pg_temp.t0 AS SELECT clock_timestamp() AS t;
SELECT dblink_exec('other', $$SET statement_timeout = '1s'$$);
SELECT is(dblink_exec('other', 'SELECT vtj.sync()', false), 'ERROR', 'statement_timeout cancels a run waiting on HTTP');
SELECT alike(dblink_error_message('other'), '%statement timeout%', 'as a cancel');
SELECT ok(clock_timestamp() - (SELECT t FROM pg_temp.t0) < interval '8 seconds', 'promptly, not after the 20 s answer');
SELECT dblink_exec('other', 'RESET statement_timeout');
SELECT pg_temp.mock('DELETE', '/_mock/faults');
SELECT is(vtj.sync(), 0::bigint, 'the next run completes');
SELECT is((SELECT status FROM vtj.sync_runs WHERE id = (SELECT max(id) - 1 FROM vtj.sync_runs)), 'failed',
          'the cancelled run is recorded failed');

-- Terminating the caller stops its run too (FATAL exits without unwinding).
SELECT dblink_connect('victim', format('dbname=%s host=%s port=%s user=postgres', current_database(),
                      current_setting('unix_socket_directories'), current_setting('port')));
SELECT pg_temp.mock('POST', '/_mock/faults', '{"rules": [{"path": "/api/v1/muutokset", "kind": "delay", "ms": 20000}]}');
CREATE TABLE pg_temp.victim AS SELECT * FROM dblink('victim', 'SELECT pg_backend_pid()') AS t(pid int);
SELECT dblink_send_query('victim', 'SELECT vtj.sync()');
SELECT pg_sleep(0.7);
SELECT ok(EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run'), 'the run worker waits on HTTP');
SELECT pg_terminate_backend((SELECT pid FROM pg_temp.victim));
CREATE FUNCTION pg_temp.run_workers_gone(p_seconds int) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
    FOR i IN 1 .. p_seconds * 10 LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_vtj run') THEN
            RETURN true;
        END IF;
        PERFORM pg_sleep(0.1);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
    RETURN false;
END $f$;
SELECT ok(pg_temp.run_workers_gone(5), 'terminating the caller terminated its run worker promptly');
SELECT pg_temp.mock('DELETE', '/_mock/faults');

-- Concurrent syncs never apply a page twice: while one run waits on a slow
-- page, a second sync of the same chain returns 0 with a NOTICE.
SELECT pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', 5050, 'pages', jsonb_build_array(
    jsonb_build_object('muutokset', jsonb_build_array(
        pg_temp.name_change((SELECT hetu FROM pg_temp.h WHERE n = 10), 'Jaana')), 'next_key', 5060)))::text);
SELECT pg_temp.mock('POST', '/_mock/faults', '{"rules": [{"path": "/api/v1/muutokset", "kind": "delay", "ms": 2000}]}');
SELECT dblink_send_query('other', 'SELECT vtj.sync()');
SELECT pg_sleep(0.5);
SELECT is(vtj.sync(), 0::bigint, 'a second sync while one is running does nothing');
SELECT is((SELECT x FROM dblink_get_result('other') AS r(x bigint)), 1::bigint, 'the first sync applies the page once');
SELECT dblink_disconnect('other');
SELECT is((SELECT count(*) FROM vtj.changes c JOIN pg_temp.h USING (hetu) WHERE n = 10 AND c.tietoryhma = 'HENKILON_NIMI'),
          1::bigint, 'one feed row for the page');

-- ---------------------------------------------------------------- privileges
CREATE ROLE vtj_test_nobody NOLOGIN;
SET ROLE vtj_test_nobody;
SELECT throws_ok('SELECT vtj.sync()', '42501', NULL, 'a role without grants cannot run a sync');
RESET ROLE;
DROP ROLE vtj_test_nobody;

SELECT * FROM finish();
