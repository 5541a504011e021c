-- Reader scoping (product.md §3): vtj.grant_reader / vtj.revoke_reader, every
-- view limited to the persons registered for the reader's purposes and
-- vtj.register to those registrations; unscoped readers and vtj_admin see
-- all; vtj.hetu_history and vtj.guardianships only for vtj_admin or readers
-- granted them explicitly. The scope follows current_user (the role running
-- the query), not session_user: checked with SET ROLE and SET SESSION
-- AUTHORIZATION. Only test hetus (individual number 900-999).
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(59);

CREATE ROLE vtj_t_water NOLOGIN;                -- the water utility's application
CREATE ROLE vtj_t_school NOLOGIN;               -- the adult education register
CREATE ROLE vtj_t_water_login LOGIN IN ROLE vtj_t_water;   -- a person using the water app's role
CREATE ROLE vtj_t_reader NOLOGIN IN ROLE vtj_reader;       -- a reader without a limit
CREATE ROLE vtj_t_admin NOLOGIN IN ROLE vtj_admin;
CREATE ROLE vtj_t_both NOLOGIN IN ROLE vtj_t_water, vtj_t_school;
CREATE ROLE vtj_t_other NOLOGIN;

-- Persons: A water only, B school only, C both, D billing only (+ its
-- corrected old hetu E); all base-loaded with a name, an address and a
-- guardianship, and a feed row each.
CREATE TEMP TABLE p (k text PRIMARY KEY, hetu text);
INSERT INTO p VALUES ('A', '010180-9015'), ('B', '020281-902W'), ('C', '030382-903M'),
                     ('D', '040483-904C'), ('E', '050584-9054');
SELECT pg_temp.reg(ARRAY[(SELECT hetu FROM p WHERE k = 'A'), (SELECT hetu FROM p WHERE k = 'C')], 'vesilaitos');
SELECT pg_temp.reg(ARRAY[(SELECT hetu FROM p WHERE k = 'B'), (SELECT hetu FROM p WHERE k = 'C')], 'oppilasrekisteri');
SELECT pg_temp.reg(ARRAY[(SELECT hetu FROM p WHERE k = 'D')], 'laskutus');
SELECT vtj._chain_obtained(1, 100);
SELECT pg_temp.base((SELECT jsonb_agg(jsonb_build_object('henkilotunnus', hetu, 'tietoryhmat', jsonb_build_array(
    jsonb_build_object('tietoryhma', 'HENKILON_NIMI', 'etunimi', 'Testi' || k, 'sukunimi', 'Henkilo'),
    jsonb_build_object('tietoryhma', 'NIMENMUUTOS', 'nimilaji', 'EDELLINEN_SUKUNIMI', 'nimi', 'Vanha' || k,
                       'loppupv', '{"arvo":"2000-01-01","tarkkuus":"PAIVA"}'::jsonb),
    jsonb_build_object('tietoryhma', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'katunimi', '{"fi":"Testikatu"}'::jsonb,
                       'katunumero', k, 'postinumero', '00100'),
    jsonb_build_object('tietoryhma', 'EDUNVALVONTA', 'alkupv', '{"arvo":"2020-01-01","tarkkuus":"PAIVA"}'::jsonb))))
    FROM p WHERE k <> 'E'));
INSERT INTO vtj.hetu_correction (vanha_hetu, uusi_hetu, muutettu_at)
SELECT e.hetu, d.hetu, now() FROM p e, p d WHERE e.k = 'E' AND d.k = 'D';
INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
SELECT e.hetu, 'HENKILOTUNNUS_KORJAUS', 'MUUTETTU', 1 FROM p e WHERE e.k = 'E';

SELECT is((SELECT count(*) FROM vtj.persons), 4::bigint, 'four persons loaded');
SELECT is((SELECT count(*) FROM vtj.guardianships), 4::bigint, 'each with a guardianship');

-- ------------------------------------------------------------- grant_reader
SET LOCAL ROLE vtj_t_admin;
SELECT lives_ok($$SELECT vtj.grant_reader('vtj_t_water', ARRAY['vesilaitos'])$$, 'an admin limits the water app to vesilaitos');
SELECT lives_ok($$SELECT vtj.grant_reader('vtj_t_school', ARRAY['oppilasrekisteri', 'oppilasrekisteri'])$$,
                'and the school register to oppilasrekisteri');
