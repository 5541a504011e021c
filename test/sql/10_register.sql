-- 10_register.sql — purposes, vtj.add_person, vtj.remove_person, vtj.register,
-- the import path; refusals and their SQLSTATEs; no hetu in any error.
BEGIN;
SELECT plan(92);

-- The SQLSTATE and every text of the error a statement raises; the hetu goes
-- in as a bind parameter so that only our own messages could echo it.
CREATE FUNCTION pg_temp.error_of(q text, arg text DEFAULT NULL) RETURNS text[]
    LANGUAGE plpgsql AS $$
DECLARE
    st text; m text; d text; h text; c text;
BEGIN
    EXECUTE q USING arg;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
                            h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
    RETURN ARRAY[st, m, d, h, c];
END
$$;
-- true when no text of the error contains the hetu, its date part or its last four.
CREATE FUNCTION pg_temp.no_echo(e text[], hetu text) RETURNS boolean
    LANGUAGE sql AS $$
    SELECT e IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM unnest(e[2:5]) AS t(x)
         WHERE strpos(t.x, hetu) > 0
            OR (length(hetu) >= 6 AND (strpos(t.x, left(hetu, 6)) > 0 OR strpos(t.x, right(hetu, 4)) > 0)))
$$;

-- vtj._purge_person belongs to the storage layer; stand in for it when absent.
CREATE TEMP TABLE purged (hetu text);
CREATE TEMP TABLE purge_stub AS SELECT to_regprocedure('vtj._purge_person(text)') IS NULL AS stub;
DO $$
BEGIN
    IF (SELECT stub FROM purge_stub) THEN
        CREATE FUNCTION vtj._purge_person(p_hetu text) RETURNS void
            LANGUAGE sql AS 'INSERT INTO pg_temp.purged VALUES ($1)';
    END IF;
END
$$;

CREATE ROLE vtj_test_admin NOLOGIN IN ROLE vtj_admin;
CREATE ROLE vtj_test_admin2 NOLOGIN IN ROLE vtj_admin;

-- Purposes ------------------------------------------------------------------------
SELECT is(vtj.set_purpose('kirjasto', 'Kirjaston asiakasrekisteri', 'Kirjastolaki 1492/2016'), true,
          'set_purpose adds a purpose (true)');
SELECT results_eq($$SELECT description, legal_basis, enabled, seeded FROM vtj.purposes WHERE purpose = 'kirjasto'$$,
                  $$VALUES ('Kirjaston asiakasrekisteri', 'Kirjastolaki 1492/2016', true, false)$$,
                  'an added purpose is enabled and not seeded');
SELECT is(vtj.set_purpose('kirjasto', enabled => false), false, 'set_purpose changes a purpose (false)');
SELECT results_eq($$SELECT description, legal_basis, enabled FROM vtj.purposes WHERE purpose = 'kirjasto'$$,
                  $$VALUES ('Kirjaston asiakasrekisteri', 'Kirjastolaki 1492/2016', false)$$,
                  'NULL arguments keep their values');
SELECT is(vtj.set_purpose('kirjasto', description => '', enabled => true), false, 'an empty description ...');
SELECT is((SELECT description FROM vtj.purposes WHERE purpose = 'kirjasto'), NULL, '... clears it');
SELECT lives_ok($$SELECT vtj.set_purpose('kirjasto', 'Kirjaston asiakasrekisteri')$$, 'description given again');

SELECT throws_ok($$SELECT vtj.set_purpose('tyontekija', 'Henkilöstö')$$, '22023', NULL,
                 'set_purpose refuses tyontekija');
SELECT throws_ok($$SELECT vtj.set_purpose('TYONTEKIJA')$$, '22023', NULL, '... in any case');
SELECT throws_ok($$SELECT vtj.set_purpose('tyontekijat')$$, '22023', NULL, '... and in any word');
SELECT throws_ok($$SELECT vtj.set_purpose('Iso Nimi')$$, '22023', NULL, 'set_purpose refuses a malformed name');
SELECT throws_ok($$SELECT vtj.set_purpose('')$$, '22023', NULL, 'set_purpose refuses an empty name');
SELECT throws_ok($$SELECT vtj.set_purpose(NULL)$$, '22004', NULL, 'set_purpose refuses NULL');
SELECT throws_ok($$INSERT INTO vtj.purposes (purpose) VALUES ('tyontekija')$$, '23514', NULL,
                 'the table itself refuses tyontekija');
