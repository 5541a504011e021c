-- Scenario suite, end to end: base data from the mock, then scripted change
-- pages (the examples of vtj-api.md §12 and follow-ups) through vtj.sync(),
-- checking the register's visible state after each step: moves, name change,
-- death and its correction, turvakielto, hetu correction followed by changes
-- under the new hetu, POISTETTU restoring the earlier address, an unknown group.
-- Runs commit: no BEGIN/ROLLBACK (the harness gives a fresh database).
\ir lib/mock.sql
SET client_min_messages = warning;
SELECT plan(34);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 5446623400}');

-- Base data of the four persons of vtj-api.md §12.
SELECT pg_temp.mock('PUT', '/_mock/persons', $json$
{"150585-902R": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Anna", "sukunimi": "Virtanen Tes", "etunimiUTF8": "Anna", "sukunimiUTF8": "Virtanen Tes",
   "alkupv": {"arvo": "1985-05-15", "tarkkuus": "PAIVA"}},
  {"tietoryhma": "AIDINKIELI", "kielikoodi": "fi", "kielikoodiISO6392": "fin", "alkupv": {"arvo": "1985-05-15", "tarkkuus": "PAIVA"}},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "091", "kuntaanMuuttopv": {"arvo": "2010-11-01", "tarkkuus": "KUUKAUSI"}},
  {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "katunimi": {"fi": "Mikonkatu", "sv": "Mikaelsgatan"}, "katunumero": "8",
   "postinumero": "00100", "postitoimipaikka": {"fi": "HELSINKI", "sv": "HELSINGFORS"}, "rakennustunnus": "9000000323",
   "osoitenumero": 1, "kuntakoodi": "091", "alkupv": {"arvo": "2010-11-01", "tarkkuus": "KUUKAUSI"}}],
 "071149-9068": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Eino", "sukunimi": "Lahtinen Tes", "etunimiUTF8": "Eino", "sukunimiUTF8": "Lahtinen Tes"},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "837", "kuntaanMuuttopv": {"arvo": "1990-01-01", "tarkkuus": "PAIVA"}}],
 "030712A904U": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Aino", "sukunimi": "Nieminen Tes", "etunimiUTF8": "Aino", "sukunimiUTF8": "Nieminen Tes"},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "853", "kuntaanMuuttopv": {"arvo": "2012-07-03", "tarkkuus": "PAIVA"}},
  {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "katunimi": {"fi": "Aurakatu", "sv": "Auragatan"}, "katunumero": "1",
   "postinumero": "20100", "postitoimipaikka": {"fi": "TURKU", "sv": "ÅBO"}, "kuntakoodi": "853",
   "alkupv": {"arvo": "2012-07-03", "tarkkuus": "PAIVA"}}],
 "220394Y9052": [
  {"tietoryhma": "HENKILON_NIMI", "etunimi": "Erik", "sukunimi": "Lindholm Tes", "etunimiUTF8": "Erik", "sukunimiUTF8": "Lindholm Tes"},
  {"tietoryhma": "AIDINKIELI", "kielikoodi": "fi", "kielikoodiISO6392": "fin", "alkupv": {"arvo": "1994-03-22", "tarkkuus": "PAIVA"}},
  {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "091", "kuntaanMuuttopv": {"arvo": "2015-01-01", "tarkkuus": "PAIVA"}}]}
$json$);

CREATE TEMP TABLE pg_temp.reg (hetu text);
INSERT INTO pg_temp.reg VALUES ('150585-902R'), ('071149-9068'), ('030712A904U'), ('220394Y9052');
SELECT is(vtj.add_persons((SELECT array_agg(hetu) FROM pg_temp.reg), 'asiakasrekisteri'), 4::bigint, 'four persons registered');
SELECT is(vtj.sync(), 0::bigint, 'base load');
SELECT is((SELECT count(*) FROM vtj.persons), 4::bigint, 'four persons loaded');
SELECT is((SELECT katuosoite || ', ' || postinumero || ' ' || postitoimipaikka_fi FROM vtj.addresses WHERE hetu = '150585-902R'),
          'Mikonkatu 8, 00100 HELSINKI', 'the first address before the move');

