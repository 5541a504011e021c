-- The admin log (product.md §8): register changes with the session user,
-- time, action, purpose and count; per-person entries with the HMAC-SHA256 of
-- the hetu under vtj.hmac_key_file (never the hetu); vtj.admin_log_for(hetu);
-- key changes (vtj.set_kirjausavain), rule changes (vtj.set_turvakielto_rule)
-- and run starts; retention.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(70);

CREATE ROLE vtj_t_admin NOLOGIN IN ROLE vtj_admin;
CREATE ROLE vtj_t_reader NOLOGIN IN ROLE vtj_reader;

-- A shell command as the server's OS user (files it creates are 0600: the
-- server's umask).
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'cat >/dev/null; ' || cmd);
END $f$;
CREATE FUNCTION pg_temp.sh_out(cmd text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE v text;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS sh_lines (line text);
    TRUNCATE sh_lines;
    EXECUTE format('COPY sh_lines FROM PROGRAM %L', cmd);
    SELECT string_agg(line, E'\n') INTO v FROM sh_lines;
    RETURN v;
END $f$;
CREATE TEMP TABLE keyfile AS
    SELECT current_setting('data_directory') || '/vtj_t_hmac_' || pg_backend_pid() AS path;
CREATE FUNCTION pg_temp.write_key(content text) RETURNS void LANGUAGE sql AS $f$
    SELECT pg_temp.sh(format('umask 077; printf %%s %s > %s', quote_literal(content), (SELECT path FROM keyfile)))
$f$;
-- an openssl CLI HMAC for comparison
CREATE FUNCTION pg_temp.openssl_hmac(key text, data text) RETURNS text LANGUAGE sql AS $f$
    SELECT left(pg_temp.sh_out(format('printf %%s %s | openssl dgst -sha256 -hmac %s -r', quote_literal(data), quote_literal(key))), 64)
$f$;

-- ------------------------------------------------------------- without a key file
SELECT is(vtj._hmac_enabled(), false, 'no vtj.hmac_key_file: no per-person entries');
SELECT is(vtj._hetu_hmac('010180-9015'), NULL, 'vtj._hetu_hmac is NULL without a key file');
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT * FROM vtj.admin_log_for('010180-9015')$$, '55000', NULL,
                 'admin_log_for explains that the log holds no per-person entries without a key');
SELECT is(vtj.add_person('010180-9015', 'laskutus'), true, 'a registration without a key file');
RESET ROLE;
SELECT results_eq($$SELECT action COLLATE "default", purpose COLLATE "default", count, hetu_hmac, logged_by::text COLLATE "default"
                      FROM vtj.admin_log$$,
                  $$VALUES ('register', 'laskutus', 1::bigint, NULL::text, 'postgres')$$,
                  'an entry with the count, the session user (not the role set with SET ROLE) and no per-person data');
SELECT ok((SELECT logged_at = now() FROM vtj.admin_log), '... and the time');

-- ------------------------------------------------------------- the key
SELECT pg_temp.write_key('key' || chr(10));
DO $$ BEGIN PERFORM set_config('vtj.hmac_key_file', (SELECT path FROM keyfile), true); END $$;
SELECT is(vtj._hmac_enabled(), true, 'with vtj.hmac_key_file set');
SELECT is(vtj._hetu_hmac('The quick brown fox jumps over the lazy dog'),
          'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
          'HMAC-SHA256 as lowercase hex (RFC 4231-style vector, key "key" from a file ending in a newline)');
SELECT is(vtj._hetu_hmac('010180-9015'), pg_temp.openssl_hmac('key', '010180-9015'), 'a hetu''s HMAC agrees with openssl dgst -hmac');
SELECT pg_temp.write_key('key');
SELECT is(vtj._hetu_hmac('The quick brown fox jumps over the lazy dog'),
          'f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
          'the same key without the trailing newline gives the same HMAC');
SELECT pg_temp.write_key('key' || chr(10) || chr(10));
SELECT is(vtj._hetu_hmac('010180-9015'), pg_temp.openssl_hmac('key' || chr(10), '010180-9015'),
          'only one trailing newline is dropped');
SELECT pg_temp.write_key('another key, rotated');
SELECT is(vtj._hetu_hmac('010180-9015'), pg_temp.openssl_hmac('another key, rotated', '010180-9015'),
          'a rewritten key file is read again at once');
SELECT pg_temp.write_key('municipality secret 2025');

-- ------------------------------------------------------------- per-person entries
SET LOCAL ROLE vtj_t_admin;
SELECT is(vtj.add_persons(ARRAY['020281-902W', '030382-903M'], 'vesilaitos', ARRAY['V-2', 'V-3']), 2::bigint,
          'two registrations with the key file');
