-- 01_install.sql — what CREATE EXTENSION pg_vtj leaves behind: schema, roles,
-- register tables, seeded purposes and municipality codes, dump marking.
-- (Refusals — existing schema, non-UTF8 database, unsafe roles — need fresh
-- databases: test/harness/install_checks.sh.)
BEGIN;
SELECT plan(66);

-- Schema -------------------------------------------------------------------
SELECT has_schema('vtj');
SELECT is(
    (SELECT e.extname::text FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
      WHERE d.classid = 'pg_namespace'::regclass AND d.objid = 'vtj'::regnamespace
        AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'),
    'pg_vtj', 'schema vtj is a member of extension pg_vtj (created by the script)');
SELECT is(getdatabaseencoding(), 'UTF8', 'the database is UTF8');
SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname)
       FROM pg_class c
      WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'S', 'p', 'f')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d          -- owned sequences, toast …
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                           AND d.deptype IN ('a', 'i'))),
    NULL, 'every relation in schema vtj belongs to the extension');
SELECT is(
    (SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
       FROM pg_proc p
      WHERE p.pronamespace = 'vtj'::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_depend d
                         WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')),
    NULL, 'every function in schema vtj belongs to the extension');

-- Roles --------------------------------------------------------------------
SELECT has_role('vtj_reader');
SELECT has_role('vtj_admin');
SELECT is(
    (SELECT ARRAY[rolcanlogin, rolsuper, rolcreaterole, rolbypassrls, rolreplication, rolcreatedb]
       FROM pg_roles WHERE rolname = 'vtj_reader'),
    ARRAY[false, false, false, false, false, false],
    'vtj_reader: NOLOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS NOREPLICATION NOCREATEDB');
SELECT is(
    (SELECT ARRAY[rolcanlogin, rolsuper, rolcreaterole, rolbypassrls, rolreplication, rolcreatedb]
       FROM pg_roles WHERE rolname = 'vtj_admin'),
    ARRAY[false, false, false, false, false, false],
    'vtj_admin: NOLOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS NOREPLICATION NOCREATEDB');
SELECT is_member_of('vtj_reader', 'vtj_admin');
SELECT ok(NOT pg_has_role('vtj_reader', 'vtj_admin', 'MEMBER'), 'vtj_reader is not a member of vtj_admin');

SELECT ok(has_schema_privilege('vtj_reader', 'vtj', 'USAGE'), 'vtj_reader has USAGE on schema vtj');
SELECT ok(has_schema_privilege('vtj_admin', 'vtj', 'USAGE'), 'vtj_admin has USAGE on schema vtj');
SELECT ok(NOT has_schema_privilege('vtj_reader', 'vtj', 'CREATE')
          AND NOT has_schema_privilege('vtj_admin', 'vtj', 'CREATE'), 'neither role may CREATE in schema vtj');
SELECT ok(NOT has_schema_privilege('public', 'vtj', 'USAGE') AND NOT has_schema_privilege('public', 'vtj', 'CREATE'),
          'PUBLIC has no privilege on schema vtj');

-- Hetu functions -------------------------------------------------------------
SELECT has_function('vtj', 'hetu_valid', ARRAY['text']);
SELECT function_returns('vtj', 'hetu_valid', ARRAY['text'], 'boolean');
SELECT volatility_is('vtj', 'hetu_valid', ARRAY['text'], 'stable');
SELECT is_strict('vtj', 'hetu_valid', ARRAY['text']);
SELECT function_returns('vtj', '_hetu_problem', ARRAY['text'], 'text');
SELECT function_returns('vtj', '_hetu_invalid_positions', ARRAY['text[]'], 'integer[]');

-- Management functions: signatures and argument names (callable by name) ---
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'vtj.add_person(text, text, text)'::regprocedure),
          ARRAY['hetu', 'purpose', 'customer_ref'], 'vtj.add_person(hetu, purpose, customer_ref)');
SELECT function_returns('vtj', 'add_person', ARRAY['text', 'text', 'text'], 'boolean');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'vtj.add_persons(text[], text, text[])'::regprocedure),
          ARRAY['hetus', 'purpose', 'customer_refs'], 'vtj.add_persons(hetus, purpose, customer_refs)');
SELECT function_returns('vtj', 'add_persons', ARRAY['text[]', 'text', 'text[]'], 'bigint');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'vtj.remove_person(text, text)'::regprocedure),
          ARRAY['hetu', 'purpose'], 'vtj.remove_person(hetu, purpose)');
