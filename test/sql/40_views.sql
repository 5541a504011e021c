-- The read side (sql/install/80_views.sql): the views' columns, options and
-- owner, what a reader may read, masking under turvakielto whatever the
-- storage holds, the katuosoite rule, "today" (future-dated entries appear on
-- their Finnish day, whatever the session's TimeZone), vtj.status warnings.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(58);

-- ---------------------------------------------------------------------------
-- columns exactly as product.md §3; security_barrier; owned by the extension owner
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE spec (v text, cols text);
INSERT INTO spec VALUES
 ('persons', 'hetu,etunimet,sukunimi,aidinkieli,asiointikieli,kuollut,kuolinpv,kuolinpv_tarkkuus,turvakielto,turvakielto_loppupv,kotikunta,kotikunta_nimi,kotikunta_nimi_sv,kuntaan_muuttopv,updated_at'),
 ('addresses', 'hetu,tietoryhma,katuosoite,katuosoite_sv,katunimi_fi,katunimi_sv,katunumero,huoneistokirjain,huoneistonumero,jakokirjain,postinumero,postitoimipaikka_fi,postitoimipaikka_sv,postiosoite_fi,postiosoite_sv,postiosoite_lisarivi,lahiosoite,paikkakunta,valtiokoodi,valtionimi,kuntakoodi,alkupv,loppupv'),
 ('name_history', 'hetu,nimilaji,nimi,alkupv,loppupv'),
 ('guardianships', 'hetu,tietoryhma,alkupv,loppupv,tiedot'),
 ('hetu_history', 'vanha_hetu,uusi_hetu,muutettu_at'),
 ('changes', 'id,hetu,tietoryhma,muutosattribuutti,run_id,applied_at'),
 ('sync_runs', 'id,kind,started_at,finished_at,status,started_by,http_requests,records,persons,billed_persons,unregistered,not_found,error'),
 ('status', 'last_success_at,last_success_age,kirjausavain,key_advanced_at,registered,not_loaded,not_found,stale,deceased,failed_last_24h,warning');
SELECT is((SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_attribute a
            WHERE a.attrelid = ('vtj.' || s.v)::regclass AND a.attnum > 0),
          s.cols, 'columns of vtj.' || s.v)
  FROM spec s ORDER BY s.v;
SELECT is_empty($$ SELECT s.v FROM spec s JOIN pg_class c ON c.oid = ('vtj.' || s.v)::regclass
                    WHERE NOT COALESCE(c.reloptions @> ARRAY['security_barrier=true'], false) $$,
                'every view is security_barrier');
SELECT is_empty($$ SELECT s.v FROM spec s JOIN pg_class c ON c.oid = ('vtj.' || s.v)::regclass
                    WHERE c.relowner <> (SELECT relowner FROM pg_class WHERE oid = 'vtj.person_entry'::regclass) $$,
                'every view is owned by the extension owner (the owner of the storage)');
SELECT is_empty($$ SELECT s.v FROM spec s JOIN pg_depend d ON d.refobjid = ('vtj.' || s.v)::regclass JOIN pg_rewrite w ON w.oid = d.objid
                    JOIN pg_depend f ON f.objid = w.oid AND f.classid = 'pg_rewrite'::regclass AND f.refclassid = 'pg_proc'::regclass
                    JOIN pg_proc p ON p.oid = f.refobjid WHERE p.pronamespace = 'vtj'::regnamespace $$,
                'no view calls a function of the extension');

-- ---------------------------------------------------------------------------
-- data
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE today AS SELECT (now() AT TIME ZONE 'Europe/Helsinki')::date AS d;
SELECT pg_temp.reg(ARRAY['010101-901S', '020202-902H', '030303-9038']);
SELECT vtj._chain_obtained(1, 100);
SELECT pg_temp.base(jsonb_build_array(
  jsonb_build_object('henkilotunnus', '010101-901S', 'tietoryhmat', jsonb_build_array(
    '{"tietoryhma":"HENKILON_NIMI","etunimi":"Matti","sukunimi":"Testi"}'::jsonb,
    '{"tietoryhma":"NIMENMUUTOS","nimilaji":"EDELLINEN_SUKUNIMI","nimi":"Vanha","loppupv":{"arvo":"2000-01-01","tarkkuus":"PAIVA"}}'::jsonb,
    '{"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2010-01-01","tarkkuus":"PAIVA"}}'::jsonb,
    jsonb_build_object('tietoryhma', 'KOTIKUNTA', 'kuntakoodi', '049',
                       'kuntaanMuuttopv', jsonb_build_object('arvo', (SELECT d + 1 FROM today), 'tarkkuus', 'PAIVA')),
    -- current until today (inclusive)
    jsonb_build_object('tietoryhma', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'katunimi', '{"fi":"Mikkolantie","sv":"Mickelsvägen"}'::jsonb,
                       'katunumero', '30', 'huoneistokirjain', 'F', 'huoneistonumero', '028', 'postinumero', '00640',
                       'alkupv', '{"arvo":"2010-01-01","tarkkuus":"PAIVA"}'::jsonb,
                       'loppupv', jsonb_build_object('arvo', (SELECT d FROM today), 'tarkkuus', 'PAIVA')),
    -- starts tomorrow
    jsonb_build_object('tietoryhma', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'katunimi', '{"fi":"Huomisenkatu"}'::jsonb, 'katunumero', '1',
                       'alkupv', jsonb_build_object('arvo', (SELECT d + 1 FROM today), 'tarkkuus', 'PAIVA')),
    -- starts today
    jsonb_build_object('tietoryhma', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'katunimi', '{"sv":"Sommarvägen"}'::jsonb, 'katunumero', '3b',
                       'huoneistokirjain', 'C', 'huoneistonumero', '000', 'jakokirjain', 'a',
                       'alkupv', jsonb_build_object('arvo', (SELECT d FROM today), 'tarkkuus', 'PAIVA')),
    -- ended yesterday
    jsonb_build_object('tietoryhma', 'KOTIMAINEN_POSTIOSOITE', 'postiosoite', '{"fi":"PL 1"}'::jsonb,
                       'loppupv', jsonb_build_object('arvo', (SELECT d - 1 FROM today), 'tarkkuus', 'PAIVA')),
    '{"tietoryhma":"ULKOMAINEN_POSTIOSOITE","postiosoite":"PO Box 5","postiosoiteLisarivi":"c/o Test","postitoimipaikka":"10111 TALLINN","valtiokoodi":"233"}'::jsonb,
    '{"tietoryhma":"TILAPAINEN_ULKOMAINEN_OSOITE","lahiosoite":"Sadama 5/7","paikkakunta":"TALLINN","valtiokoodi":"233"}'::jsonb,
    '{"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","postiosoite":{"fi":"PL 99","sv":"PB 99"},"postinumero":"00101"}'::jsonb,
    '{"tietoryhma":"EDUNVALVONTA","alkupv":{"arvo":"2020-01-01","tarkkuus":"PAIVA"},"edunvalvoja":{"henkilotunnus":"080808-908Y"}}'::jsonb,
    '{"tietoryhma":"EDUNVALVONTAVALTUUTUS","alkupv":{"arvo":"2010-01-01","tarkkuus":"PAIVA"},"paatymispv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}}'::jsonb)),
  jsonb_build_object('henkilotunnus', '020202-902H', 'tietoryhmat', $j$[
    {"tietoryhma":"TURVAKIELTO","turvakieltoAktiivinen":true,"turvaLoppuPv":{"arvo":"2099-01-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"HENKILON_NIMI","etunimi":"Suojattu","sukunimi":"Testi"},
    {"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","postiosoite":{"fi":"PL 7"},"postinumero":"00101"},
    {"tietoryhma":"EDUNVALVONTA","alkupv":{"arvo":"2020-01-01","tarkkuus":"PAIVA"},"edunvalvoja":{"henkilotunnus":"080808-908Y"}}]$j$::jsonb)));

-- ---------------------------------------------------------------------------
-- "today" and the katuosoite rule
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE expected_addr AS SELECT
  'KOTIMAINEN_YHTEYSOSOITE: PL 99; TILAPAINEN_KOTIMAINEN_OSOITE: Sommarvägen 3b C a; '
  || 'TILAPAINEN_ULKOMAINEN_OSOITE: Sadama 5/7; ULKOMAINEN_POSTIOSOITE: PO Box 5; '
  || 'VAKINAINEN_KOTIMAINEN_OSOITE: Mikkolantie 30 F 28' AS a;
SELECT is(pg_temp.addr('010101-901S'), (SELECT a FROM expected_addr),
          'current today: an entry ending today and one starting today; not one starting tomorrow or ended yesterday');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '010101-901S'), '091', 'a move dated tomorrow is not current yet');
SET LOCAL TimeZone = 'Pacific/Kiritimati';
SELECT is(pg_temp.addr('010101-901S') || (SELECT kotikunta FROM vtj.persons WHERE hetu = '010101-901S'),
          (SELECT a FROM expected_addr) || '091', 'the same at UTC+14');
CREATE TEMP TABLE local_dates AS SELECT current_date AS d;
SET LOCAL TimeZone = 'Pacific/Pago_Pago';
SELECT is(pg_temp.addr('010101-901S') || (SELECT kotikunta FROM vtj.persons WHERE hetu = '010101-901S'),
          (SELECT a FROM expected_addr) || '091', 'the same at UTC-11');
INSERT INTO local_dates SELECT current_date;
SELECT ok(EXISTS (SELECT 1 FROM local_dates, today WHERE local_dates.d <> today.d),
          'one of these zones is on another date than Finland right now, so the test above is not vacuous');
RESET TimeZone;
-- the day comes: move the stored dates one day back, as if a day had passed
UPDATE vtj.person_entry SET alkupv = alkupv - 1 WHERE alkupv = (SELECT d + 1 FROM today);
UPDATE vtj.person_entry SET loppupv = loppupv - 1 WHERE loppupv = (SELECT d FROM today);
SELECT is((SELECT kotikunta || ' ' || kuntaan_muuttopv FROM vtj.persons WHERE hetu = '010101-901S'),
          '049 ' || (SELECT d FROM today), 'a future-dated move appears on its day');
SELECT ok(pg_temp.addr('010101-901S') LIKE '%VAKINAINEN_KOTIMAINEN_OSOITE: Huomisenkatu 1', 'the new address appears on its day');
SELECT ok(pg_temp.addr('010101-901S') NOT LIKE '%Mikkolantie%', 'the old one disappears the day after its loppupv');

SELECT results_eq($$ SELECT katuosoite, katuosoite_sv, postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, postitoimipaikka_fi,
                            lahiosoite, paikkakunta, valtiokoodi COLLATE "default"
                       FROM vtj.addresses WHERE hetu = '010101-901S' AND tietoryhma LIKE '%ULKOMAINEN%' ORDER BY tietoryhma $$,
    $$ VALUES ('Sadama 5/7', 'Sadama 5/7', NULL, NULL, NULL, NULL, 'Sadama 5/7', 'TALLINN', '233'),
              ('PO Box 5', 'PO Box 5', 'PO Box 5', NULL, 'c/o Test', '10111 TALLINN', NULL, NULL, '233') $$,
    'foreign addresses: lahiosoite, or the postal address (plain strings in the Finnish columns)');
SELECT is((SELECT katuosoite || ' / ' || katuosoite_sv FROM vtj.addresses WHERE hetu = '010101-901S' AND tietoryhma = 'KOTIMAINEN_YHTEYSOSOITE'),
          'PL 99 / PB 99', 'contact address: postiosoite, Swedish first in katuosoite_sv');
SELECT is((SELECT katuosoite || ' / ' || katuosoite_sv FROM vtj.addresses WHERE hetu = '010101-901S' AND tietoryhma = 'TILAPAINEN_KOTIMAINEN_OSOITE'),
          'Sommarvägen 3b C a / Sommarvägen 3b C a',
          'apartment number 000 is dropped, the division letter stays; the Swedish street name when there is no Finnish one');

SELECT results_eq($$ SELECT nimilaji COLLATE "default", nimi, alkupv, loppupv FROM vtj.name_history WHERE hetu = '010101-901S' $$,
                  $$ VALUES ('EDELLINEN_SUKUNIMI', 'Vanha', NULL::date, '2000-01-01'::date) $$, 'name history includes ended names');
SELECT is((SELECT string_agg(tietoryhma || ' ' || tiedot::text, '; ') FROM vtj.guardianships WHERE hetu = '010101-901S'),
          'EDUNVALVONTA {"edunvalvoja": {"henkilotunnus": "080808-908Y"}}',
          'current guardianships only (paatymispv ends one), with their details');

-- ---------------------------------------------------------------------------
-- single-valued groups: of the current entries the one with the latest
-- alkupv wins (a dated one beats an undated one), the later-stored one on a
-- tie; the same answer whether the view is read whole (one set-based pass
-- over the register, as a join reads it) or by hetu (pushed down)
-- ---------------------------------------------------------------------------
INSERT INTO vtj.person_entry (hetu, tietoryhma, etunimi, sukunimi, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
VALUES ('010101-901S', 'HENKILON_NIMI', 'Aaro', 'Dated', '2001-01-01', 'PAIVA', NULL, NULL),
       ('010101-901S', 'HENKILON_NIMI', 'Bertta', 'Tie', '2001-01-01', 'PAIVA', NULL, NULL),
       ('010101-901S', 'HENKILON_NIMI', 'Cecilia', 'Older', '2000-01-01', 'PAIVA', NULL, NULL),
       ('010101-901S', 'HENKILON_NIMI', 'Daniel', 'Future', (SELECT d + 1 FROM today), 'PAIVA', NULL, NULL),
       ('010101-901S', 'HENKILON_NIMI', 'Eero', 'Ended', '2005-01-01', 'PAIVA', (SELECT d - 1 FROM today), 'PAIVA');
INSERT INTO vtj.person_entry (hetu, tietoryhma, kielikoodi)
VALUES ('010101-901S', 'AIDINKIELI', 'fi'), ('010101-901S', 'AIDINKIELI', 'sv');
SELECT is((SELECT etunimet || ' ' || sukunimi FROM vtj.persons WHERE hetu = '010101-901S'), 'Bertta Tie',
          'names: the latest alkupv wins, the later-stored entry on a tie; future and ended entries are not current');
SELECT is((SELECT aidinkieli || '/' || COALESCE(asiointikieli, '-') FROM vtj.persons WHERE hetu = '010101-901S'), 'sv/-',
          'languages: of two undated entries the later-stored one; none stored, NULL');
SELECT results_eq($$ SELECT p.* FROM vtj.persons p ORDER BY p.hetu $$,
                  $$ SELECT p.* FROM vtj.person_state s CROSS JOIN LATERAL (SELECT * FROM vtj.persons x WHERE x.hetu = s.hetu) p
                      ORDER BY p.hetu $$,
                  'vtj.persons read whole equals vtj.persons read by hetu');
SELECT results_eq($$ SELECT a.* FROM vtj.addresses a ORDER BY a.hetu, a.tietoryhma, a.katuosoite $$,
                  $$ SELECT a.* FROM vtj.person_state s CROSS JOIN LATERAL (SELECT * FROM vtj.addresses x WHERE x.hetu = s.hetu) a
                      ORDER BY a.hetu, a.tietoryhma, a.katuosoite $$,
                  'vtj.addresses read whole equals vtj.addresses read by hetu');

-- ---------------------------------------------------------------------------
-- masking: whatever the storage holds
-- ---------------------------------------------------------------------------
SELECT is(pg_temp.addr('020202-902H'), 'KOTIMAINEN_YHTEYSOSOITE: PL 7', 'a protected person: only the contact address');
-- corrupt the storage as the superuser: censored data for the protected person
INSERT INTO vtj.person_entry (hetu, tietoryhma, kuntakoodi, katunimi_fi, katunumero, alkupv, alkupv_tarkkuus)
SELECT '020202-902H', g, '091', 'Salainenkatu', '1', '2020-01-01', 'PAIVA' FROM unnest(vtj._censored_groups()) g;
INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
SELECT '020202-902H', g, 'LISATTY', 0 FROM unnest(vtj._censored_groups()) g;
SELECT is(pg_temp.addr('020202-902H'), 'KOTIMAINEN_YHTEYSOSOITE: PL 7', 'vtj.addresses hides stored censored groups of a protected person');
SELECT is((SELECT ROW(kotikunta, kotikunta_nimi, kotikunta_nimi_sv, kuntaan_muuttopv)::text FROM vtj.persons WHERE hetu = '020202-902H'),
          '(,,,)', 'vtj.persons shows no home municipality');
SELECT is((SELECT turvakielto::text || ' ' || turvakielto_loppupv FROM vtj.persons WHERE hetu = '020202-902H'), 'true 2099-01-01',
          'it shows the prohibition and its end');
SELECT is((SELECT tiedot FROM vtj.guardianships WHERE hetu = '020202-902H'), '{}'::jsonb, 'guardianship details are empty');
SELECT is((SELECT string_agg(tietoryhma, ',') FROM vtj.changes WHERE hetu = '020202-902H'), 'PERUSTIEDOT',
          'vtj.changes hides feed rows of censored groups');
SELECT is((SELECT count(*)::int FROM vtj.addresses WHERE katunimi_fi = 'Salainenkatu'), 0, 'nothing of it in any row');
-- security_barrier: a condition of the caller's that is not leakproof (here
-- a cheap STABLE function, so that nothing but the barrier keeps it from
-- being pushed down, that writes down every value it is shown) runs on the
-- view's output, after the masking and the register check, never on the
-- storage rows underneath. The storage also holds a person who is not
-- registered at all.
INSERT INTO vtj.person_state (hetu, base_loaded_at, base_key) VALUES ('040404-9040', now(), 1);
INSERT INTO vtj.person_entry (hetu, tietoryhma, etunimi, sukunimi, katunimi_fi, katunumero)
VALUES ('040404-9040', 'HENKILON_NIMI', 'Ei', 'Rekisterissa', NULL, NULL),
       ('040404-9040', 'VAKINAINEN_KOTIMAINEN_OSOITE', NULL, NULL, 'Piilokatu', '1');
CREATE TEMP TABLE customers AS SELECT hetu FROM vtj.person_state;
CREATE FUNCTION pg_temp.spy(text) RETURNS boolean LANGUAGE plpgsql STABLE COST 0.0001 AS $$
BEGIN
    PERFORM set_config('vtj_test.spied', current_setting('vtj_test.spied') || COALESCE($1, '') || E'\n', true);
    RETURN true;
END $$;
SET LOCAL vtj_test.spied = '';
SELECT count(*) FROM vtj.persons p
 WHERE pg_temp.spy(p.hetu || ' ' || COALESCE(p.kotikunta, '-') || ' ' || COALESCE(p.kuntaan_muuttopv::text, '-'));
SELECT count(*) FROM vtj.addresses a WHERE pg_temp.spy(a.hetu || ' ' || a.tietoryhma || ' ' || COALESCE(a.katunimi_fi, '-'));
SELECT count(*) FROM customers c JOIN vtj.persons p ON p.hetu = c.hetu LEFT JOIN vtj.addresses a ON a.hetu = c.hetu
 WHERE pg_temp.spy(p.hetu || ' ' || COALESCE(p.kotikunta, '-') || ' ' || COALESCE(p.kuntaan_muuttopv::text, '-'))
   AND pg_temp.spy(a.hetu || ' ' || a.tietoryhma || ' ' || COALESCE(a.katunimi_fi, '-'));
CREATE TEMP TABLE spied AS SELECT v FROM regexp_split_to_table(current_setting('vtj_test.spied'), E'\n') v WHERE v <> '';
SELECT is((SELECT string_agg(DISTINCT v, ', ') FROM spied WHERE v LIKE '020202-902H%'),
          '020202-902H - -, 020202-902H KOTIMAINEN_YHTEYSOSOITE -',
          'a leaky function in the caller''s WHERE sees a protected person''s row and contact address, no home municipality');
SELECT is((SELECT count(*)::int FROM spied WHERE v LIKE '%Salainenkatu%'), 0, '... nor any censored address stored for them');
SELECT ok((SELECT count(*) FROM spied WHERE v LIKE '010101-901S %') >= 3, '... the others'' rows it sees (the test is not vacuous)');
SELECT is((SELECT count(*)::int FROM spied WHERE v LIKE '040404-9040%' OR v LIKE '%Piilokatu%'), 0,
          '... and nothing of a person who is stored but not registered');
DELETE FROM vtj.person_entry WHERE hetu = '040404-9040';
DELETE FROM vtj.person_state WHERE hetu = '040404-9040';
-- a group a rule adds is hidden in the feed too
INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id) VALUES ('020202-902H', 'SAHKOPOSTIOSOITE', 'LISATTY', 0);
INSERT INTO vtj.turvakielto_rule (rule, tietoryhma) VALUES ('LAAJEMPI', 'SAHKOPOSTIOSOITE');
SELECT is((SELECT string_agg(tietoryhma, ',') FROM vtj.changes WHERE hetu = '020202-902H'), 'PERUSTIEDOT',
          'a group of any rule in vtj.turvakielto_rule is hidden');