SELECT ok(pg_temp.no_echo(pg_temp.error_of('SELECT vtj.set_purpose($1)', '010594Y9032'), '010594Y9032'),
          'a hetu given as a purpose name is not echoed (set_purpose)');

SET LOCAL SESSION AUTHORIZATION vtj_test_admin;
SELECT is(vtj.set_purpose('uimahalli'), true, 'a member of vtj_admin adds a purpose without a description');
RESET SESSION AUTHORIZATION;
SELECT results_eq($$SELECT description, changed_by::text COLLATE "default" FROM vtj.purposes WHERE purpose = 'uimahalli'$$,
                  $$VALUES (NULL::text, 'vtj_test_admin')$$, 'changed_by is the session user');

-- vtj.add_person -----------------------------------------------------------------------
SELECT is(vtj.add_person('010594Y9032', 'laskutus', 'asiakas-1'), true, 'add_person: a new pair is true');
SELECT is(vtj.add_person('010594Y9032', 'laskutus', 'asiakas-1'), false, 'add_person: the same pair again is false');
SELECT is(vtj.add_person('010594Y9032', 'laskutus'), false, 'add_person without customer_ref ...');
SELECT is((SELECT customer_ref FROM vtj.registration WHERE hetu = '010594Y9032' AND purpose = 'laskutus'),
          'asiakas-1', '... keeps the customer_ref');
SELECT is(vtj.add_person('010594Y9032', 'laskutus', 'asiakas-2'), false, 'add_person with another customer_ref ...');
SELECT is((SELECT customer_ref FROM vtj.registration WHERE hetu = '010594Y9032' AND purpose = 'laskutus'),
          'asiakas-2', '... replaces it');
SELECT is(vtj.add_person('010594Y9032', 'vesilaitos', 'vesi-7'), true, 'a second purpose for the same hetu is a new pair');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '010594Y9032'), 1::bigint, 'one subject row per hetu');
SELECT is((SELECT count(*) FROM vtj.registration WHERE hetu = '010594Y9032'), 2::bigint, 'one registration per pair');
SELECT results_eq(
    $$SELECT purpose COLLATE "default", customer_ref FROM vtj.register WHERE hetu = '010594Y9032' ORDER BY 1$$,
    $$VALUES ('laskutus', 'asiakas-2'), ('vesilaitos', 'vesi-7')$$,
    'vtj.register shows each registration with its own customer_ref');
SELECT is(vtj.add_person('010594Y9021', 'muu'), true, 'muu without a description may be used');
SELECT is(vtj.add_person('010594Y9021', 'uimahalli'), true, 'an added purpose without a description may be used');

SET LOCAL SESSION AUTHORIZATION vtj_test_admin;
SELECT is(vtj.add_person('020594X903P', 'laskutus'), true, 'a member of vtj_admin adds a person');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT added_by::text FROM vtj.registration WHERE hetu = '020594X903P'), 'vtj_test_admin',
          'added_by is the session user, not the function owner');
SELECT ok((SELECT added_at = now() FROM vtj.registration WHERE hetu = '020594X903P'), 'added_at is set');

-- Refusals
CREATE TEMP TABLE before AS SELECT (SELECT count(*) FROM vtj.registration) AS n;
SELECT throws_ok($$SELECT vtj.add_person('030594W903B', 'tyontekija')$$, '22023',
                 'purpose "tyontekija" is not allowed: pg_vtj may not be used for employees'' data',
                 'tyontekija is refused (22023)');
SELECT throws_ok($$SELECT vtj.add_person('030594W903B', 'asiakkaat')$$, '42704',
                 'purpose "asiakkaat" does not exist', 'an unknown purpose is refused (42704)');