SELECT is(vtj.add_persons(ARRAY['020281-902W', '030382-903M'], 'vesilaitos', ARRAY['V-2b', 'V-3']), 0::bigint,
          'a customer_ref change');
SELECT is(vtj.add_person('020281-902W', 'laskutus'), true, 'another purpose');
SELECT is(vtj.remove_person('020281-902W'), true, 'and the removal of the person');
RESET ROLE;
SELECT results_eq(
    $$SELECT action COLLATE "default", purpose COLLATE "default", count, hetu_hmac COLLATE "default"
        FROM vtj.admin_log WHERE hetu_hmac IS NOT NULL ORDER BY id$$,
    $$VALUES ('register', 'vesilaitos', 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '020281-902W')),
             ('register', 'vesilaitos', 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '030382-903M')),
             ('customer_ref', 'vesilaitos', 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '020281-902W')),
             ('register', 'laskutus', 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '020281-902W')),
             ('unregister', 'laskutus', 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '020281-902W')),
             ('unregister', 'vesilaitos', 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '020281-902W')),
             ('purge', NULL, 1::bigint, pg_temp.openssl_hmac('municipality secret 2025', '020281-902W'))$$,
    'one entry per person and action, with the HMAC of the hetu');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE hetu_hmac IS NOT NULL AND count IS DISTINCT FROM 1), 0::bigint,
          'per-person entries count one person');

SET LOCAL ROLE vtj_t_admin;
SELECT results_eq($$SELECT action COLLATE "default", purpose COLLATE "default" FROM vtj.admin_log_for('020281-902W')$$,
                  $$VALUES ('register', 'vesilaitos'), ('customer_ref', 'vesilaitos'), ('register', 'laskutus'),
                           ('unregister', 'laskutus'), ('unregister', 'vesilaitos'), ('purge', NULL)$$,
                  'admin_log_for(hetu) answers DVV''s log investigation: who registered the person, when, why, and the removal');
SELECT is((SELECT count(*) FROM vtj.admin_log_for('030382-903M')), 1::bigint, 'another person has its own entries');
SELECT is((SELECT count(*) FROM vtj.admin_log_for('040483-904C')), 0::bigint, 'an unknown person has none');
SELECT is((SELECT count(*) FROM vtj.admin_log_for('010180-9015')), 0::bigint,
          'entries written without the key cannot be found by hetu');
SELECT throws_ok($$SELECT * FROM vtj.admin_log_for(NULL)$$, '22004', NULL, 'admin_log_for(NULL) is refused');
SELECT lives_ok($$SELECT * FROM vtj.admin_log$$, 'vtj_admin reads the admin log');
RESET ROLE;
SET LOCAL ROLE vtj_t_reader;
SELECT throws_ok($$SELECT * FROM vtj.admin_log$$, '42501', NULL, 'a reader cannot read the admin log');
SELECT throws_ok($$SELECT * FROM vtj.admin_log_for('020281-902W')$$, '42501', NULL, 'nor search it');
RESET ROLE;

-- the key file must be private and readable; errors name neither the file nor the key
SELECT pg_temp.sh('chmod 0640 ' || (SELECT path FROM keyfile));
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.add_person('040483-904C', 'laskutus')$$, 'F0000',
                 'vtj.hmac_key_file must be a regular file owned by the database server''s user with mode 0600 or stricter',
                 'a key file readable by others refuses the registration (it is never silently unlogged)');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.registration WHERE hetu = '040483-904C'), 0::bigint, '... nothing was registered');
SELECT pg_temp.sh('rm -f ' || (SELECT path FROM keyfile));
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.add_person('040483-904C', 'laskutus')$$, 'F0000', 'vtj.hmac_key_file cannot be read',
                 'a missing key file refuses too');
RESET ROLE;
SELECT pg_temp.write_key('');
SELECT throws_ok($$SELECT vtj._hetu_hmac('x')$$, 'F0000', 'vtj.hmac_key_file is empty or longer than 4096 bytes', 'an empty key is refused');
SELECT pg_temp.sh('rm -f ' || (SELECT path FROM keyfile));

-- no entry holds a hetu, in any column
SELECT is((SELECT count(*) FROM vtj.admin_log l
            WHERE row_to_json(l)::text ~ '(^|[^0-9A-Za-z])[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]($|[^0-9A-Za-z])'),
          0::bigint, 'no admin log entry contains a hetu');
DO $$ BEGIN PERFORM set_config('vtj.hmac_key_file', '', true); END $$;