-- and the same storage for a person without a prohibition is shown
UPDATE vtj.person_state SET turvakielto = false WHERE hetu = '020202-902H';
SELECT is((SELECT count(*)::int FROM vtj.addresses WHERE hetu = '020202-902H'), 7, 'only the stored flag decides');
UPDATE vtj.person_state SET turvakielto = true WHERE hetu = '020202-902H';

-- ---------------------------------------------------------------------------
-- who is a person of the register
-- ---------------------------------------------------------------------------
SELECT is((SELECT string_agg(hetu, ',' ORDER BY hetu) FROM vtj.persons), '010101-901S,020202-902H',
          'vtj.persons: registered persons whose base data is loaded');
DELETE FROM vtj.registration WHERE hetu = '020202-902H';
SELECT is((SELECT count(*)::int FROM vtj.persons WHERE hetu = '020202-902H')
          + (SELECT count(*)::int FROM vtj.addresses WHERE hetu = '020202-902H')
          + (SELECT count(*)::int FROM vtj.guardianships WHERE hetu = '020202-902H'), 0,
          'data of a person without a registration is not shown (the views go through vtj.registration)');

-- ---------------------------------------------------------------------------
-- a reader
-- ---------------------------------------------------------------------------
CREATE ROLE vtj_test_reader NOLOGIN IN ROLE vtj_reader;
SET LOCAL ROLE vtj_test_reader;
SELECT is((SELECT count(*)::int FROM vtj.persons), 1, 'a reader reads vtj.persons');
SELECT ok((SELECT count(*) FROM vtj.addresses) > 0 AND (SELECT count(*) FROM vtj.changes) > 0
          AND (SELECT count(*) FROM vtj.name_history) = 1 AND (SELECT count(*) FROM vtj.sync_runs) > 0
          AND (SELECT count(*) FROM vtj.status) = 1, 'and vtj.addresses, vtj.changes, vtj.name_history, vtj.sync_runs, vtj.status');
