-- A register restored or copied elsewhere (product.md §9): the database
-- remembers the cluster (system identifier) and database OID of its first
-- run; elsewhere vtj._instance_ok() (called by the run driver before a run's
-- first request) refuses, vtj.status.warning says why, and a superuser's
-- vtj.adopt_instance() lets it fetch again.
BEGIN;
SELECT plan(19);

CREATE ROLE vtj_t_admin NOLOGIN IN ROLE vtj_admin;

SELECT is((SELECT count(*) FROM vtj.instance), 0::bigint, 'nothing is recorded before the first run');
SELECT is((SELECT warning FROM vtj._instance_warning), NULL, 'no warning then');
SELECT is(vtj._instance_ok(), true, 'the first run''s check passes');
SELECT results_eq($$SELECT system_identifier, database_oid, how COLLATE "default" FROM vtj.instance$$,
                  $$SELECT (pg_control_system()).system_identifier, d.oid, 'first run'
                      FROM pg_database d WHERE d.datname = current_database()$$,
                  '... and records this cluster and database');
SELECT is(vtj._instance_ok(), true, 'later runs here pass');
SELECT is((SELECT warning FROM vtj.status), NULL, 'vtj.status has no warning');

-- a copy into another database of the same cluster (CREATE DATABASE ... TEMPLATE, pg_restore)
UPDATE vtj.instance SET database_oid = (database_oid::bigint + 1)::oid;
SELECT throws_ok($$SELECT vtj._instance_ok()$$, '55000',
                 'pg_vtj does not fetch in a copy: this register was loaded in another database and restored or copied here',
                 'in a copy the check refuses the run');
SELECT is((SELECT warning FROM vtj._instance_warning),
          'this database was restored or copied from another database or cluster: no run starts until a superuser calls vtj.adopt_instance()',
          'vtj._instance_warning says why');
SELECT ok((SELECT warning FROM vtj.status) LIKE '%restored or copied from another database or cluster%', '... in vtj.status.warning');
-- a copy into another cluster
UPDATE vtj.instance SET database_oid = (SELECT oid FROM pg_database WHERE datname = current_database()),
                        system_identifier = system_identifier # 1;
SELECT throws_ok($$SELECT vtj._instance_ok()$$, '55000',
                 'pg_vtj does not fetch in a copy: this register was loaded in another cluster and restored or copied here',
                 'a copy into another cluster is refused too');
SELECT ok((SELECT warning FROM vtj._instance_warning) IS NOT NULL, '... with the warning');

SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.adopt_instance()$$, '42501', NULL, 'vtj_admin cannot adopt a copy');
SELECT throws_ok($$SELECT vtj._instance_ok()$$, '42501', NULL, '... nor call the check');
RESET ROLE;
SELECT lives_ok($$SELECT vtj.adopt_instance()$$, 'a superuser adopts it');
SELECT is(vtj._instance_ok(), true, 'then runs start again');
SELECT is((SELECT how FROM vtj.instance), 'adopted', 'the record says it was adopted');
SELECT is((SELECT warning FROM vtj._instance_warning), NULL, 'and the warning is gone');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'instance_adopt' AND logged_by = session_user
            AND detail->'after'->>'system_identifier' = (pg_control_system()).system_identifier::text), 1::bigint,
          'the adoption is in the admin log');

SELECT is((SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond)
            WHERE e.extname = 'pg_vtj' AND x.rel = 'vtj.instance'::regclass), '',
          'vtj.instance is dumped, so a restore carries where the register was loaded');

SELECT * FROM finish();
ROLLBACK;
