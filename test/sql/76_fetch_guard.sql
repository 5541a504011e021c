-- Only registered hetus ever reach DVV (product.md §3 "Fetching"): load_base
-- and refresh_person refuse any other before a request; the hetulists sent
-- hold only the register. Every run records started_by (the session user)
-- and its start in the admin log. Runs commit, so this file does not roll
-- back: the harness gives it a fresh database.
\ir lib/mock.sql
\set QUIET 1
SET client_min_messages = warning;
SELECT plan(17);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 8}');
CREATE TABLE pg_temp.h AS SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(8) AS hetu;
DROP ROLE IF EXISTS vtj_t76_admin;
CREATE ROLE vtj_t76_admin NOLOGIN IN ROLE vtj_admin;
GRANT SELECT ON pg_temp.h TO vtj_t76_admin;
SET ROLE vtj_t76_admin;
SELECT is(vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n <= 5), 'laskutus'), 5::bigint,
          'five persons registered');
RESET ROLE;
SELECT pg_temp.mock('DELETE', '/_mock/requests');

-- ------------------------------------------------------------- unregistered hetus are refused
SET ROLE vtj_t76_admin;
SELECT throws_ok(format('SELECT vtj.load_base(ARRAY[%L])', (SELECT hetu FROM pg_temp.h WHERE n = 6)), '22023',
                 '1 of the given hetus are not registered', 'load_base refuses a valid hetu that is not registered');
SELECT throws_ok(format('SELECT vtj.load_base(ARRAY[%L, %L])', (SELECT hetu FROM pg_temp.h WHERE n = 1), (SELECT hetu FROM pg_temp.h WHERE n = 7)),
                 '22023', NULL, '... also among registered ones (nothing is fetched)');
SELECT throws_ok(format('SELECT vtj.refresh_person(%L)', (SELECT hetu FROM pg_temp.h WHERE n = 8)), '22023',
                 '1 of the given hetus are not registered', 'refresh_person refuses a hetu that is not registered');
RESET ROLE;
SELECT is(jsonb_array_length(pg_temp.mock('GET', '/_mock/requests')), 0, 'no request reached VTJ');
SELECT is((SELECT count(*) FROM vtj.sync_runs), 0::bigint, 'no run was recorded');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'run_start'), 0::bigint, 'no run start was logged');

-- ------------------------------------------------------------- runs
SET ROLE vtj_t76_admin;
SELECT is(vtj.sync(), 0::bigint, 'a sync as a member of vtj_admin (SET ROLE)');
RESET ROLE;
SELECT is((SELECT string_agg(kind || ' ' || status, ', ' ORDER BY id) FROM vtj.sync_runs), 'base ok, changes ok', 'a base run and a changes run');
SELECT is((SELECT max(x->>'hetu_count') FROM jsonb_array_elements(pg_temp.mock('GET', '/_mock/requests')) x
            WHERE x->>'path' LIKE '%/perustiedot')::int, 5, 'the base load asked for the five registered persons');
SELECT is((SELECT max(x->>'hetu_count') FROM jsonb_array_elements(pg_temp.mock('GET', '/_mock/requests')) x
            WHERE x->>'path' LIKE '%/muutokset')::int, 5, 'the change request listed the five registered hetus');
SET ROLE vtj_t76_admin;
SELECT is(vtj.remove_person((SELECT hetu FROM pg_temp.h WHERE n = 5)), true, 'one person removed');
RESET ROLE;
SELECT pg_temp.mock('DELETE', '/_mock/requests');
SET ROLE vtj_t76_admin;
SELECT is(vtj.sync(), 0::bigint, 'another sync');
SELECT is(vtj.refresh_person((SELECT hetu FROM pg_temp.h WHERE n = 1)), true, 'and a refresh of a registered person');
RESET ROLE;
SELECT is((SELECT max(x->>'hetu_count') FROM jsonb_array_elements(pg_temp.mock('GET', '/_mock/requests')) x
            WHERE x->>'path' LIKE '%/muutokset')::int, 4, 'a removed person leaves the list sent to DVV');

SELECT is((SELECT string_agg(DISTINCT started_by, ',') FROM vtj.sync_runs), session_user::text,
          'every run records the session user that started it (not the role set with SET ROLE)');
SELECT set_eq($$SELECT id, started_by FROM vtj.sync_runs$$,
              $$SELECT run_id, logged_by::text FROM vtj.admin_log WHERE action = 'run_start'$$,
              'every run start is in the admin log, under the run''s started_by');

SELECT * FROM finish();
DROP TABLE pg_temp.h;
DROP ROLE vtj_t76_admin;
