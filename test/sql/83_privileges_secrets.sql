-- 83_privileges_secrets.sql — privileges and secrets (issue 8 §5), by
-- actually trying, not only by reading the catalog (90_privileges.sql does
-- that):
--   * a role without grants can call no function, read or write no relation,
--     use no sequence of schema vtj;
--   * vtj_reader reads the masked views and nothing else; a protected
--     person's censored groups never show; a reader limited to purposes sees
--     only those persons;
--   * vtj.password is invisible (SHOW and current_setting print ********, no
--     row in pg_settings or SHOW ALL) to every role, members of
--     pg_read_all_settings and superusers included, and never appears in a
--     run's error; a password set with ALTER DATABASE … SET must not be
--     readable by other roles either;
--   * certificate verification cannot be switched off: no setting exists;
--   * a malicious search_path (functions and operators shadowing pg_catalog's
--     in a schema before pg_catalog, temporary tables named like the
--     extension's tables) hijacks no SECURITY DEFINER function and no run.
-- Runs commit: no BEGIN/ROLLBACK (the harness gives a fresh database).
\ir include/reliability.psql
SET client_min_messages = warning;
SELECT plan(37);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 12}');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 4000}');
CREATE TABLE pg_temp.h AS SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(12) AS hetu;
GRANT SELECT ON pg_temp.h TO PUBLIC;

-- Person 1 is protected (turvakielto): the mock censors its seven groups.
SELECT pg_temp.mock('PUT', '/_mock/persons', jsonb_build_object((SELECT hetu FROM pg_temp.h WHERE n = 1), jsonb_build_object('censor', true,
    'tietoryhmat', jsonb_build_array(
        jsonb_build_object('tietoryhma', 'HENKILON_NIMI', 'etunimi', 'Suojattu', 'sukunimi', 'Tes'),
        jsonb_build_object('tietoryhma', 'TURVAKIELTO', 'turvakieltoAktiivinen', true,
                           'turvaLoppuPv', jsonb_build_object('arvo', '2035-01-01', 'tarkkuus', 'PAIVA')),
        jsonb_build_object('tietoryhma', 'KOTIKUNTA', 'kuntakoodi', '091',
                           'kuntaanMuuttopv', jsonb_build_object('arvo', '2010-01-01', 'tarkkuus', 'PAIVA')),
        jsonb_build_object('tietoryhma', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'katunimi', jsonb_build_object('fi', 'Salainen katu'),
                           'katunumero', '1', 'postinumero', '00100', 'postitoimipaikka', jsonb_build_object('fi', 'HELSINKI')),
        jsonb_build_object('tietoryhma', 'KOTIMAINEN_YHTEYSOSOITE', 'postiosoite', jsonb_build_object('fi', 'PL 1'),
                           'postinumero', '00101', 'postitoimipaikka', jsonb_build_object('fi', 'HELSINKI')))))::text) IS NOT NULL AS put;
SELECT vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n <= 6), 'laskutus');
SELECT vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n > 6), 'vesilaitos');
SELECT is(pg_temp.try_sync(), 'no error', 'twelve persons loaded, one of them protected');

-- (roles are cluster-wide: clear what an aborted earlier run left behind)
DO $$
DECLARE r text;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'vtj\_t83\_%' LOOP
        EXECUTE format('DROP OWNED BY %I', r);
        EXECUTE format('DROP ROLE %I', r);
    END LOOP;
END
$$;
CREATE ROLE vtj_t83_nobody NOLOGIN;
CREATE ROLE vtj_t83_reader NOLOGIN IN ROLE vtj_reader;
CREATE ROLE vtj_t83_water NOLOGIN;
CREATE ROLE vtj_t83_admin NOLOGIN IN ROLE vtj_admin;
CREATE ROLE vtj_t83_settings NOLOGIN IN ROLE pg_read_all_settings;
SELECT vtj.grant_reader('vtj_t83_water', ARRAY['vesilaitos']) IS NULL AS granted
 WHERE to_regprocedure('vtj.grant_reader(name,text[])') IS NOT NULL;