SELECT lives_ok($$SELECT vtj.grant_reader('vtj_t_other')$$, 'grant_reader without purposes');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_no_such_role', ARRAY['laskutus'])$$, '42704', NULL, 'an unknown role is refused');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_water', ARRAY['kirjasto'])$$, '42704',
                 'purpose kirjasto does not exist', 'an unknown purpose is refused');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_water', ARRAY['tyontekija'])$$, '42704', NULL, 'tyontekija cannot be a reader''s purpose');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_water', ARRAY[]::text[])$$, '22023', NULL, 'an empty purpose list is refused');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_water', ARRAY['laskutus', NULL])$$, '22023', NULL, 'a NULL purpose is refused');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_admin', ARRAY['laskutus'])$$, '22023', NULL,
                 'a member of vtj_admin cannot be limited');
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_admin')$$, '22023', NULL, 'vtj_admin itself is refused');
SELECT throws_ok($$SELECT vtj.grant_reader('pg_read_all_data')$$, '22023', NULL, 'a predefined role is refused');
SELECT throws_ok($$SELECT vtj.grant_reader(NULL)$$, '22004', NULL, 'a NULL role is refused');
RESET ROLE;

SELECT ok(pg_has_role('vtj_t_water', 'vtj_reader', 'MEMBER') AND pg_has_role('vtj_t_other', 'vtj_reader', 'MEMBER'),
          'grant_reader grants vtj_reader');
SELECT results_eq($$SELECT role::text, purposes::text COLLATE "default" FROM vtj.reader_scope ORDER BY 1$$,
                  $$VALUES ('vtj_t_school', '{oppilasrekisteri}'), ('vtj_t_water', '{vesilaitos}')$$,
                  'the limits are recorded per role (duplicates folded)');
SELECT results_eq($$SELECT detail->>'role', detail->'purposes' FROM vtj.admin_log WHERE action = 'reader_grant' ORDER BY id$$,
                  $$VALUES ('vtj_t_water', '["vesilaitos"]'::jsonb), ('vtj_t_school', '["oppilasrekisteri"]'), ('vtj_t_other', 'null')$$,
                  'every grant is in the admin log');

SET LOCAL ROLE vtj_t_reader;
SELECT throws_ok($$SELECT vtj.grant_reader('vtj_t_reader')$$, '42501', NULL, 'a reader cannot grant');
RESET ROLE;

-- ------------------------------------------------------------- what each role sees
CREATE TEMP VIEW seen AS SELECT
    (SELECT string_agg(p.k || ':' || r.purpose, ' ' ORDER BY p.k, r.purpose) FROM vtj.register r JOIN p ON p.hetu = r.hetu) AS register,
    (SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.persons x JOIN p ON p.hetu = x.hetu) AS persons,
    (SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.addresses x JOIN p ON p.hetu = x.hetu) AS addresses,
    (SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.name_history x JOIN p ON p.hetu = x.hetu) AS name_history,
    (SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.changes x JOIN p ON p.hetu = x.hetu) AS changes,
    (SELECT registered FROM vtj.status) AS registered;
CREATE TEMP VIEW seen_all AS
    SELECT concat_ws(' | ', register, persons, addresses, name_history, changes, registered) AS v FROM seen;
GRANT SELECT ON seen, seen_all, p TO PUBLIC;

SELECT is((SELECT v FROM seen_all), 'A:vesilaitos B:oppilasrekisteri C:oppilasrekisteri C:vesilaitos D:laskutus | ABCD | ABCD | ABCD | ABCDE | 4',
          'the superuser sees everything');
SET LOCAL ROLE vtj_t_admin;
SELECT is((SELECT v FROM seen_all), 'A:vesilaitos B:oppilasrekisteri C:oppilasrekisteri C:vesilaitos D:laskutus | ABCD | ABCD | ABCD | ABCDE | 4',
          'a member of vtj_admin sees everything');
SET LOCAL ROLE vtj_t_reader;
SELECT is((SELECT v FROM seen_all), 'A:vesilaitos B:oppilasrekisteri C:oppilasrekisteri C:vesilaitos D:laskutus | ABCD | ABCD | ABCD | ABCDE | 4',
          'a reader without a limit sees every purpose');
SET LOCAL ROLE vtj_t_other;
SELECT is((SELECT v FROM seen_all), 'A:vesilaitos B:oppilasrekisteri C:oppilasrekisteri C:vesilaitos D:laskutus | ABCD | ABCD | ABCD | ABCDE | 4',
          'a role granted vtj_reader without purposes sees every purpose');
SET LOCAL ROLE vtj_t_water;
SELECT is((SELECT v FROM seen_all), 'A:vesilaitos C:vesilaitos | AC | AC | AC | AC | 2',
          'the water app sees only persons registered for vesilaitos, and only those registrations');
SELECT is((SELECT count(*) FROM vtj.register WHERE hetu = (SELECT hetu FROM p WHERE k = 'B')), 0::bigint,
          '... a point lookup of a school-only person finds nothing');
SELECT is((SELECT count(*) FROM vtj.persons WHERE hetu = (SELECT hetu FROM p WHERE k = 'C')), 1::bigint,
          '... a point lookup of a person in both registers finds it');