SELECT function_returns('vtj', 'remove_person', ARRAY['text', 'text'], 'boolean');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'vtj.set_purpose(text, text, text, boolean)'::regprocedure),
          ARRAY['purpose', 'description', 'legal_basis', 'enabled'], 'vtj.set_purpose(purpose, description, legal_basis, enabled)');
SELECT function_returns('vtj', 'import_persons', ARRAY['text'], 'bigint');
SELECT is((SELECT pronargdefaults FROM pg_proc WHERE oid = 'vtj.add_person(text, text, text)'::regprocedure)::int
          + (SELECT pronargdefaults FROM pg_proc WHERE oid = 'vtj.add_persons(text[], text, text[])'::regprocedure)
          + (SELECT pronargdefaults FROM pg_proc WHERE oid = 'vtj.remove_person(text, text)'::regprocedure),
          3, 'customer_ref, customer_refs and remove_person''s purpose default to NULL');

-- Register tables ------------------------------------------------------------
SELECT has_table('vtj', 'subject', 'table vtj.subject');
SELECT col_is_pk('vtj'::name, 'subject'::name, 'hetu'::name, 'vtj.subject: PRIMARY KEY (hetu)');
SELECT col_type_is('vtj'::name, 'subject'::name, 'registered_at'::name, 'timestamp with time zone', 'vtj.subject.registered_at is timestamptz');
SELECT col_not_null('vtj'::name, 'subject'::name, 'registered_at'::name, 'vtj.subject.registered_at is NOT NULL');
SELECT has_table('vtj', 'registration', 'table vtj.registration');
SELECT col_is_pk('vtj'::name, 'registration'::name, ARRAY['hetu', 'purpose']::name[], 'vtj.registration: PRIMARY KEY (hetu, purpose)');
SELECT columns_are('vtj', 'registration',
    ARRAY['hetu', 'purpose', 'customer_ref', 'added_at', 'added_by', 'changed_at', 'changed_by']);
SELECT col_type_is('vtj'::name, 'registration'::name, 'added_by'::name, 'name', 'vtj.registration.added_by is name');
SELECT fk_ok('vtj'::name, 'registration'::name, 'hetu'::name, 'vtj'::name, 'subject'::name, 'hetu'::name);
SELECT fk_ok('vtj'::name, 'registration'::name, 'purpose'::name, 'vtj'::name, 'purposes'::name, 'purpose'::name);
SELECT is(
    (SELECT confupdtype::text FROM pg_constraint
      WHERE conrelid = 'vtj.registration'::regclass AND confrelid = 'vtj.subject'::regclass),
    'c', 'registration → subject is ON UPDATE CASCADE (hetu corrections move registrations)');
SELECT is(
    (SELECT array_agg(format('%s.%s', c.relname, a.attname) ORDER BY format('%s.%s', c.relname, a.attname))
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      WHERE c.relnamespace = 'vtj'::regnamespace AND c.relname IN ('subject', 'registration', 'purposes', 'kunta', 'import')
        AND a.attname IN ('hetu', 'purpose', 'kuntakoodi') AND a.attnum > 0
        AND a.attcollation <> 'pg_catalog."C"'::regcollation),
    NULL, 'hetus, purposes and codes are COLLATE "C"');
SELECT has_view('vtj', 'register', 'view vtj.register');
SELECT columns_are('vtj', 'register', ARRAY['hetu', 'purpose', 'customer_ref', 'added_at', 'base_loaded_at']);
SELECT col_type_is('vtj'::name, 'register'::name, 'base_loaded_at'::name, 'timestamp with time zone', 'vtj.register.base_loaded_at is timestamptz');
SELECT has_table('vtj', 'import', 'table vtj.import');
SELECT is(pg_get_expr(d.adbin, d.adrelid), 'SESSION_USER', 'vtj.import.imported_by defaults to session_user')
  FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = 'vtj.import'::regclass AND a.attname = 'imported_by';

-- Purposes -------------------------------------------------------------------
SELECT columns_are('vtj', 'purposes',
    ARRAY['purpose', 'description', 'legal_basis', 'enabled', 'seeded', 'changed_at', 'changed_by']);
SELECT results_eq(
    'SELECT purpose COLLATE "default", description IS NOT NULL, enabled, seeded FROM vtj.purposes ORDER BY purpose',
    $$VALUES ('asiakasrekisteri', true, true, true), ('laskutus', true, true, true),
             ('muu', false, true, true), ('oppilasrekisteri', true, true, true),
             ('vesilaitos', true, true, true)$$,
    'seeded purposes; muu has no description');