-- ===================================================================== nobody
-- Every function of vtj (NULL arguments), every relation (each command),
-- every sequence, tried as a role without grants: all refused with 42501.
CREATE TABLE pg_temp.attempts (who text, what text, stmt text, outcome text);
GRANT ALL ON pg_temp.attempts TO PUBLIC;
INSERT INTO pg_temp.attempts (who, what, stmt)
SELECT 'nobody', p.oid::regprocedure::text,
       format('SELECT %s(%s)', p.oid::regproc::text,
              (SELECT coalesce(string_agg(format('NULL::%s', format_type(t, NULL)), ', ' ORDER BY o), '')
                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, o)))
  FROM pg_proc p WHERE p.pronamespace = 'vtj'::regnamespace AND p.prokind = 'f' AND p.prorettype <> 'trigger'::regtype;
INSERT INTO pg_temp.attempts (who, what, stmt)
SELECT 'nobody', c.oid::regclass::text || ' ' || cmd, format(tmpl, c.oid::regclass)
  FROM pg_class c,
       (VALUES ('SELECT', 'SELECT * FROM %s LIMIT 1'), ('INSERT', 'INSERT INTO %s DEFAULT VALUES'),
               ('UPDATE', 'UPDATE %s SET x = x WHERE false'), ('DELETE', 'DELETE FROM %s'),
               ('TRUNCATE', 'TRUNCATE %s')) AS v(cmd, tmpl)
 WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'v', 'p')
   AND NOT (c.relkind = 'v' AND cmd = 'TRUNCATE');
INSERT INTO pg_temp.attempts (who, what, stmt)
SELECT 'nobody', c.oid::regclass::text || ' nextval', format('SELECT nextval(%L)', c.oid::regclass)
  FROM pg_class c WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind = 'S';
-- UPDATE … SET x: the column does not exist, but privileges are checked first
SET ROLE vtj_t83_nobody;
UPDATE pg_temp.attempts SET outcome = pg_temp.try(stmt) WHERE who = 'nobody';
RESET ROLE;
SELECT is((SELECT string_agg(what || ' -> ' || left(outcome, 60), '; ' ORDER BY what) FROM pg_temp.attempts
            WHERE who = 'nobody' AND outcome NOT LIKE '42501 %'),
          NULL, format('a role without grants is refused everything (%s attempts, each 42501)',
                       (SELECT count(*) FROM pg_temp.attempts WHERE who = 'nobody')));
SET ROLE vtj_t83_nobody;
SELECT alike(pg_temp.try('SELECT vtj.sync()'), '42501 %', 'a role without grants cannot start a run');
RESET ROLE;

-- ===================================================================== reader
INSERT INTO pg_temp.attempts (who, what, stmt)
SELECT 'reader', c.oid::regclass::text, format('SELECT count(*) FROM %s', c.oid::regclass)
  FROM pg_class c WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'v', 'p');
SET ROLE vtj_t83_reader;
UPDATE pg_temp.attempts SET outcome = pg_temp.try(stmt) WHERE who = 'reader';
RESET ROLE;
SELECT is((SELECT string_agg(what, ', ' ORDER BY what) FROM pg_temp.attempts
            WHERE who = 'reader' AND outcome = 'no error' AND what NOT IN (SELECT x::regclass::text FROM unnest(ARRAY[
                'vtj.persons', 'vtj.addresses', 'vtj.name_history', 'vtj.changes', 'vtj.sync_runs', 'vtj.status',
                'vtj.register', 'vtj.kunta']) x WHERE to_regclass(x) IS NOT NULL)),
          NULL, 'vtj_reader reads only the masked views (and the municipality codes)');
SELECT is((SELECT string_agg(what, ', ' ORDER BY what) FROM pg_temp.attempts
            WHERE who = 'reader' AND outcome <> 'no error' AND what IN ('vtj.persons', 'vtj.addresses', 'vtj.changes', 'vtj.status')),
          NULL, 'vtj_reader reads the views');