-- ------------------------------------------------------------------ §12 page 1 and 2
SELECT pg_temp.mock('POST', '/_mock/scenario', $json$
{"start_key": 5446623400, "pages": [
 {"next_key": 5446623412, "muutokset": [
  {"henkilotunnus": "150585-902R", "muutospv": "2024-05-01T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "HENKILON_NIMI", "muutosattribuutti": "MUUTETTU", "etunimi": "Anna Maria", "sukunimi": "Virtanen Tes",
    "etunimiUTF8": "Anna Maria", "sukunimiUTF8": "Virtanen Tes", "alkupv": {"arvo": "2024-05-02", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "NIMENMUUTOS", "muutosattribuutti": "MUUTETTU", "nimilaji": "EDELLINEN_SUKUNIMI", "nimi": "Korhonen Tes",
    "nimiUTF8": "Korhonen Tes", "loppupv": {"arvo": "2024-05-02", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "muutosattribuutti": "LISATTY", "katunimi": {"fi": "Piispansilta", "sv": "Biskopsbron"},
    "katunumero": "11", "huoneistokirjain": "A", "huoneistonumero": "004", "postinumero": "02230",
    "postitoimipaikka": {"fi": "ESPOO", "sv": "ESBO"}, "rakennustunnus": "900000001B", "osoitenumero": 1, "kuntakoodi": "049",
    "alkupv": {"arvo": "2024-05-02", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "muutosattribuutti": "MUUTETTU", "katunimi": {"fi": "Mikonkatu", "sv": "Mikaelsgatan"},
    "katunumero": "8", "postinumero": "00100", "postitoimipaikka": {"fi": "HELSINKI", "sv": "HELSINGFORS"},
    "rakennustunnus": "9000000323", "osoitenumero": 1, "kuntakoodi": "091",
    "alkupv": {"arvo": "2010-11-01", "tarkkuus": "KUUKAUSI"}, "loppupv": {"arvo": "2024-05-01", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "KOTIKUNTA", "muutosattribuutti": "LISATTY", "kuntakoodi": "049", "kuntaanMuuttopv": {"arvo": "2024-05-02", "tarkkuus": "PAIVA"}}]},
  {"henkilotunnus": "071149-9068", "muutospv": "2024-05-01T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "KUOLINPAIVA", "muutosattribuutti": "LISATTY", "kuollut": true, "kuolinpv": {"arvo": "2024-04-29", "tarkkuus": "PAIVA"}}]}]},
 {"next_key": 5446623431, "muutokset": [
  {"henkilotunnus": "030712A904U", "muutospv": "2024-05-02T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "LISATTY", "turvakieltoAktiivinen": true, "turvaLoppuPv": {"arvo": "2029-05-03", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "muutosattribuutti": "MUUTETTU", "turvakiellonAlaisetKentat":
    ["katunimi", "katunumero", "huoneistokirjain", "huoneistonumero", "jakokirjain", "postinumero", "postitoimipaikka", "rakennustunnus", "osoitenumero", "kuntakoodi"]},
   {"tietoryhma": "KOTIKUNTA", "muutosattribuutti": "MUUTETTU", "turvakiellonAlaisetKentat": ["kuntakoodi", "kuntaanMuuttopv"]}]},
  {"henkilotunnus": "220394Y9052", "muutospv": "2024-05-02T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "HENKILOTUNNUS_KORJAUS", "muutosattribuutti": "LISATTY", "voimassaolo": "AKTIIVI",
    "muutettuHenkilotunnus": "220394-9096", "aktiivinenHenkilotunnus": "220394-9096", "edellisetHenkilotunnukset": ["220394Y9052"]},
   {"tietoryhma": "HENKILOTUNNUS_KORJAUS", "muutosattribuutti": "MUUTETTU", "voimassaolo": "PASSIIVI",
    "muutettuHenkilotunnus": "220394Y9052", "aktiivinenHenkilotunnus": "220394-9096", "edellisetHenkilotunnukset": ["220394Y9052"]},
   {"tietoryhma": "AIDINKIELI", "muutosattribuutti": "POISTETTU", "kielikoodi": "fi", "kielikoodiISO6392": "fin",
    "alkupv": {"arvo": "1994-03-22", "tarkkuus": "PAIVA"}, "voimassaolevatTiedot": [
     {"tietoryhma": "AIDINKIELI", "kielikoodi": "sv", "kielikoodiISO6392": "swe", "alkupv": {"arvo": "1994-03-22", "tarkkuus": "PAIVA"}}]},
   {"tietoryhma": "ASIOINTIKIELI", "muutosattribuutti": "LISATTY", "kielikoodi": "sv", "kielikoodiISO6392": "swe",
    "alkupv": {"arvo": "2024-05-03", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "HENKILON_NIMI", "muutosattribuutti": "LISATIETO", "etunimi": "Erik", "sukunimi": "Lindholm Tes",
    "etunimiUTF8": "Erik", "sukunimiUTF8": "Lindholm Tes"}]}]}]}
$json$);
SELECT is(vtj.sync(), 4::bigint, 'the two pages of vtj-api.md §12 apply four records');
SELECT is((SELECT kirjausavain FROM vtj.status), 5446623431::bigint, 'the key is at the end of page 2');

-- the move and the name change
SELECT is((SELECT etunimet || ' ' || sukunimi FROM vtj.persons WHERE hetu = '150585-902R'), 'Anna Maria Virtanen Tes', 'name changed');
SELECT is((SELECT string_agg(concat_ws(' | ', katuosoite, postinumero, postitoimipaikka_fi, kuntakoodi), '; ') FROM vtj.addresses
            WHERE hetu = '150585-902R' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'),
          'Piispansilta 11 A 4 | 02230 | ESPOO | 049',
          'moved: only the new address is current (leading zeros of the apartment dropped)');
SELECT is((SELECT katuosoite_sv FROM vtj.addresses WHERE hetu = '150585-902R'), 'Biskopsbron 11 A 4', 'the Swedish address line');
SELECT is((SELECT kotikunta || ' ' || kotikunta_nimi FROM vtj.persons WHERE hetu = '150585-902R'), '049 Espoo', 'new home municipality');
SELECT is((SELECT kuntaan_muuttopv FROM vtj.persons WHERE hetu = '150585-902R'), '2024-05-02'::date, 'moving date');
-- death
SELECT is((SELECT kuollut FROM vtj.persons WHERE hetu = '071149-9068'), true, 'death recorded');
SELECT is((SELECT kuolinpv FROM vtj.persons WHERE hetu = '071149-9068'), '2024-04-29'::date, 'date of death');
-- turvakielto
SELECT is((SELECT turvakielto FROM vtj.persons WHERE hetu = '030712A904U'), true, 'prohibition active');
SELECT is((SELECT count(*) FROM vtj.addresses WHERE hetu = '030712A904U'), 0::bigint, 'no address of a protected person is visible');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '030712A904U'), NULL, 'no home municipality either');
SELECT is((SELECT count(*) FROM vtj.person_entry e WHERE e.hetu = '030712A904U'
            AND e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'KOTIKUNTA') AND (e.katunimi_fi IS NOT NULL OR e.kuntakoodi IS NOT NULL)),
          0::bigint, 'the storage holds no value of the censored groups');
