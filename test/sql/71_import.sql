-- The import path (product.md §3, §8): hetus arrive by COPY into vtj.import,
-- never in statement text; vtj.import_persons(purpose) registers the calling
-- user's rows atomically, deletes them on success and leaves every row as it
-- was on failure; other users' rows are never touched. The register change
-- is in the admin log.
BEGIN;
SELECT plan(24);

CREATE ROLE vtj_t_admin NOLOGIN IN ROLE vtj_admin;
CREATE ROLE vtj_t_admin2 NOLOGIN IN ROLE vtj_admin;

-- Another admin's pending rows (as pg_restore would load them).
INSERT INTO vtj.import (hetu, customer_ref, imported_by) VALUES ('090988-9093', 'toisen', 'vtj_t_admin2');

-- COPY as a member of vtj_admin: the hetus travel as COPY data, not as SQL.
SET LOCAL ROLE vtj_t_admin;
COPY vtj.import (hetu, customer_ref) FROM STDIN (FORMAT csv);
010180-9015,A-1
020281-902W,A-2
030382-903M,
040483-904C,A-4
\.
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.import WHERE imported_by = session_user), 4::bigint,
          'COPY put four rows in vtj.import, owned by the session user');
SELECT is((SELECT array_agg(customer_ref ORDER BY line) FROM vtj.import WHERE imported_by = session_user),
          ARRAY['A-1', 'A-2', NULL, 'A-4'], 'in the order they came, with their customer_refs');

SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.import_persons('laskutus'), 4::bigint, 'import_persons registers the four');
RESET ROLE;
SELECT results_eq($$SELECT hetu COLLATE "default", purpose COLLATE "default", customer_ref FROM vtj.register ORDER BY 1$$,
                  $$VALUES ('010180-9015', 'laskutus', 'A-1'), ('020281-902W', 'laskutus', 'A-2'),
                           ('030382-903M', 'laskutus', NULL), ('040483-904C', 'laskutus', 'A-4')$$,
                  'registered with their customer_refs');
SELECT is((SELECT count(*) FROM vtj.import WHERE imported_by = session_user), 0::bigint, 'the caller''s rows are deleted');
SELECT results_eq($$SELECT hetu COLLATE "default", customer_ref, imported_by::text COLLATE "default" FROM vtj.import$$,
                  $$VALUES ('090988-9093', 'toisen', 'vtj_t_admin2')$$, 'the other admin''s row is untouched');
SELECT results_eq($$SELECT action COLLATE "default", purpose COLLATE "default", count, detail->>'via', hetu_hmac FROM vtj.admin_log$$,
                  $$VALUES ('register', 'laskutus', 4::bigint, 'import_persons', NULL::text)$$,
                  'one admin log entry: who, when, purpose and count (no key file: no per-person data)');

-- A second import: one new person, one existing with a new customer_ref, one
-- existing unchanged.
SET LOCAL ROLE vtj_t_admin;
COPY vtj.import (hetu, customer_ref) FROM STDIN (FORMAT csv);
050584-9054,A-5
010180-9015,A-1-new
020281-902W,A-2
\.
SELECT is(vtj.import_persons('laskutus'), 1::bigint, 'the second import adds one new registration');
RESET ROLE;
SELECT is((SELECT customer_ref FROM vtj.register WHERE hetu = '010180-9015'), 'A-1-new', '... and updates a customer_ref');
SELECT results_eq($$SELECT action COLLATE "default", count FROM vtj.admin_log WHERE id > (SELECT min(id) FROM vtj.admin_log) ORDER BY id$$,
                  $$VALUES ('register', 1::bigint), ('customer_ref', 1::bigint)$$,
                  'the admin log has the addition and the customer_ref change');

-- ------------------------------------------------------------- failure: nothing changes
SET LOCAL ROLE vtj_t_admin;
COPY vtj.import (hetu, customer_ref) FROM STDIN (FORMAT csv);
060685-906V,B-1
060685-906X,B-2
,B-3
070786-907L,B-4
\.
RESET ROLE;
CREATE TEMP TABLE before_import AS SELECT hetu, customer_ref, imported_by, imported_at, line FROM vtj.import;
CREATE TEMP TABLE before_register AS SELECT * FROM vtj.registration;
CREATE TEMP TABLE before_log AS SELECT * FROM vtj.admin_log;
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.import_persons('vesilaitos')$$, '22023',
                 'import_persons: 2 of 4 hetus are invalid (positions 2, 3); nothing was added',
                 'an invalid row fails the whole import, naming the positions and no hetu');
RESET ROLE;
SELECT set_eq($$SELECT hetu, customer_ref, imported_by, imported_at, line FROM vtj.import$$,
              $$SELECT * FROM before_import$$, 'on failure every row of vtj.import stays as it was');
SELECT set_eq($$SELECT * FROM vtj.registration$$, $$SELECT * FROM before_register$$, '... nothing is registered');
SELECT set_eq($$SELECT * FROM vtj.admin_log$$, $$SELECT * FROM before_log$$, '... nothing is logged');
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.import_persons('tyontekija')$$, '22023', NULL, 'a refused purpose fails too');
SELECT throws_ok($$SELECT vtj.import_persons(NULL)$$, '22004', NULL, 'and a NULL purpose');
SELECT is((SELECT count(*) FROM vtj.import WHERE imported_by = session_user), 4::bigint, '... leaving the rows');
-- fix the rows (by line, without writing a hetu)
DELETE FROM vtj.import WHERE imported_by = session_user AND NOT COALESCE(vtj.hetu_valid(hetu), false);
SELECT is(vtj.import_persons('vesilaitos'), 2::bigint, 'fixed, the import registers the rest');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.import WHERE imported_by = session_user), 0::bigint, '... and empties the caller''s rows');

-- imported_by is the session user for everyone but a superuser
SET SESSION AUTHORIZATION vtj_t_admin2;
SELECT lives_ok($$INSERT INTO vtj.import (hetu, imported_by) VALUES ('080887-908B', 'someone_else')$$,
                'an admin may name another importer...');
SELECT is((SELECT imported_by::text FROM vtj.import WHERE hetu = '080887-908B'), 'vtj_t_admin2',
          '... but the row belongs to its session user');
SELECT lives_ok($$UPDATE vtj.import SET imported_by = 'postgres' WHERE hetu = '080887-908B'$$, 'and cannot hand it over');
SELECT is((SELECT imported_by::text FROM vtj.import WHERE hetu = '080887-908B'), 'vtj_t_admin2', '... it stays the session user''s');
RESET SESSION AUTHORIZATION;

-- readers cannot see or write the import table
CREATE ROLE vtj_t_reader NOLOGIN IN ROLE vtj_reader;
SET LOCAL ROLE vtj_t_reader;
SELECT throws_ok($$SELECT * FROM vtj.import$$, '42501', NULL, 'a reader cannot read vtj.import');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