-- ------------------------------------------------------------- run starts
CREATE TEMP TABLE r AS SELECT vtj._run_start('changes', 'alice') AS id;
SELECT results_eq($$SELECT action COLLATE "default", logged_by::text COLLATE "default", run_id, detail->>'kind' FROM vtj.admin_log WHERE action = 'run_start'$$,
                  $$SELECT 'run_start', 'alice', id, 'changes' FROM r$$,
                  'a run start is logged with the run''s started_by (the session user that started it), id and kind');
INSERT INTO vtj.run (kind, started_by, started_at, status, finished_at) VALUES ('base', 'bob', now() - interval '1 day', 'ok', now());
INSERT INTO vtj.run (kind, started_by, started_at) VALUES ('base', 'carol', now() - interval '1 minute');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'run_start'), 1::bigint,
          'rows loaded by pg_restore (finished, or started earlier) are not logged again');

-- ------------------------------------------------------------- vtj.set_kirjausavain
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.set_kirjausavain(5)$$, '42501', NULL, 'set_kirjausavain is not for vtj_admin');
RESET ROLE;
SELECT throws_ok($$SELECT vtj.set_kirjausavain(NULL)$$, '22004', NULL, 'a NULL key is refused');
SELECT throws_ok($$SELECT vtj.set_kirjausavain(-1)$$, '22023', NULL, 'a negative key is refused');
SELECT lives_ok($$SELECT vtj.set_kirjausavain(1000)$$, 'a first key can be set');
SELECT is((SELECT kirjausavain FROM vtj.chain WHERE chain_id = 1), 1000::bigint, '... it is stored');
SELECT lives_ok($$SELECT vtj.set_kirjausavain(900)$$, 'moving back (re-applying pages) needs no force');
SELECT throws_ok($$SELECT vtj.set_kirjausavain(950)$$, '22023',
                 'moving the kirjausavain forward from 900 to 950 skips the changes in between',
                 'moving forward without force is refused');
SELECT is((SELECT kirjausavain FROM vtj.chain WHERE chain_id = 1), 900::bigint, '... the key stays');
SELECT lives_ok($$SELECT vtj.set_kirjausavain(950, force => true)$$, 'moving forward with force');
SELECT results_eq($$SELECT detail FROM vtj.admin_log WHERE action = 'kirjausavain' ORDER BY id$$,
                  $$VALUES ('{"after": 1000, "force": false, "before": null, "chain_id": 1}'::jsonb),
                           ('{"after": 900, "force": false, "before": 1000, "chain_id": 1}'),
                           ('{"after": 950, "force": true, "before": 900, "chain_id": 1}')$$,
                  'every key change is in the admin log with the keys before and after');

-- ------------------------------------------------------------- vtj.set_turvakielto_rule
SET LOCAL ROLE vtj_t_admin;
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('OMA', ARRAY['KOTIKUNTA'])$$, '42501', NULL,
                 'set_turvakielto_rule is not for vtj_admin');
SELECT lives_ok($$SELECT * FROM vtj.turvakielto_rule$$, '... who may read the rules');
RESET ROLE;
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('OMA', ARRAY['KOTIKUNTA', 'SUKUPUOLI'])$$, '22023',
                 'unknown group SUKUPUOLI: a rule names groups of the product''s 18', 'an unknown group is refused');
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('OMA', ARRAY['KOTIMAINEN_YHTEYSOSOITE'])$$, '22023', NULL,
                 'a contact address is never censored');
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('OMA', ARRAY['TURVAKIELTO'])$$, '22023', NULL,
                 'TURVAKIELTO cannot be censored');
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('OMA', ARRAY['kotikunta'])$$, '22023', NULL, 'group names are exact');
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('oma', ARRAY['KOTIKUNTA'])$$, '22023', NULL, 'a malformed rule name is refused');
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('TIEDOT_SENSUROIDAAN', ARRAY['KOTIKUNTA'])$$, '22023', NULL,
                 'TIEDOT_SENSUROIDAAN keeps its seven groups');
SELECT throws_ok($$SELECT vtj.set_turvakielto_rule('OMA', NULL)$$, '22004', NULL, 'NULL groups are refused');

-- a protected and an unprotected person with names stored
SELECT pg_temp.reg(ARRAY['050584-9054', '060685-906V']);
SELECT pg_temp.base(jsonb_build_array(
  jsonb_build_object('henkilotunnus', '050584-9054', 'tietoryhmat', jsonb_build_array(
    '{"tietoryhma":"HENKILON_NIMI","etunimi":"Suojattu","sukunimi":"Testi"}'::jsonb,
    '{"tietoryhma":"TURVAKIELTO","turvakieltoAktiivinen":true}'::jsonb)),
  jsonb_build_object('henkilotunnus', '060685-906V', 'tietoryhmat', jsonb_build_array(
    '{"tietoryhma":"HENKILON_NIMI","etunimi":"Tavallinen","sukunimi":"Testi"}'::jsonb))));