SELECT ok((SELECT outcome LIKE '42501 %' FROM pg_temp.attempts WHERE who = 'reader' AND what = 'vtj.person_entry')
          AND (SELECT outcome LIKE '42501 %' FROM pg_temp.attempts WHERE who = 'reader' AND what = 'vtj.journal')
          AND (SELECT outcome LIKE '42501 %' FROM pg_temp.attempts WHERE who = 'reader' AND what = 'vtj.hetu_history'),
          'vtj_reader cannot read the storage, the journal or the hetu history');
SET ROLE vtj_t83_reader;
SELECT is((SELECT count(*) FROM vtj.addresses a JOIN pg_temp.h USING (hetu) WHERE n = 1 AND a.tietoryhma NOT LIKE '%YHTEYSOSOITE'),
          0::bigint, 'the reader sees no censored address of the protected person');
SELECT is((SELECT count(*) FROM vtj.addresses a JOIN pg_temp.h USING (hetu) WHERE n = 1 AND a.tietoryhma = 'KOTIMAINEN_YHTEYSOSOITE'),
          1::bigint, '... but the contact address');
SELECT is((SELECT concat_ws('/', kotikunta, kotikunta_nimi, kuntaan_muuttopv) FROM vtj.persons p JOIN pg_temp.h USING (hetu) WHERE n = 1),
          '', '... and no home municipality');
SELECT ok(NOT EXISTS (SELECT 1 FROM vtj.addresses WHERE katuosoite LIKE '%Salainen%'), 'the censored street is nowhere in the views');
SELECT alike(pg_temp.try('SELECT vtj.add_person(NULL::text, ''laskutus'')'), '42501 %', 'the reader cannot register');
SELECT alike(pg_temp.try('SELECT vtj.sync()'), '42501 %', 'the reader cannot start a run');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.person_entry e JOIN pg_temp.h USING (hetu) WHERE n = 1 AND e.katunimi_fi LIKE '%Salainen%'),
          0::bigint, 'the censored street is not stored either');
SET ROLE vtj_t83_water;
SELECT is((SELECT count(*) FROM vtj.persons), 6::bigint, 'a reader limited to vesilaitos sees only its 6 persons')
 WHERE to_regprocedure('vtj.grant_reader(name,text[])') IS NOT NULL
UNION ALL SELECT skip('vtj.grant_reader does not exist yet') WHERE to_regprocedure('vtj.grant_reader(name,text[])') IS NULL;
SELECT is((SELECT count(*) FROM vtj.register WHERE purpose <> 'vesilaitos'), 0::bigint, '... and only its registrations')
 WHERE to_regprocedure('vtj.grant_reader(name,text[])') IS NOT NULL
UNION ALL SELECT skip('vtj.grant_reader does not exist yet') WHERE to_regprocedure('vtj.grant_reader(name,text[])') IS NULL;
RESET ROLE;

-- ===================================================================== secrets
CREATE FUNCTION pg_temp.fail_unless_stars(p text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    IF p IS DISTINCT FROM '********' THEN
        RAISE EXCEPTION 'the password was shown' USING ERRCODE = 'P0001';
    END IF;
END
$f$;
SELECT is(current_setting('vtj.password'), '********', 'the superuser sees ******** for vtj.password');
SELECT is((SELECT count(*) FROM pg_settings WHERE name = 'vtj.password'), 0::bigint, 'vtj.password is not in pg_settings (superuser)');
CREATE TABLE pg_temp.show_all AS SELECT * FROM pg_catalog.pg_show_all_settings() WHERE name LIKE 'vtj.%';
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_temp.show_all WHERE name = 'vtj.password' AND setting <> '********'),
          'SHOW ALL does not show it');
SET ROLE vtj_t83_settings;
SELECT is(current_setting('vtj.password'), '********', 'a member of pg_read_all_settings sees ********');
SELECT is((SELECT count(*) FROM pg_settings WHERE name = 'vtj.password'), 0::bigint, '... and no pg_settings row');
SELECT ok(NOT EXISTS (SELECT 1 FROM pg_settings WHERE setting LIKE '%vtjpass%' OR reset_val LIKE '%vtjpass%' OR boot_val LIKE '%vtjpass%'),
          '... no setting holds the password''s value');