-- hetu correction
SELECT is((SELECT count(*) FROM vtj.persons WHERE hetu = '220394Y9052'), 0::bigint, 'the old hetu is gone from persons');
SELECT is((SELECT etunimet FROM vtj.persons WHERE hetu = '220394-9096'), 'Erik', 'the person lives on under the new hetu');
SELECT is((SELECT purpose FROM vtj.register WHERE hetu = '220394-9096'), 'asiakasrekisteri', 'the registration moved');
SELECT is((SELECT uusi_hetu FROM vtj.hetu_history WHERE vanha_hetu = '220394Y9052'), '220394-9096', 'hetu history records it');
SELECT is((SELECT aidinkieli || '/' || asiointikieli FROM vtj.persons WHERE hetu = '220394-9096'), 'sv/sv',
          'POISTETTU: voimassaolevatTiedot became the mother tongue; the business language was added');
SELECT is((SELECT count(DISTINCT hetu) FROM vtj.changes WHERE tietoryhma = 'HENKILOTUNNUS_KORJAUS'), 2::bigint,
          'the correction is in the feed under both hetus');

-- ------------------------------------------------------------------ page 3: follow-ups
SELECT pg_temp.mock('POST', '/_mock/scenario', $json$
{"start_key": 5446623431, "pages": [
 {"next_key": 5446623440, "muutokset": [
  {"henkilotunnus": "220394-9096", "muutospv": "2024-05-03T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "HENKILON_NIMI", "muutosattribuutti": "MUUTETTU", "etunimi": "Erika", "sukunimi": "Lindholm Tes",
    "etunimiUTF8": "Erika", "sukunimiUTF8": "Lindholm Tes", "alkupv": {"arvo": "2024-05-04", "tarkkuus": "PAIVA"}}]},
  {"henkilotunnus": "071149-9068", "muutospv": "2024-05-03T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "KUOLINPAIVA", "muutosattribuutti": "KORJATTAVA", "kuollut": true, "kuolinpv": {"arvo": "2024-04-29", "tarkkuus": "PAIVA"}},
   {"tietoryhma": "KUOLINPAIVA", "muutosattribuutti": "KORJATTU", "kuollut": false}]},
  {"henkilotunnus": "150585-902R", "muutospv": "2024-05-03T21:00:00.000Z", "tietoryhmat": [
   {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "muutosattribuutti": "POISTETTU", "katunimi": {"fi": "Piispansilta", "sv": "Biskopsbron"},
    "katunumero": "11", "huoneistokirjain": "A", "huoneistonumero": "004", "postinumero": "02230",
    "postitoimipaikka": {"fi": "ESPOO", "sv": "ESBO"}, "rakennustunnus": "900000001B", "osoitenumero": 1, "kuntakoodi": "049",
    "alkupv": {"arvo": "2024-05-02", "tarkkuus": "PAIVA"},
    "voimassaolevatTiedot": [
     {"tietoryhma": "VAKINAINEN_KOTIMAINEN_OSOITE", "katunimi": {"fi": "Mikonkatu", "sv": "Mikaelsgatan"}, "katunumero": "8",
      "postinumero": "00100", "postitoimipaikka": {"fi": "HELSINKI", "sv": "HELSINGFORS"}, "rakennustunnus": "9000000323",
      "osoitenumero": 1, "kuntakoodi": "091", "alkupv": {"arvo": "2010-11-01", "tarkkuus": "KUUKAUSI"}}]},
   {"tietoryhma": "JOKU_MUU", "muutosattribuutti": "LISATTY", "arvo": "ei tallenneta"}]}]}]}
