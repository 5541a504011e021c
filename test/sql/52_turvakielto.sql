-- Turvakielto end to end (product.md §6): censored values never reach the
-- database — not even its WAL — whatever order the groups arrive in; the
-- views hide censored groups whatever the storage holds; an ended
-- prohibition is revealed by a re-fetch in the same run.
-- Runs commit: no BEGIN/ROLLBACK (the harness gives a fresh database).
\ir lib/mock.sql
SET client_min_messages = warning;
SELECT plan(21);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 7000}');
SELECT pg_temp.mock('PUT', '/_mock/persons', $json$
{"010594Y9032": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Suojattu", "sukunimi": "Testi", "etunimiUTF8": "Suojattu", "sukunimiUTF8": "Testi"},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "091", "kuntaanMuuttopv": {"arvo": "2001-01-01", "tarkkuus": "PAIVA"}},
  {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "katunimi": {"fi": "Vanhakatu"}, "katunumero": "1", "postinumero": "00100",
   "postitoimipaikka": {"fi": "HELSINKI"}, "kuntakoodi": "091", "alkupv": {"arvo": "2001-01-01", "tarkkuus": "PAIVA"}}],
 "020594X903P": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Avoin", "sukunimi": "Testi", "etunimiUTF8": "Avoin", "sukunimiUTF8": "Testi"},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "091", "kuntaanMuuttopv": {"arvo": "2001-01-01", "tarkkuus": "PAIVA"}}]}
$json$);
CREATE TEMP TABLE pg_temp.reg (hetu text);
INSERT INTO pg_temp.reg VALUES ('010594Y9032'), ('020594X903P');
SELECT vtj.add_persons((SELECT array_agg(hetu) FROM pg_temp.reg), 'laskutus');
SELECT is(vtj.sync(), 0::bigint, 'base load');
SELECT is((SELECT count(*) FROM vtj.addresses WHERE hetu = '010594Y9032'), 1::bigint, 'the address is visible before any prohibition');

-- One page: the protected person moves (new address FIRST), then the
-- prohibition starts in a later record of the same page; the other person
-- moves too. The move's values must never be written, not even to WAL.
SELECT pg_temp.mock('POST', '/_mock/scenario', $json$
{"start_key": 7000, "pages": [{"next_key": 7010, "muutokset": [
  {"henkilotunnus": "010594Y9032", "muutospv": "2026-01-01T22:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "muutosattribuutti": "LISATTY", "katunimi": {"fi": "Salaisuudenpolku", "sv": "Hemlighetsstigen"},
    "katunumero": "77", "postinumero": "99990", "postitoimipaikka": {"fi": "UTSJOKI"}, "kuntakoodi": "890",
    "alkupv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "KOTIKUNTA", "muutosattribuutti": "LISATTY", "kuntakoodi": "890", "kuntaanMuuttopv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}}]},
  {"henkilotunnus": "020594X903P", "muutospv": "2026-01-01T22:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "muutosattribuutti": "LISATTY", "katunimi": {"fi": "Julkisuudenkuja"},
    "katunumero": "5", "postinumero": "00500", "postitoimipaikka": {"fi": "HELSINKI"}, "kuntakoodi": "091",
    "alkupv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}}]},
  {"henkilotunnus": "010594Y9032", "muutospv": "2026-01-02T22:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "LISATTY", "turvakieltoAktiivinen": true, "turvaLoppuPv": {"arvo": "2099-01-01", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "KOTIMAINEN_YHTEYSOSOITE", "muutosattribuutti": "LISATTY", "postiosoite": {"fi": "PL 4242"}, "postinumero": "00101",
    "postitoimipaikka": {"fi": "HELSINKI"}}]}]}]}
$json$);
CREATE TABLE pg_temp.lsn AS SELECT pg_current_wal_insert_lsn() AS before;
SELECT is(vtj.sync(), 3::bigint, 'the page applies three records');
SELECT pg_switch_wal();
CREATE TABLE pg_temp.lsn2 AS SELECT pg_current_wal_insert_lsn() AS after;

-- The WAL written by the page, read back byte for byte from pg_wal.
CREATE FUNCTION pg_temp.wal_contains(p_text text) RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
    v_seg text;
    v_found boolean := false;
BEGIN
    FOR v_seg IN
        SELECT DISTINCT pg_walfile_name(l)
          FROM (SELECT before AS l FROM pg_temp.lsn UNION ALL SELECT after FROM pg_temp.lsn2) s
    LOOP
        IF position(convert_to(p_text, 'UTF8') IN pg_read_binary_file('pg_wal/' || v_seg, 0, 16 * 1024 * 1024, true)) > 0 THEN
            v_found := true;
        END IF;
    END LOOP;
    RETURN v_found;
END $f$;
SELECT ok(pg_temp.wal_contains('Julkisuudenkuja'), 'control: the unprotected person''s new street is in the WAL');
SELECT ok(NOT pg_temp.wal_contains('Salaisuudenpolku'), 'the protected person''s new street never reached the WAL');
SELECT ok(NOT pg_temp.wal_contains('Hemlighetsstigen'), 'nor its Swedish name');
SELECT ok(pg_temp.wal_contains('PL 4242'), 'the contact address is stored');