RESET ROLE;
SET ROLE vtj_t83_admin;
SELECT is(pg_temp.try('SELECT pg_temp.fail_unless_stars(current_setting(''vtj.password''))'),
          '42501 must be superuser or have privileges of pg_read_all_settings to examine "vtj.password"',
          'vtj_admin cannot read vtj.password');
SELECT is(pg_temp.try('SHOW vtj.password'),
          '42501 must be superuser or have privileges of pg_read_all_settings to examine "vtj.password"',
          '... nor SHOW it');
SELECT is((SELECT count(*) FROM pg_settings WHERE name IN ('vtj.password', 'vtj.password_file', 'vtj.username', 'vtj.tls_key_file')),
          0::bigint, 'vtj_admin sees none of the credential settings in pg_settings');
RESET ROLE;

-- A wrong password: the run fails; its error names the status, not a credential.
SELECT pg_temp.mock('POST', '/_mock/config', '{"password": "other-secret-value"}');
SELECT alike(pg_temp.try_sync(), 'VT001 %401%', 'a refused password fails the run with the HTTP status');
SELECT pg_temp.mock('POST', '/_mock/config', '{"password": "vtjpass"}');
SELECT ok(NOT EXISTS (SELECT 1 FROM vtj.run WHERE error ~ '(vtjpass|other-secret|Basic |dnRqdXNl)'), 'no run error holds a credential');