SELECT lives_ok($$SELECT vtj.set_purpose('kirjasto', enabled => false)$$, 'kirjasto disabled');
SELECT throws_ok($$SELECT vtj.add_person('030594W903B', 'kirjasto')$$, '22023',
                 'purpose "kirjasto" is disabled', 'a disabled purpose is refused (22023)');
SELECT throws_ok($$SELECT vtj.add_person(NULL, 'laskutus')$$, '22004', 'hetu must not be NULL', 'NULL hetu (22004)');
SELECT throws_ok($$SELECT vtj.add_person('030594W903B', NULL)$$, '22004', 'purpose must not be NULL', 'NULL purpose (22004)');
SELECT throws_ok($$SELECT vtj.add_person('010594Y903O', 'laskutus')$$, '22023',
                 'invalid hetu: the check character of a hetu does not match', 'a wrong check character (22023)');
SELECT throws_ok($$SELECT vtj.add_person('290223C903C', 'laskutus')$$, '22023',
                 'invalid hetu: the date of a hetu must exist in the century its sign names', 'a date that does not exist (22023)');
SELECT throws_ok($$SELECT vtj.add_person('150715J0101', 'laskutus')$$, '22023',
                 'invalid hetu: the century sign of a hetu is one of + - Y X W V U A B C D E F', 'a wrong century sign (22023)');
SELECT throws_ok($$SELECT vtj.add_person('123456+789', 'laskutus')$$, '22023',
                 'invalid hetu: a hetu has exactly 11 characters', 'a wrong length (22023)');
SELECT throws_ok($$SELECT vtj.add_person(' 010594Y9032', 'laskutus')$$, '22023', NULL, 'no trimming');
SELECT throws_ok($$SELECT vtj.add_person('150327-977k', 'laskutus')$$, '22023', NULL, 'no case folding');

CREATE TEMP TABLE bad_input (hetu text);
INSERT INTO bad_input VALUES ('010190-999K'), ('010190Y999K'), ('990101A1234'), ('320101A1234'),
    ('123456:7890'), ('191086-838I'), ('321086-838X'), ('150715J0101'), ('150799-0101'), ('010118-9999'),
    ('010101-1230'), ('010594Y903O'), ('290200-902D'), ('290200Y902D'), ('290223C903C'), ('310499Y904X'),
    ('150327-977k'), ('010594y9032');
SELECT is(count(*), 0::bigint, 'every invalid hetu: SQLSTATE 22023 and no part of it in message, detail, hint or context')
  FROM bad_input b, LATERAL (SELECT pg_temp.error_of('SELECT vtj.add_person($1, ''laskutus'')', b.hetu) AS e) x
 WHERE x.e IS NULL OR x.e[1] <> '22023' OR NOT pg_temp.no_echo(x.e, b.hetu);
SELECT ok(pg_temp.no_echo(pg_temp.error_of('SELECT vtj.add_person(''laskutus'', $1)', '030594W903B'), '030594W903B'),
          'a hetu passed as the purpose is not echoed');
SELECT is((pg_temp.error_of('SELECT vtj.add_person(''laskutus'', $1)', '030594W903B'))[1], '42704',
          '... it is an unknown purpose');
SET LOCAL vtj.allow_test_hetus = off;
SELECT throws_ok($$SELECT vtj.add_person('030594W903B', 'laskutus')$$, '22023',
                 'invalid hetu: test hetus (individual number 900-999) are refused while vtj.allow_test_hetus is off',
                 'with vtj.allow_test_hetus off a test hetu is refused');
RESET vtj.allow_test_hetus;
SELECT is((SELECT count(*) FROM vtj.registration), (SELECT n FROM before), 'the refused calls added nothing');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '030594W903B'), 0::bigint, '... not even a subject row');

-- vtj.remove_person -----------------------------------------------------------------------
SELECT is(vtj.remove_person('010594Y9032', 'vesilaitos'), true, 'remove_person ends one registration (true)');
SELECT results_eq($$SELECT purpose COLLATE "default" FROM vtj.registration WHERE hetu = '010594Y9032'$$,
                  $$VALUES ('laskutus')$$, 'the other registration stays');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '010594Y9032'), 1::bigint, '... and so does the subject row');
