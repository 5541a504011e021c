-- 90_privileges.sql — PUBLIC gets nothing; vtj_reader reads only the views;
-- vtj_admin manages; SECURITY DEFINER functions pin search_path; views are
-- security_barrier, owned by the extension owner, and call no SECURITY
-- DEFINER function. Checks every function and relation of schema vtj, so it
-- covers the objects of every install file, not only the register's.
BEGIN;
SELECT plan(31);

CREATE ROLE vtj_test_nobody NOLOGIN;                       -- a fresh role: no grants at all
CREATE ROLE vtj_test_reader NOLOGIN IN ROLE vtj_reader;
CREATE ROLE vtj_test_admin NOLOGIN IN ROLE vtj_admin;

-- What each role may do, by name (objects not created yet are ignored).
CREATE TEMP TABLE reader_relations (rel text);
INSERT INTO reader_relations VALUES ('vtj.persons'), ('vtj.addresses'), ('vtj.name_history'), ('vtj.changes'),
    ('vtj.sync_runs'), ('vtj.status'), ('vtj.register'), ('vtj.kunta');
CREATE TEMP TABLE admin_only_relations (rel text);
INSERT INTO admin_only_relations VALUES ('vtj.hetu_history'), ('vtj.guardianships'), ('vtj.admin_log'),
    ('vtj.purposes'), ('vtj.turvakielto_rule'), ('vtj.import');
CREATE TEMP TABLE admin_functions (sig text);
INSERT INTO admin_functions VALUES ('vtj.hetu_valid(text)'), ('vtj.add_person(text, text, text)'),
    ('vtj.add_persons(text[], text, text[])'), ('vtj.import_persons(text)'), ('vtj.remove_person(text, text)'),
    ('vtj.set_purpose(text, text, text, boolean)'), ('vtj.grant_reader(name, text[])'), ('vtj.revoke_reader(name)'),
    ('vtj.sync()'), ('vtj.sync_now()'), ('vtj.load_base(text[])'), ('vtj.refresh_person(text)'),
    ('vtj.rebaseline()'), ('vtj.admin_log_for(text)'),
    -- internal, granted by 50_runs.sql: the run functions' check that every
    -- hetu asked for is registered runs in the caller's session
    ('vtj._unregistered_among(text[])');

CREATE TEMP VIEW vtj_functions AS
    SELECT p.oid, 'vtj.' || quote_ident(p.proname) || '('
           || coalesce((SELECT string_agg(format_type(t.t, NULL), ', ' ORDER BY t.n)
                          FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(t, n)), '') || ')' AS sig, p.prosecdef, p.proconfig, p.proacl
      FROM pg_proc p WHERE p.pronamespace = 'vtj'::regnamespace;
CREATE TEMP VIEW vtj_relations AS
    SELECT c.oid, 'vtj.' || quote_ident(c.relname) AS rel, c.relkind, c.reloptions, c.relowner
      FROM pg_class c WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f');

-- PUBLIC ------------------------------------------------------------------------------------
SELECT cmp_ok((SELECT count(*) FROM vtj_functions), '>=', 10::bigint, 'the extension''s functions are listed');
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM vtj_functions WHERE has_function_privilege('public', oid, 'EXECUTE')),
          NULL, 'PUBLIC can execute no function of the extension');
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM vtj_functions f, aclexplode(f.proacl) a WHERE a.grantee = 0),
          NULL, 'no function ACL names PUBLIC');
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM vtj_functions WHERE has_function_privilege('vtj_test_nobody', oid, 'EXECUTE')),
          NULL, 'a fresh role can execute no function of the extension');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE relkind <> 'S'
              AND has_table_privilege('vtj_test_nobody', oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')),
          NULL, 'a fresh role has no privilege on any table or view in vtj');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE CASE WHEN relkind = 'S' THEN has_sequence_privilege('vtj_test_nobody', oid, 'USAGE, SELECT, UPDATE') ELSE false END),
          NULL, 'a fresh role has no privilege on any sequence in vtj');
SELECT ok(NOT has_schema_privilege('vtj_test_nobody', 'vtj', 'USAGE'), 'a fresh role has no USAGE on schema vtj');
SELECT is((SELECT array_agg(y.oid::regtype::text ORDER BY y.oid::regtype::text)
             FROM pg_type y LEFT JOIN pg_class c ON c.oid = y.typrelid
            WHERE y.typnamespace = 'vtj'::regnamespace AND (y.typrelid = 0 OR c.relkind = 'c')
              AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = y.oid)
              AND has_type_privilege('public', y.oid, 'USAGE')),
          NULL, 'PUBLIC has USAGE on no type or domain of vtj');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text) FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.relnamespace = 'vtj'::regnamespace AND a.grantee = 0),
          NULL, 'no relation ACL names PUBLIC');

SET LOCAL ROLE vtj_test_nobody;
SELECT throws_ok($$SELECT vtj.hetu_valid('010594Y9032')$$, '42501', NULL, 'a fresh role cannot call vtj.hetu_valid');
SELECT throws_ok($$SELECT * FROM vtj.register$$, '42501', NULL, 'a fresh role cannot read vtj.register');
RESET ROLE;