-- ALTER DATABASE … SET vtj.password (what the README allows for connection
-- settings) stores the value in pg_db_role_setting, which every role can
-- read: pg_vtj must refuse a password there, or it leaks.
SELECT pg_temp.try(format('ALTER DATABASE %I SET vtj.password = %L', current_database(), 'leaky-db-secret')) AS alter_database;
SET ROLE vtj_t83_nobody;
SELECT is((SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%leaky-db-secret%'), 0::bigint,
          'a password set with ALTER DATABASE … SET is not readable by a role without grants (pg_db_role_setting)');
RESET ROLE;
SELECT pg_temp.try(format('ALTER DATABASE %I RESET vtj.password', current_database())) AS reset_database;
SELECT pg_temp.try(format('ALTER ROLE vtj_t83_admin SET vtj.password = %L', 'leaky-role-secret')) AS alter_role;
SET ROLE vtj_t83_nobody;
SELECT is((SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%leaky-role-secret%'), 0::bigint,
          '... nor one set with ALTER ROLE … SET');
RESET ROLE;
SELECT pg_temp.try('ALTER ROLE vtj_t83_admin RESET vtj.password') AS reset_role;

-- ===================================================================== certificate verification
SELECT is((SELECT string_agg(name, ', ') FROM pg_settings
            WHERE name LIKE 'vtj.%' AND name ~ '(verif|insecure|skip|peer|host_?check|no_?tls|no_?ssl|ssl_?opt|tls_?opt|trust)'),
          NULL, 'no vtj setting can switch certificate verification off');
SELECT alike(pg_temp.try('SET vtj.tls_verify = off'), '42%', 'SET vtj.tls_verify is refused (no such setting, prefix reserved)');
SELECT alike(pg_temp.try('SET vtj.ssl_verify_peer = 0'), '42%', 'SET vtj.ssl_verify_peer is refused');
SELECT alike(pg_temp.try('SET vtj.insecure = on'), '42%', 'SET vtj.insecure is refused');

-- ===================================================================== search_path
-- An attacker (a vtj_admin member who may create schemas) prepares objects
-- that would run with the definer's rights if a SECURITY DEFINER function or
-- a run resolved a name through the caller's search_path.
CREATE ROLE vtj_t83_attacker NOLOGIN IN ROLE vtj_admin;
SELECT pg_temp.try(format('GRANT CREATE ON DATABASE %I TO vtj_t83_attacker', current_database())) AS grant_create;
SET ROLE vtj_t83_attacker;
CREATE SCHEMA evil;
CREATE TABLE evil.hits (who name DEFAULT current_user, what text, at timestamptz DEFAULT clock_timestamp());
GRANT ALL ON SCHEMA evil TO PUBLIC;
GRANT ALL ON evil.hits TO PUBLIC;
CREATE FUNCTION evil.hit(p text) RETURNS void LANGUAGE sql AS $f$ INSERT INTO evil.hits (what) VALUES (p) $f$;
GRANT EXECUTE ON FUNCTION evil.hit(text) TO PUBLIC;
-- functions shadowing pg_catalog's (each records the hit, then behaves)
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $f$ SELECT evil.hit('now'); SELECT pg_catalog.now() $f$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS $f$ SELECT evil.hit('clock_timestamp'); SELECT pg_catalog.clock_timestamp() $f$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('lower'); SELECT pg_catalog.lower($1) $f$;
CREATE FUNCTION evil.upper(text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('upper'); SELECT pg_catalog.upper($1) $f$;
CREATE FUNCTION evil.length(text) RETURNS integer LANGUAGE sql AS $f$ SELECT evil.hit('length'); SELECT pg_catalog.length($1) $f$;
CREATE FUNCTION evil.btrim(text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('btrim'); SELECT pg_catalog.btrim($1) $f$;
CREATE FUNCTION evil.substr(text, integer, integer) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('substr'); SELECT pg_catalog.substr($1, $2, $3) $f$;
CREATE FUNCTION evil.cardinality(anyarray) RETURNS integer LANGUAGE sql AS $f$ SELECT evil.hit('cardinality'); SELECT pg_catalog.cardinality($1) $f$;
CREATE FUNCTION evil.array_length(anyarray, integer) RETURNS integer LANGUAGE sql AS $f$ SELECT evil.hit('array_length'); SELECT pg_catalog.array_length($1, $2) $f$;
CREATE FUNCTION evil.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql AS $f$ SELECT evil.hit('unnest'); SELECT pg_catalog.unnest($1) $f$;
CREATE FUNCTION evil.current_setting(text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('current_setting'); SELECT pg_catalog.current_setting($1) $f$;
CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('current_setting2'); SELECT pg_catalog.current_setting($1, $2) $f$;
CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('set_config'); SELECT pg_catalog.set_config($1, $2, $3) $f$;
CREATE FUNCTION evil.pg_backend_pid() RETURNS integer LANGUAGE sql AS $f$ SELECT evil.hit('pg_backend_pid'); SELECT pg_catalog.pg_backend_pid() $f$;
CREATE FUNCTION evil.pg_try_advisory_lock(integer, integer) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('pg_try_advisory_lock'); SELECT pg_catalog.pg_try_advisory_lock($1, $2) $f$;
CREATE FUNCTION evil.md5(text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('md5'); SELECT pg_catalog.md5($1) $f$;
CREATE FUNCTION evil.encode(bytea, text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('encode'); SELECT pg_catalog.encode($1, $2) $f$;
CREATE FUNCTION evil.sha256(bytea) RETURNS bytea LANGUAGE sql AS $f$ SELECT evil.hit('sha256'); SELECT pg_catalog.sha256($1) $f$;
CREATE FUNCTION evil.string_to_array(text, text) RETURNS text[] LANGUAGE sql AS $f$ SELECT evil.hit('string_to_array'); SELECT pg_catalog.string_to_array($1, $2) $f$;
CREATE FUNCTION evil.array_position(anycompatiblearray, anycompatible) RETURNS integer LANGUAGE sql AS $f$ SELECT evil.hit('array_position'); SELECT pg_catalog.array_position($1, $2) $f$;
CREATE FUNCTION evil.regexp_replace(text, text, text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('regexp_replace'); SELECT pg_catalog.regexp_replace($1, $2, $3) $f$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('jsonb_typeof'); SELECT pg_catalog.jsonb_typeof($1) $f$;
CREATE FUNCTION evil.to_char(timestamptz, text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('to_char'); SELECT pg_catalog.to_char($1, $2) $f$;
CREATE FUNCTION evil.has_function_privilege(name, text, text) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('has_function_privilege'); SELECT pg_catalog.has_function_privilege($1, $2, $3) $f$;
CREATE FUNCTION evil.pg_has_role(name, name, text) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('pg_has_role'); SELECT pg_catalog.pg_has_role($1, $2, $3) $f$;
-- operators shadowing pg_catalog's
CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('text ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $f$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
CREATE FUNCTION evil.text_cat(text, text) RETURNS text LANGUAGE sql AS $f$ SELECT evil.hit('text ||'); SELECT $1 OPERATOR(pg_catalog.||) $2 $f$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_cat);
CREATE FUNCTION evil.text_re(text, text) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('text ~'); SELECT $1 OPERATOR(pg_catalog.~) $2 $f$;
CREATE OPERATOR evil.~ (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_re);
CREATE FUNCTION evil.int_eq(integer, integer) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('int ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $f$;
CREATE OPERATOR evil.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.int_eq);
CREATE FUNCTION evil.bigint_eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('bigint ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $f$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.bigint_eq);
CREATE FUNCTION evil.date_le(date, date) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('date <='); SELECT $1 OPERATOR(pg_catalog.<=) $2 $f$;
CREATE OPERATOR evil.<= (LEFTARG = date, RIGHTARG = date, FUNCTION = evil.date_le);
CREATE FUNCTION evil.oid_eq(oid, oid) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('oid ='); SELECT $1 OPERATOR(pg_catalog.=) $2 $f$;
CREATE OPERATOR evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.oid_eq);
CREATE FUNCTION evil.arr_eq_any(text, text[]) RETURNS boolean LANGUAGE sql AS $f$ SELECT evil.hit('text = ANY'); SELECT $1 OPERATOR(pg_catalog.=) ANY ($2) $f$;
CREATE OPERATOR evil.@@@ (LEFTARG = text, RIGHTARG = text[], FUNCTION = evil.arr_eq_any);
-- tables named like the extension's, in the schema and as temporary tables
CREATE TABLE evil.subject (hetu text, registered_at timestamptz);
CREATE TABLE evil.registration (hetu text, purpose text);
CREATE TEMP TABLE subject (hetu text, registered_at timestamptz);
CREATE TEMP TABLE registration (hetu text, purpose text, customer_ref text);
CREATE TEMP TABLE person_state (hetu text);
CREATE TEMP TABLE person_entry (hetu text);
CREATE TEMP TABLE run (id bigint);
CREATE TEMP TABLE chain (chain_id integer, kirjausavain bigint);
CREATE TEMP TABLE admin_log (x text);
CREATE TEMP TABLE purposes (purpose text);
RESET ROLE;
-- Superuser-run check that the attacker's objects work (they do record).
SELECT evil.lower('x') IS NOT NULL AS evil_works;
SELECT is((SELECT count(*) FROM evil.hits), 1::bigint, 'the attacker''s functions record their calls');
DELETE FROM evil.hits;

-- Every SECURITY DEFINER function of vtj, with plausible and with NULL
-- arguments, as the attacker (where it may execute them) and as superuser,
-- with search_path = evil, pg_catalog, pg_temp, public.
CREATE TABLE pg_temp.sd_calls (who text, sig text, stmt text, outcome text);
GRANT ALL ON pg_temp.sd_calls TO PUBLIC;
INSERT INTO pg_temp.sd_calls (who, sig, stmt)
SELECT w.who, p.oid::regprocedure::text,
       format('SELECT %s(%s)', p.oid::regproc::text,
              (SELECT coalesce(string_agg(
                  CASE WHEN v.plausible AND format_type(t, NULL) = 'text' AND a.o = 1 AND p.proname IN ('add_person', 'remove_person', 'admin_log_for')
                           THEN quote_literal((SELECT hetu FROM pg_temp.h WHERE n = 2))
                       WHEN v.plausible AND format_type(t, NULL) = 'text[]' AND a.o = 1
                           THEN quote_literal(ARRAY[(SELECT hetu FROM pg_temp.h WHERE n = 2)]) || '::text[]'
                       WHEN v.plausible AND format_type(t, NULL) = 'text' AND p.proname IN ('add_person', 'add_persons', 'import_persons', 'set_purpose') AND a.o <= 2
                           THEN '''laskutus'''
                       WHEN v.plausible AND format_type(t, NULL) = 'name' THEN '''vtj_t83_reader'''
                       ELSE format('NULL::%s', format_type(t, NULL)) END, ', ' ORDER BY a.o), '')
                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, o)))
  FROM pg_proc p, (VALUES ('attacker'), ('superuser')) AS w(who), (VALUES (true), (false)) AS v(plausible)
 WHERE p.pronamespace = 'vtj'::regnamespace AND p.prosecdef;
-- (the statements of this block use no operator and no shadowed function
-- themselves: only the functions under test may reach the attacker's objects)
CREATE FUNCTION pg_temp.try_plain(p_sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE v_state text; v_msg text;
BEGIN
    EXECUTE p_sql;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
    RETURN format('%s %s', v_state, v_msg);
END $f$;
INSERT INTO vtj.import (hetu) SELECT hetu FROM pg_temp.h WHERE n OPERATOR(pg_catalog.=) 3;
GRANT ALL ON vtj.import TO vtj_t83_attacker;
SET search_path = evil, pg_catalog, pg_temp, public;
SET ROLE vtj_t83_attacker;
UPDATE pg_temp.sd_calls SET outcome = pg_temp.try_plain(stmt) WHERE who OPERATOR(pg_catalog.=) 'attacker';
SELECT pg_temp.try_plain('SELECT vtj.sync()') AS attacker_sync;
SELECT pg_temp.try_plain('SELECT vtj.load_base()') AS attacker_load_base;
RESET ROLE;
UPDATE pg_temp.sd_calls SET outcome = pg_temp.try_plain(stmt) WHERE who OPERATOR(pg_catalog.=) 'superuser';
SELECT pg_temp.try_plain('SELECT vtj.sync()') AS superuser_sync;
RESET search_path;
SELECT is((SELECT string_agg(DISTINCT what || ' as ' || who, ', ') FROM evil.hits WHERE who <> 'vtj_t83_attacker'),
          NULL, format('no SECURITY DEFINER function or run ran the attacker''s code with other rights (%s calls)',
                       (SELECT count(*) FROM pg_temp.sd_calls)));
SELECT is((SELECT string_agg(DISTINCT what, ', ') FROM evil.hits), NULL,
          'the attacker''s functions and operators were not called at all');
SELECT is((SELECT (SELECT count(*) FROM pg_temp.subject) + (SELECT count(*) FROM pg_temp.registration)
                + (SELECT count(*) FROM pg_temp.person_state) + (SELECT count(*) FROM pg_temp.person_entry)
                + (SELECT count(*) FROM pg_temp.run) + (SELECT count(*) FROM pg_temp.chain)
                + (SELECT count(*) FROM pg_temp.admin_log) + (SELECT count(*) FROM pg_temp.purposes)
                + (SELECT count(*) FROM evil.subject) + (SELECT count(*) FROM evil.registration)),
          0::bigint, 'no function wrote into a look-alike table');
SELECT ok((SELECT count(*) FROM pg_temp.sd_calls WHERE outcome = 'no error') > 0,
          format('(%s of the calls succeeded, so the functions really ran)', (SELECT count(*) FROM pg_temp.sd_calls WHERE outcome = 'no error')));
SELECT diag(string_agg(who || ' ' || left(stmt, 80) || ' -> ' || left(outcome, 60), E'\n' ORDER BY who, stmt)) FROM pg_temp.sd_calls;

DROP SCHEMA evil CASCADE;
SELECT pg_temp.try(format('REVOKE CREATE ON DATABASE %I FROM vtj_t83_attacker', current_database())) AS revoke_create;
SELECT pg_temp.try('SELECT vtj.revoke_reader(''vtj_t83_water'')') AS revoke_water;
DROP OWNED BY vtj_t83_nobody, vtj_t83_reader, vtj_t83_water, vtj_t83_admin, vtj_t83_settings, vtj_t83_attacker;
DROP ROLE vtj_t83_nobody, vtj_t83_reader, vtj_t83_water, vtj_t83_admin, vtj_t83_settings, vtj_t83_attacker;
SELECT * FROM finish();