SELECT throws_ok($$SELECT * FROM vtj.hetu_history$$, '42501', NULL, '... and cannot read vtj.hetu_history');
SELECT throws_ok($$SELECT * FROM vtj.guardianships$$, '42501', NULL, '... nor vtj.guardianships');
SET LOCAL ROLE vtj_t_school;
SELECT is((SELECT v FROM seen_all), 'B:oppilasrekisteri C:oppilasrekisteri | BC | BC | BC | BC | 2',
          'the school register sees only its own persons');
SET LOCAL ROLE vtj_t_both;
SELECT is((SELECT v FROM seen_all), 'A:vesilaitos B:oppilasrekisteri C:oppilasrekisteri C:vesilaitos | ABC | ABC | ABC | ABC | 3',
          'a member of two limited roles sees the union of their purposes');
RESET ROLE;

-- security_barrier: a leaky function in a limited reader's own WHERE (STABLE
-- and cheap, so that only the barrier keeps it above the register check) is
-- shown only the reader's persons
CREATE FUNCTION pg_temp.spy(text) RETURNS boolean LANGUAGE plpgsql STABLE COST 0.0001 AS $$
BEGIN
    PERFORM set_config('vtj_test.spied', current_setting('vtj_test.spied') || COALESCE($1, '') || E'\n', true);
    RETURN true;
END $$;
SET LOCAL vtj_test.spied = '';
SET LOCAL ROLE vtj_t_water;
SELECT count(*) FROM vtj.persons x WHERE pg_temp.spy(x.hetu);
SELECT count(*) FROM vtj.addresses x WHERE pg_temp.spy(x.hetu);
SELECT count(*) FROM vtj.name_history x WHERE pg_temp.spy(x.hetu);
SELECT count(*) FROM p JOIN vtj.persons x ON x.hetu = p.hetu LEFT JOIN vtj.addresses a ON a.hetu = p.hetu
 WHERE pg_temp.spy(x.hetu) AND pg_temp.spy(a.hetu);
RESET ROLE;
SELECT is((SELECT string_agg(DISTINCT p.k, '' ORDER BY p.k)
             FROM regexp_split_to_table(current_setting('vtj_test.spied'), E'\n') v JOIN p ON p.hetu = v),
          'AC', 'a leaky function in a limited reader''s WHERE is shown only the reader''s persons');

-- current_user, not session_user: the session is the superuser's, the query runs as the water app
SET LOCAL ROLE vtj_t_water;
SELECT is(session_user::text, 'postgres', 'session_user is the superuser');
SELECT is((SELECT persons FROM seen), 'AC', 'yet the views limit the role the query runs as (current_user)');
RESET ROLE;
-- ... and the other way round: a session of the water app's login role that
-- sets its role to an unlimited one is not limited
GRANT vtj_t_reader TO vtj_t_water_login;
SET SESSION AUTHORIZATION vtj_t_water_login;
SELECT is((SELECT persons FROM seen), 'AC', 'a login member of the water role is limited like it');
SET ROLE vtj_t_reader;
SELECT is((SELECT persons || ' ' || current_user FROM seen), 'ABCD vtj_t_reader',
          'after SET ROLE to a reader without a limit, the session sees what that role may');
RESET ROLE;
RESET SESSION AUTHORIZATION;
SELECT is(session_user::text, 'postgres', 'back to the superuser');

-- inside a view the querying role is current_user (PostgreSQL 15: the view's
-- owner is used only for privilege checks on what it reads)
CREATE VIEW pg_temp.who AS SELECT current_user::text AS cu, session_user::text AS su;
GRANT SELECT ON pg_temp.who TO PUBLIC;
SET LOCAL ROLE vtj_t_water;
SELECT is((SELECT cu || '/' || su FROM pg_temp.who), 'vtj_t_water/postgres',
          'current_user in a view owned by another role is the querying role');
RESET ROLE;

-- A SECURITY DEFINER function reads the views as its owner: its owner's scope
CREATE FUNCTION pg_temp.water_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS
    $$ SELECT count(*) FROM vtj.persons $$;
ALTER FUNCTION pg_temp.water_count() OWNER TO vtj_t_water;
SELECT is(pg_temp.water_count(), 2::bigint, 'a SECURITY DEFINER function owned by the water app sees its scope');

-- ------------------------------------------------------------- explicit grants
GRANT SELECT ON vtj.guardianships, vtj.hetu_history TO vtj_t_water, vtj_t_other;
SET LOCAL ROLE vtj_t_water;
SELECT is((SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.guardianships g JOIN p ON p.hetu = g.hetu), 'AC',
          'a limited reader granted vtj.guardianships sees only its persons'' guardianships');