SELECT is((SELECT turvakielto FROM vtj.persons WHERE hetu = '010594Y9032'), true, 'the prohibition is active');
SELECT is((SELECT string_agg(tietoryhma, ',') FROM vtj.addresses WHERE hetu = '010594Y9032'), 'KOTIMAINEN_YHTEYSOSOITE',
          'only the contact address is visible');
SELECT is((SELECT count(*) FROM vtj.person_entry e WHERE e.hetu = '010594Y9032'
            AND e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'KOTIKUNTA')), 0::bigint,
          'the earlier address and home municipality were erased from storage');
SELECT is((SELECT count(*) FROM vtj.change_feed f WHERE f.hetu = '010594Y9032'
            AND f.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'KOTIKUNTA')), 0::bigint,
          'and from the change feed');
SELECT is((SELECT count(*) FROM vtj.journal j WHERE j.hetu = '010594Y9032'
            AND j.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'KOTIKUNTA')
            AND (j.entry).katunimi_fi IS NOT NULL), 0::bigint,
          'and the journal keeps no value of them');

-- The views hide censored groups whatever the storage holds: corrupt it.
INSERT INTO vtj.person_entry (hetu, tietoryhma, katunimi_fi, katunumero, kuntakoodi)
VALUES ('010594Y9032', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'Vuotokatu', '1', '091'),
       ('010594Y9032', 'KOTIKUNTA', NULL, NULL, '091');
SELECT is((SELECT count(*) FROM vtj.addresses WHERE hetu = '010594Y9032' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), 0::bigint,
          'a censored group in storage stays hidden in vtj.addresses');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '010594Y9032'), NULL, 'and kotikunta in vtj.persons');
DELETE FROM vtj.person_entry WHERE hetu = '010594Y9032' AND katunimi_fi = 'Vuotokatu' OR (hetu = '010594Y9032' AND tietoryhma = 'KOTIKUNTA');

-- The prohibition ends: DVV says so, and the person is re-fetched in the same
-- run; what DVV returns uncensored appears.
SELECT pg_temp.mock('PUT', '/_mock/persons', $json$
{"010594Y9032": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Suojattu", "sukunimi": "Testi", "etunimiUTF8": "Suojattu", "sukunimiUTF8": "Testi"},
  {"tietoryhma": "TURVAKIELTO", "turvakieltoAktiivinen": false},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "890", "kuntaanMuuttopv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}},
  {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "katunimi": {"fi": "Paljastuskuja"}, "katunumero": "3", "postinumero": "99980",
   "postitoimipaikka": {"fi": "UTSJOKI"}, "kuntakoodi": "890", "alkupv": {"arvo": "2026-01-02", "tarkkuus": "PAIVA"}}]}
$json$);
SELECT pg_temp.mock('POST', '/_mock/scenario', $json$
{"start_key": 7010, "pages": [{"next_key": 7020, "muutokset": [
  {"henkilotunnus": "010594Y9032", "muutospv": "2026-02-01T22:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "MUUTETTU", "turvakieltoAktiivinen": false}]}]}]}
$json$);
SELECT is(vtj.sync(), 1::bigint, 'the end of the prohibition is applied');
SELECT is((SELECT turvakielto FROM vtj.persons WHERE hetu = '010594Y9032'), false, 'no longer protected');
SELECT is((SELECT katuosoite FROM vtj.addresses WHERE hetu = '010594Y9032' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'),
          'Paljastuskuja 3', 'the re-fetch in the same run revealed the address');

-- A re-fetch that fails is retried by the next run, not forgotten.
SELECT pg_temp.mock('PUT', '/_mock/persons', $json$
{"020594X903P": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Avoin", "sukunimi": "Testi", "etunimiUTF8": "Avoin", "sukunimiUTF8": "Testi"},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "092", "kuntaanMuuttopv": {"arvo": "2026-03-01", "tarkkuus": "PAIVA"}}]}
$json$);
SELECT pg_temp.mock('POST', '/_mock/scenario', $json$
{"start_key": 7020, "pages": [
 {"next_key": 7030, "muutokset": [
  {"henkilotunnus": "020594X903P", "muutospv": "2026-02-01T22:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "LISATTY", "turvakieltoAktiivinen": true}]}]},
 {"next_key": 7040, "muutokset": [
  {"henkilotunnus": "020594X903P", "muutospv": "2026-03-01T22:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "MUUTETTU", "turvakieltoAktiivinen": false}]}]}]}
$json$);
SELECT pg_temp.mock('POST', '/_mock/faults', '{"rules": [{"path": "/api/v1/perustiedot", "kind": "status", "status": 503, "times": 5}]}');
CREATE FUNCTION pg_temp.try_sync() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM vtj.sync();
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $f$;
SELECT is(pg_temp.try_sync(), 'VT001', 'the re-fetch after the prohibition ended fails: the run fails');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '020594X903P'), NULL, 'nothing revealed yet');
SELECT pg_temp.mock('DELETE', '/_mock/faults');
SELECT is(pg_temp.try_sync(), 'no error', 'the next run completes');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '020594X903P'), '092', 'and re-fetches the person: revealed');

SELECT * FROM finish();