$json$);
SELECT is(vtj.sync(), 3::bigint, 'page 3 applies three records');
SELECT is((SELECT etunimet FROM vtj.persons WHERE hetu = '220394-9096'), 'Erika', 'a change under the new hetu applies');
SELECT is((SELECT kuollut FROM vtj.persons WHERE hetu = '071149-9068'), false, 'the corrected death is cleared');
SELECT is((SELECT kuolinpv FROM vtj.persons WHERE hetu = '071149-9068'), NULL, 'with its date');
SELECT is((SELECT katuosoite FROM vtj.addresses WHERE hetu = '150585-902R' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'),
          'Mikonkatu 8', 'POISTETTU restored the earlier address');
SELECT is((SELECT count(*) FROM vtj.addresses WHERE hetu = '150585-902R'), 1::bigint, 'and only it');
SELECT is((SELECT unknown_groups FROM vtj.run ORDER BY id DESC LIMIT 1), 1::bigint, 'the unknown group is counted');
SELECT is((SELECT count(*) FROM vtj.journal j WHERE j.entry::text LIKE '%ei tallenneta%'), 0::bigint,
          'its fields are never stored');

-- Replaying page 3 changes nothing visible.
CREATE TEMP TABLE pg_temp.feed_before AS SELECT count(*) AS n FROM vtj.changes;
SELECT vtj._chain_obtained(1, 5446623431);
SELECT ok(vtj.sync() >= 0, 'page 3 replayed');
SELECT is((SELECT count(*) FROM vtj.changes), (SELECT n FROM pg_temp.feed_before), 'no feed row added by the replay');
SELECT is((SELECT katuosoite FROM vtj.addresses WHERE hetu = '150585-902R'), 'Mikonkatu 8', 'the same state after the replay');

SELECT * FROM finish();