-- vtj_reader ------------------------------------------------------------------------------------
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE relkind <> 'S' AND has_table_privilege('vtj_test_reader', oid, 'SELECT')),
          (SELECT array_agg(rel ORDER BY rel) FROM reader_relations WHERE to_regclass(rel) IS NOT NULL),
          'vtj_reader can SELECT exactly the reader views (and the municipality codes)');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE has_table_privilege('vtj_test_reader', oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')),
          NULL, 'vtj_reader can change nothing');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations WHERE relkind IN ('r', 'p')
            AND has_table_privilege('vtj_test_reader', oid, 'SELECT') AND rel <> 'vtj.kunta'),
          NULL, 'vtj_reader can read no storage table');
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM vtj_functions WHERE has_function_privilege('vtj_test_reader', oid, 'EXECUTE')),
          ARRAY['vtj.hetu_valid(text)'], 'vtj_reader can execute only vtj.hetu_valid');

SET LOCAL ROLE vtj_test_reader;
SELECT lives_ok($$SELECT * FROM vtj.register$$, 'a reader reads vtj.register');
SELECT throws_ok($$SELECT * FROM vtj.registration$$, '42501', NULL, 'a reader cannot read vtj.registration');
SELECT throws_ok($$SELECT vtj.add_person('010594Y9032', 'laskutus')$$, '42501', NULL, 'a reader cannot add a person');
SELECT throws_ok($$SELECT * FROM vtj.purposes$$, '42501', NULL, 'a reader cannot read vtj.purposes');
RESET ROLE;

-- vtj_admin ---------------------------------------------------------------------------------------
SELECT is((SELECT array_agg(a.sig ORDER BY a.sig) FROM admin_functions a
            WHERE to_regprocedure(a.sig) IS NOT NULL
              AND NOT has_function_privilege('vtj_test_admin', to_regprocedure(a.sig), 'EXECUTE')),
          NULL, 'vtj_admin can execute every management function');
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM vtj_functions f
            WHERE has_function_privilege('vtj_test_admin', f.oid, 'EXECUTE')
              AND to_regprocedure(f.sig) NOT IN (SELECT to_regprocedure(a.sig) FROM admin_functions a
                                                  WHERE to_regprocedure(a.sig) IS NOT NULL)),
          NULL, 'vtj_admin can execute nothing else (internal and superuser-only functions)');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE relkind <> 'S' AND has_table_privilege('vtj_test_admin', oid, 'SELECT')),
          (SELECT array_agg(rel ORDER BY rel) FROM (SELECT rel FROM reader_relations UNION ALL SELECT rel FROM admin_only_relations) x
            WHERE to_regclass(rel) IS NOT NULL),
          'vtj_admin reads the reader views and its own tables, no storage table');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE relkind <> 'S' AND has_table_privilege('vtj_test_admin', oid, 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')),
          ARRAY['vtj.import'], 'vtj_admin writes only vtj.import');

SET LOCAL ROLE vtj_test_admin;
SELECT is(vtj.add_person('010594Y9032', 'laskutus'), true, 'an admin adds a person');
SELECT is(vtj.remove_person('010594Y9032'), true, 'an admin removes a person')
  FROM (SELECT 1) x WHERE to_regprocedure('vtj._purge_person(text)') IS NOT NULL
UNION ALL
SELECT pass('an admin removes a person (skipped: vtj._purge_person does not exist yet)')
  WHERE to_regprocedure('vtj._purge_person(text)') IS NULL;
SELECT throws_ok($$SELECT * FROM vtj.subject$$, '42501', NULL, 'an admin cannot read vtj.subject directly');
SELECT throws_ok($$SELECT vtj._register_many(ARRAY['010594Y9032'], 'laskutus', NULL, 'x')$$, '42501', NULL,
                 'an admin cannot call the internal functions');
RESET ROLE;

-- SECURITY DEFINER functions and views ---------------------------------------------------------
SELECT is((SELECT array_agg(sig ORDER BY sig) FROM vtj_functions
            WHERE prosecdef AND (proconfig IS NULL OR NOT 'search_path=pg_catalog, pg_temp' = ANY (proconfig))),
          NULL, 'every SECURITY DEFINER function sets search_path = pg_catalog, pg_temp');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations
            WHERE relkind = 'v' AND NOT coalesce('security_barrier=true' = ANY (reloptions), false)),
          NULL, 'every view in vtj is security_barrier');
SELECT is((SELECT array_agg(rel ORDER BY rel) FROM vtj_relations r, pg_extension e
            WHERE e.extname = 'pg_vtj' AND r.relkind = 'v' AND r.relowner <> e.extowner),
          NULL, 'every view in vtj is owned by the extension owner');
SELECT is((SELECT array_agg(DISTINCT format('%s → %s', w.ev_class::regclass, p.oid::regprocedure) ORDER BY format('%s → %s', w.ev_class::regclass, p.oid::regprocedure))
             FROM pg_rewrite w
             JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                             AND d.refclassid = 'pg_proc'::regclass
             JOIN pg_proc p ON p.oid = d.refobjid
            WHERE w.ev_class IN (SELECT oid FROM vtj_relations WHERE relkind = 'v') AND p.prosecdef),
          NULL, 'no view calls a SECURITY DEFINER function');

SELECT * FROM finish();
ROLLBACK;