SELECT throws_ok('SELECT * FROM vtj.hetu_history', '42501', NULL, 'but not vtj.hetu_history');
SELECT throws_ok('SELECT * FROM vtj.guardianships', '42501', NULL, 'nor vtj.guardianships');
SELECT throws_ok('SELECT * FROM vtj.person_entry', '42501', NULL, 'nor a storage table');
SELECT throws_ok($$ SELECT vtj._merge_page(1, 'base', 1, 1, 1, '{}', '{}') $$, '42501', NULL, 'nor call the merge');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- vtj.status and vtj.sync_runs
-- ---------------------------------------------------------------------------
SELECT is((SELECT (registered, not_loaded, not_found, stale, deceased)::text FROM vtj.status), '(3,1,0,0,0)', 'status counts');
UPDATE vtj.run SET status = 'ok', finished_at = now() - interval '40 hours';
SELECT ok((SELECT warning LIKE 'the last successful run was 40 hours ago%' FROM vtj.status), 'warns after 36 hours without a success');
UPDATE vtj.run SET finished_at = now() - interval '1 hour';
SELECT is((SELECT last_success_age FROM vtj.status), interval '1 hour', 'last_success_age');
SELECT is((SELECT warning FROM vtj.status), NULL, 'no warning when all is well');
UPDATE vtj.chain SET key_obtained_at = now() - interval '11 days', key_advanced_at = now() - interval '11 days';
SELECT is((SELECT warning FROM vtj.status), 'the kirjausavain has not advanced for 11 days; 3 days left of DVV''s 14-day limit',
          'warns when the key has not advanced for 10 days');
UPDATE vtj.chain SET key_obtained_at = now() - interval '15 days', key_advanced_at = NULL;
SELECT ok((SELECT warning LIKE '%past DVV''s 14-day limit: run vtj.rebaseline()' FROM vtj.status), 'names vtj.rebaseline() past 14 days');
UPDATE vtj.chain SET key_obtained_at = now();
INSERT INTO vtj.registration (hetu, purpose) VALUES ('030303-9038', 'muu');
SELECT is((SELECT warning FROM vtj.status),
          'purpose muu lacks the description given in the permit application: set it with vtj.set_purpose()',
          'warns about a purpose in use without its description');
INSERT INTO vtj.run (kind, started_by, status, finished_at, error) VALUES ('changes', 'worker', 'failed', now(), 'HTTP 503 in /muutokset');
SELECT is((SELECT failed_last_24h FROM vtj.status), 1::bigint, 'failed runs of the last 24 hours');
SELECT is((SELECT kind || ' ' || status || ' ' || started_by || ' ' || error FROM vtj.sync_runs ORDER BY id DESC LIMIT 1),
          'changes failed worker HTTP 503 in /muutokset', 'vtj.sync_runs');

SELECT * FROM finish();
ROLLBACK;