SELECT is((SELECT count(*) FROM purged), 0::bigint, '... and nothing is purged')
  FROM purge_stub WHERE stub
UNION ALL SELECT pass('vtj._purge_person is the real one') FROM purge_stub WHERE NOT stub;
SELECT is(vtj.remove_person('010594Y9032', 'vesilaitos'), false, 'removing it again is false');
SELECT throws_ok($$SELECT vtj.remove_person('010594Y9032', 'asiakkaat')$$, '42704', NULL,
                 'remove_person with an unknown purpose (42704)');
SELECT throws_ok($$SELECT vtj.remove_person(NULL)$$, '22004', NULL, 'remove_person(NULL) (22004)');
SELECT is(vtj.remove_person('010594Y9032', 'laskutus'), true, 'removing the last registration by purpose ...');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '010594Y9032'), 0::bigint,
          '... removes the hetu from the list sent to DVV');
SELECT is((SELECT array_agg(hetu) FROM purged), ARRAY['010594Y9032'], '... and purges the person once')
  FROM purge_stub WHERE stub
UNION ALL SELECT pass('vtj._purge_person ran without error') FROM purge_stub WHERE NOT stub;

SELECT is(vtj.remove_person('010594Y9021'), true, 'remove_person without purpose ends every registration');
SELECT is((SELECT count(*) FROM vtj.registration WHERE hetu = '010594Y9021'), 0::bigint, '... none is left');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '010594Y9021'), 0::bigint, '... nor the subject row');
SELECT is((SELECT count(*) FROM purged WHERE hetu = '010594Y9021'), 1::bigint, '... and the person is purged')
  FROM purge_stub WHERE stub
UNION ALL SELECT pass('vtj._purge_person ran without error') FROM purge_stub WHERE NOT stub;
SELECT is(vtj.remove_person('010594Y9021'), false, 'removing an unregistered hetu is false');
SELECT is(vtj.remove_person('not a hetu'), false, 'removing a string that is no hetu is false, not an error');

SELECT lives_ok($$SELECT vtj.set_purpose('kirjasto', enabled => true)$$, 'kirjasto enabled');
SELECT is(vtj.add_person('040594V9030', 'kirjasto'), true, 'registered for kirjasto');
SELECT lives_ok($$SELECT vtj.set_purpose('kirjasto', enabled => false)$$, 'kirjasto disabled');
SELECT is(vtj.remove_person('040594V9030', 'kirjasto'), true, 'a registration for a disabled purpose can be ended');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '040594V9030'), 0::bigint, '... and with it the subject row');

-- vtj.register ---------------------------------------------------------------------------
SELECT results_eq(
    $$SELECT hetu COLLATE "default", purpose COLLATE "default", customer_ref FROM vtj.register ORDER BY 1, 2$$,
    $$SELECT hetu COLLATE "default", purpose COLLATE "default", customer_ref FROM vtj.registration ORDER BY 1, 2$$,
    'vtj.register shows every registration');

-- vtj.import / vtj.import_persons -----------------------------------------------------------
SET LOCAL SESSION AUTHORIZATION vtj_test_admin2;
SELECT lives_ok($$INSERT INTO vtj.import (hetu, customer_ref) VALUES ('050594U903M', 'toisen')$$,
                'another admin''s pending row');
RESET SESSION AUTHORIZATION;
SET LOCAL SESSION AUTHORIZATION vtj_test_admin;
SELECT lives_ok($$INSERT INTO vtj.import (hetu, customer_ref, imported_by)
                  VALUES ('010516B903X', 'a-1', 'vtj_test_admin2'), ('010516B902W', NULL, DEFAULT),
                         ('020516C903K', 'a-3', DEFAULT)$$,
                'a member of vtj_admin inserts rows into vtj.import');
SELECT is(vtj.import_persons('oppilasrekisteri'), 3::bigint, 'import_persons registers the caller''s rows');
SELECT is((SELECT count(*) FROM vtj.import), 1::bigint, '... deletes them and leaves the other admin''s row');
SELECT lives_ok($$INSERT INTO vtj.import (hetu) VALUES ('020516C902J'), ('020516C902X'), (NULL), ('030516D9037')$$,
                'rows with two invalid hetus');