SELECT is((SELECT count(*) FROM vtj.person_entry WHERE tietoryhma = 'HENKILON_NIMI'), 2::bigint, 'both names stored');
SELECT lives_ok($$SELECT vtj.set_turvakielto_rule('TIEDOT_SENSUROIDAAN', vtj._censored_groups() || ARRAY['HENKILON_NIMI'])$$,
                'a superuser adds HENKILON_NIMI to TIEDOT_SENSUROIDAAN');
SELECT is((SELECT string_agg(hetu, ',') FROM vtj.person_entry WHERE tietoryhma = 'HENKILON_NIMI'), '060685-906V',
          'the protected person''s stored names are erased at once; the other''s stay');
SELECT results_eq($$SELECT tietoryhma COLLATE "default", seeded FROM vtj.turvakielto_rule WHERE rule = 'TIEDOT_SENSUROIDAAN' ORDER BY 1$$,
                  $$SELECT g COLLATE "default", g <> 'HENKILON_NIMI' FROM unnest(vtj._censored_groups() || ARRAY['HENKILON_NIMI']) g ORDER BY 1$$,
                  'the seeded groups stay seeded, the added one is dumped');
SELECT lives_ok($$SELECT vtj.set_turvakielto_rule('TIEDOT_SENSUROIDAAN', vtj._censored_groups())$$, 'and removes it again');
SELECT lives_ok($$SELECT vtj.set_turvakielto_rule('OMA_SAANTO', ARRAY['KOTIKUNTA', 'ASIOINTIKIELI', 'KOTIKUNTA'])$$, 'a rule of its own');
SELECT is((SELECT array_agg(tietoryhma::text ORDER BY tietoryhma) FROM vtj.turvakielto_rule WHERE rule = 'OMA_SAANTO'),
          ARRAY['ASIOINTIKIELI', 'KOTIKUNTA'], '... with its groups');
SELECT lives_ok($$SELECT vtj.set_turvakielto_rule('OMA_SAANTO', ARRAY[]::text[])$$, 'an empty list removes a rule');
SELECT is((SELECT count(*) FROM vtj.turvakielto_rule WHERE rule = 'OMA_SAANTO'), 0::bigint, '... it is gone');
SELECT results_eq($$SELECT detail->>'rule', detail->'after' @> '["HENKILON_NIMI"]', (detail->>'erased')::int FROM vtj.admin_log
                     WHERE action = 'turvakielto_rule' ORDER BY id$$,
                  $$VALUES ('TIEDOT_SENSUROIDAAN', true, 1), ('TIEDOT_SENSUROIDAAN', false, 0), ('OMA_SAANTO', false, 0),
                           ('OMA_SAANTO', false, 0)$$,
                  'every rule change is in the admin log, with what it erased');

-- ------------------------------------------------------------- retention
INSERT INTO vtj.admin_log (logged_at, action, count) VALUES (now() - interval '6 years', 'register', 3),
                                                              (now() - interval '2 years', 'register', 4);
SELECT is(vtj._admin_log_retention(), 1::bigint, 'retention deletes entries older than vtj.admin_log_retention (5 years)');
SELECT results_eq($$SELECT count, detail->>'older_than' FROM vtj.admin_log WHERE action = 'admin_log_retention'$$,
                  $$VALUES (1::bigint, '1825 days')$$, '... and logs the deletion');
SELECT is(vtj._admin_log_retention(interval '1 year'), 1::bigint, 'a shorter period given by the caller (60_operations.sql)');
SELECT is(vtj._admin_log_retention(interval '1 hour'), 0::bigint, 'nothing to delete: nothing logged');
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'admin_log_retention'), 2::bigint, '... two deletions logged');

-- ------------------------------------------------------------- structure
SELECT is((SELECT x.cond FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(rel, cond)
            WHERE e.extname = 'pg_vtj' AND x.rel = 'vtj.admin_log'::regclass), '', 'vtj.admin_log is dumped whole');
SELECT ok(NOT has_function_privilege('vtj_admin', 'vtj._hetu_hmac(text)', 'EXECUTE')
          AND NOT has_function_privilege('vtj_admin', 'vtj._admin_log_persons(text, text, text[], jsonb)', 'EXECUTE'),
          'vtj_admin cannot compute HMACs or write entries itself');
SELECT ok(NOT has_table_privilege('vtj_admin', 'vtj.admin_log', 'INSERT, UPDATE, DELETE, TRUNCATE'),
          'vtj_admin cannot change the admin log');

SELECT * FROM finish();
ROLLBACK;