SELECT is((SELECT count(*) FROM vtj.hetu_history), 0::bigint, '... and no hetu correction of others');
SET LOCAL ROLE vtj_t_other;
SELECT is((SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.guardianships g JOIN p ON p.hetu = g.hetu), 'ABCD',
          'an unlimited reader granted vtj.guardianships sees all');
SELECT is((SELECT count(*) FROM vtj.hetu_history), 1::bigint, '... and vtj.hetu_history');
RESET ROLE;
SELECT lives_ok($$SELECT vtj.grant_reader('vtj_t_other', ARRAY['laskutus'])$$, 'limit the other role to laskutus');
SET LOCAL ROLE vtj_t_other;
SELECT is((SELECT string_agg(p.k, '' ORDER BY p.k) FROM vtj.hetu_history h JOIN p ON p.hetu = h.vanha_hetu), 'E',
          'a laskutus reader sees the correction of its person');
SELECT is((SELECT persons || ' ' || changes FROM seen), 'D DE', '... and the feed row under the person''s old hetu');
RESET ROLE;

-- ------------------------------------------------------------- lifting and revoking
SELECT lives_ok($$SELECT vtj.grant_reader('vtj_t_water')$$, 'grant_reader without purposes lifts a limit');
SET LOCAL ROLE vtj_t_water;
SELECT is((SELECT persons FROM seen), 'ABCD', '... the water app now sees all');
RESET ROLE;
SELECT lives_ok($$SELECT vtj.grant_reader('vtj_t_water', ARRAY['vesilaitos', 'laskutus'])$$, 'a limit can be changed');
SET LOCAL ROLE vtj_t_water;
SELECT is((SELECT persons FROM seen), 'ACD', '... and applies at once');
RESET ROLE;
SET LOCAL ROLE vtj_t_admin;
SELECT lives_ok($$SELECT vtj.revoke_reader('vtj_t_water')$$, 'revoke_reader');
RESET ROLE;
SELECT ok(NOT pg_has_role('vtj_t_water', 'vtj_reader', 'MEMBER'), '... ends the membership');
SELECT is((SELECT count(*) FROM vtj.reader_scope WHERE role = 'vtj_t_water'::regrole), 0::bigint, '... and the limit');
SET LOCAL ROLE vtj_t_water;
SELECT throws_ok($$SELECT * FROM vtj.persons$$, '42501', NULL, '... the role reads nothing any more');
RESET ROLE;
SELECT is((SELECT count(*) FROM vtj.admin_log WHERE action = 'reader_revoke' AND detail->>'role' = 'vtj_t_water'), 1::bigint,
          'the revoke is in the admin log');
SELECT throws_ok($$SELECT vtj.revoke_reader('vtj_admin')$$, '22023', NULL, 'revoke_reader refuses vtj_admin');

-- A limit left behind by a dropped role does not break the views
CREATE ROLE vtj_t_gone NOLOGIN;
SELECT vtj.grant_reader('vtj_t_gone', ARRAY['laskutus']);
REVOKE vtj_reader FROM vtj_t_gone;
DROP ROLE vtj_t_gone;
SET LOCAL ROLE vtj_t_school;
SELECT is((SELECT persons FROM seen), 'BC', 'a dropped role''s limit is ignored, the others still apply');
RESET ROLE;

-- ------------------------------------------------------------- every view is scoped
SELECT is(
    (SELECT array_agg(c.relname::text ORDER BY c.relname::text)
       FROM pg_class c
      WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind = 'v'
        AND (has_table_privilege('vtj_reader', c.oid, 'SELECT') OR c.relname IN ('guardianships', 'hetu_history'))
        AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('hetu', 'uusi_hetu'))
             OR c.relname = 'status')
        AND NOT EXISTS (SELECT 1 FROM pg_rewrite w JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid
                         WHERE w.ev_class = c.oid AND d.refobjid = 'vtj._reader_purposes'::regclass)),
    NULL, 'every view that shows persons (and vtj.status) applies the reader''s purposes');
SELECT is((SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind = 'v'
            AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname IN ('hetu', 'uusi_hetu'))
                 OR c.relname = 'status')),
          8::bigint, 'eight such views (register, persons, addresses, name_history, guardianships, hetu_history, changes, status)');
SELECT ok(NOT has_table_privilege('vtj_reader', 'vtj._reader_purposes', 'SELECT')
          AND NOT has_table_privilege('vtj_reader', 'vtj.reader_scope', 'SELECT'),
          'readers cannot read the scope table or its helper view directly');

-- An unlimited reader's plan: the condition is one initplan, not per row
SELECT is((SELECT count(*) FROM vtj.register r WHERE r.hetu = (SELECT hetu FROM p WHERE k = 'C')), 2::bigint,
          'point lookups in vtj.register still work');

-- roles are dropped with the transaction
SELECT * FROM finish();
ROLLBACK;