SELECT throws_ok($$SELECT vtj.import_persons('oppilasrekisteri')$$, '22023',
                 'import_persons: 2 of 4 hetus are invalid (positions 2, 3); nothing was added',
                 'import_persons names the count and the positions');
SELECT is((SELECT count(*) FROM vtj.import WHERE imported_by = 'vtj_test_admin'), 4::bigint,
          '... and keeps the rows to be fixed');
SELECT lives_ok($$DELETE FROM vtj.import WHERE hetu IS NULL OR NOT vtj.hetu_valid(hetu)$$, 'fixed');
SELECT is(vtj.import_persons('oppilasrekisteri'), 2::bigint, 'then the rest is registered');
SELECT is(vtj.import_persons('oppilasrekisteri'), 0::bigint, 'an empty import registers nothing');
RESET SESSION AUTHORIZATION;
SELECT results_eq(
    $$SELECT hetu COLLATE "default", customer_ref, added_by::text COLLATE "default" FROM vtj.registration
       WHERE purpose = 'oppilasrekisteri' ORDER BY 1$$,
    $$VALUES ('010516B902W', NULL, 'vtj_test_admin'), ('010516B903X', 'a-1', 'vtj_test_admin'),
             ('020516C902J', NULL, 'vtj_test_admin'), ('020516C903K', 'a-3', 'vtj_test_admin'),
             ('030516D9037', NULL, 'vtj_test_admin')$$,
    'imported registrations with their customer_refs');
SELECT results_eq($$SELECT hetu COLLATE "default", imported_by::text COLLATE "default" FROM vtj.import$$,
                  $$VALUES ('050594U903M', 'vtj_test_admin2')$$,
                  'the other admin''s row is still there, still its own');
SELECT throws_ok($$SELECT vtj.import_persons('tyontekija')$$, '22023', NULL, 'import_persons refuses tyontekija');

-- Hetu corrections (vtj.hetu_correction of 20_storage.sql, behind vtj.hetu_history) ----------
-- 010181-999K was corrected to 010281-999C (the peers' mock scenario).
INSERT INTO vtj.hetu_correction (vanha_hetu, uusi_hetu, muutettu_at)
VALUES ('010181-999K', '010281-999C', now() - interval '1 day');
SELECT throws_ok($$SELECT vtj.add_person('010181-999K', 'laskutus')$$, '22023',
                 'the hetu has been corrected: it is no longer in use',
                 'adding a corrected hetu is refused (22023)');
SELECT is((pg_temp.error_of('SELECT vtj.add_person($1, ''laskutus'')', '010181-999K'))[4],
          'Register the new hetu instead; vtj.hetu_history (vtj_admin) lists corrections.',
          '... with a hint to use the new one');
SELECT ok(pg_temp.no_echo(pg_temp.error_of('SELECT vtj.add_person($1, ''laskutus'')', '010181-999K'), '010181-999K')
          AND pg_temp.no_echo(pg_temp.error_of('SELECT vtj.add_person($1, ''laskutus'')', '010181-999K'), '010281-999C'),
          '... naming neither the old nor the new hetu');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['010180-999A', '010181-999K'], 'laskutus')$$, '22023',
                 'add_persons: 1 of 2 hetus have been corrected and are no longer in use (position 2); nothing was added',
                 'add_persons refuses it with its position, all or nothing');
SELECT is((SELECT count(*) FROM vtj.subject WHERE hetu = '010180-999A'), 0::bigint, '... nothing was added');
SELECT is(vtj.add_person('010281-999C', 'laskutus'), true, 'the new hetu can be added');
INSERT INTO vtj.hetu_correction (vanha_hetu, uusi_hetu, muutettu_at)
VALUES ('010281-999C', '010181-999K', now());
SELECT is(vtj.add_person('010181-999K', 'laskutus'), true,
          'a hetu a later correction moved back to is in use again');

SELECT * FROM finish();
ROLLBACK;