-- Municipality codes -----------------------------------------------------------
SELECT columns_are('vtj', 'kunta', ARRAY['kuntakoodi', 'nimi', 'nimi_sv', 'voimassa', 'seeded']);
SELECT is((SELECT count(*) FROM vtj.kunta WHERE voimassa AND kuntakoodi NOT IN ('198', '199', '200', '999')),
          309::bigint, '309 current municipalities');
SELECT results_eq(
    $$SELECT kuntakoodi COLLATE "default", nimi FROM vtj.kunta WHERE kuntakoodi IN ('198', '199', '200', '999') AND voimassa ORDER BY 1$$,
    $$VALUES ('198', 'Ei kotikuntaa Suomessa'), ('199', 'Kotikunta tuntematon'), ('200', 'Ulkomaa'), ('999', 'Ei tiedossa')$$,
    'special codes 198, 199, 200, 999');
SELECT results_eq(
    $$SELECT kuntakoodi COLLATE "default", nimi FROM vtj.kunta WHERE NOT voimassa ORDER BY 1$$,
    $$VALUES ('099', 'Honkajoki'), ('174', 'Juankoski'), ('413', 'Lavia'), ('442', 'Luvia'),
             ('476', 'Maaninka'), ('838', 'Tarvasjoki'), ('911', 'Valtimo')$$,
    'retired codes keep their names, voimassa = false');
SELECT results_eq(
    $$SELECT kuntakoodi COLLATE "default", nimi, nimi_sv FROM vtj.kunta
       WHERE kuntakoodi IN ('049', '091', '092', '235', '478', '853', '905') ORDER BY 1$$,
    $$VALUES ('049', 'Espoo', 'Esbo'), ('091', 'Helsinki', 'Helsingfors'), ('092', 'Vantaa', 'Vanda'),
             ('235', 'Kauniainen', 'Grankulla'), ('478', 'Maarianhamina', 'Mariehamn'),
             ('853', 'Turku', 'Åbo'), ('905', 'Vaasa', 'Vasa')$$,
    'Finnish and Swedish names of bilingual municipalities');
SELECT is((SELECT nimi_sv FROM vtj.kunta WHERE kuntakoodi = '837'), NULL, 'no Swedish name where none was given (837)');
SELECT is((SELECT nimi FROM vtj.kunta WHERE kuntakoodi = '992'), 'Äänekoski', 'UTF-8 names intact');
SELECT is((SELECT count(*) FROM vtj.kunta WHERE NOT seeded), 0::bigint, 'every shipped code is seeded');
SELECT throws_ok($$INSERT INTO vtj.kunta (kuntakoodi, nimi) VALUES ('12', 'x')$$, '23514', NULL,
                 'kuntakoodi has three digits');

-- pg_dump marking --------------------------------------------------------------
SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname::text)
       FROM pg_class c
      WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'p', 'S')
        AND c.oid <> ALL (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'pg_vtj')),
    NULL, 'every table and sequence in vtj is marked with pg_extension_config_dump');
SELECT is(
    (SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond)
      WHERE e.extname = 'pg_vtj' AND x.rel = 'vtj.purposes'::regclass),
    'WHERE NOT seeded', 'vtj.purposes dumps only rows added or changed after install');
SELECT is(
    (SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond)
      WHERE e.extname = 'pg_vtj' AND x.rel = 'vtj.kunta'::regclass),
    'WHERE NOT seeded', 'vtj.kunta dumps only rows added after install');
SELECT is(
    (SELECT array_agg(x.cond ORDER BY x.rel::text) FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond)
      WHERE e.extname = 'pg_vtj' AND x.rel IN ('vtj.subject'::regclass, 'vtj.registration'::regclass, 'vtj.import'::regclass)),
    ARRAY['', '', ''], 'the register and the import table are dumped whole');

-- A changed seeded purpose is dumped; a restored one replaces the seed.
SELECT ok(NOT vtj.set_purpose('laskutus', enabled => false), 'set_purpose changes a seeded purpose');
SELECT is((SELECT seeded FROM vtj.purposes WHERE purpose = 'laskutus'), false, 'a changed seeded purpose is no longer seeded');
SELECT lives_ok(
    $$INSERT INTO vtj.purposes (purpose, description, legal_basis, enabled, seeded)
      VALUES ('vesilaitos', 'Restored description', 'Restored basis', false, false)$$,
    'loading a dumped row over a seeded purpose (pg_restore) does not fail on the key');
SELECT results_eq(
    $$SELECT description, legal_basis, enabled, seeded FROM vtj.purposes WHERE purpose = 'vesilaitos'$$,
    $$VALUES ('Restored description', 'Restored basis', false, false)$$,
    'the restored row replaces the seeded values');

SELECT * FROM finish();
ROLLBACK;
