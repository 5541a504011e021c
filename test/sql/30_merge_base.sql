-- Base loads and refreshes (kinds base/refresh of vtj._merge_page): the
-- vtj-api.md §12 /perustiedot example, replacement of the complete state,
-- idempotence, not-found retries, malformed, unregistered, superseded and
-- duplicate records, unknown groups.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(44);

SELECT pg_temp.reg(ARRAY['150585-904T', '030712A904U', '091288-910J', '111111-9072', '010101-901S']);
SELECT vtj._chain_obtained(1, 5446623400);

CREATE TEMP TABLE r1 AS
SELECT * FROM pg_temp.base($j$[
{"henkilotunnus":"150585-904T","tietoryhmat":[
{"tietoryhma":"HENKILOTUNNUS_KORJAUS","aktiivinenHenkilotunnus":"150585-904T","edellisetHenkilotunnukset":[],
"muutettuHenkilotunnus":"150585-904T","voimassaolo":"AKTIIVI"},
{"tietoryhma":"HENKILON_NIMI","etunimi":"Liisa","sukunimi":"Makela Tes","etunimiUTF8":"Liisa","sukunimiUTF8":"Mäkelä Tes"},
{"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1985-05-15","tarkkuus":"PAIVA"}},
{"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2015-08-01","tarkkuus":"PAIVA"}},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Mikkolantie","sv":"Mickelsvägen"},"katunumero":"30",
"huoneistokirjain":"F","huoneistonumero":"028","postinumero":"00640","postitoimipaikka":{"fi":"HELSINKI","sv":"HELSINGFORS"},
"rakennustunnus":"900000041C","osoitenumero":1,"kuntakoodi":"091","alkupv":{"arvo":"2015-08-01","tarkkuus":"PAIVA"}},
{"tietoryhma":"KOTIMAINEN_POSTIOSOITE","postiosoite":{"fi":"PL 12"},"postinumero":"00101",
"postitoimipaikka":{"fi":"HELSINKI"},"alkupv":{"arvo":"2020-01-01","tarkkuus":"PAIVA"}}]},
{"henkilotunnus":"030712A904U","tietoryhmat":[
{"tietoryhma":"TURVAKIELTO","turvakieltoAktiivinen":true,"turvaLoppuPv":{"arvo":"2029-05-03","tarkkuus":"PAIVA"}},
{"tietoryhma":"HENKILON_NIMI","etunimi":"Aino","sukunimi":"Nieminen Tes","etunimiUTF8":"Aino","sukunimiUTF8":"Nieminen Tes"},
{"tietoryhma":"KOTIKUNTA","turvakiellonAlaisetKentat":["kuntakoodi","kuntaanMuuttopv"]},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","turvakiellonAlaisetKentat":["katunimi","katunumero","huoneistokirjain",
"huoneistonumero","jakokirjain","postinumero","postitoimipaikka","rakennustunnus","osoitenumero","kuntakoodi"]},
{"tietoryhma":"KOTIMAINEN_POSTIOSOITE","turvakiellonAlaisetKentat":["postiosoite","postinumero","postitoimipaikka"]}]},
{"henkilotunnus":"091288-910J","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","etunimi":"Jaan","sukunimi":"Tamm Tes","etunimiUTF8":"Jaan","sukunimiUTF8":"Tamm Tes"},
{"tietoryhma":"KOTIKUNTA","kuntakoodi":"200","kuntaanMuuttopv":{"arvo":"2020-01-24","tarkkuus":"PAIVA"}},
{"tietoryhma":"VAKINAINEN_ULKOMAINEN_OSOITE","lahiosoite":"Sadama 5/7","paikkakunta":"10111 TALLINN","valtiokoodi":"233",
"alkupv":{"arvo":"2020-01-24","tarkkuus":"PAIVA"}},
{"tietoryhma":"SUKUPUOLI","sukupuoli":"MIES"},
{"tietoryhma":"KANSALAISUUS","henkilonKansalaisuudet":[{"kansalaisuuskoodi":"233"}]}]}]$j$,
    'base', ARRAY['111111-9072']);

-- 1. the §12 batch
SELECT is((SELECT (records, persons, unregistered, superseded, malformed, feed_rows, unknown_groups, censored, not_found)::text FROM r1),
          '(3,3,0,0,0,3,2,3,1)', 'counts: 3 merged, 2 unknown groups, 3 censored stubs, 1 not found');
SELECT results_eq($$ SELECT hetu COLLATE "default", etunimet, sukunimi, aidinkieli COLLATE "default",
                              kotikunta COLLATE "default", kotikunta_nimi, kuntaan_muuttopv, turvakielto
                       FROM vtj.persons ORDER BY hetu $$,
    $$ VALUES ('030712A904U'::text, 'Aino'::text, 'Nieminen Tes'::text, NULL::text, NULL::text, NULL::text, NULL::date, true),
              ('091288-910J', 'Jaan', 'Tamm Tes', NULL, '200', 'Ulkomaa', '2020-01-24', false),
              ('150585-904T', 'Liisa', 'Mäkelä Tes', 'fi', '091', 'Helsinki', '2015-08-01', false) $$,
    'vtj.persons after the base load (names from the UTF8 fields)');
SELECT is(pg_temp.addr('150585-904T'),
          'KOTIMAINEN_POSTIOSOITE: PL 12; VAKINAINEN_KOTIMAINEN_OSOITE: Mikkolantie 30 F 28',
          'addresses of 150585-904T');
SELECT is(pg_temp.addr('091288-910J'), 'VAKINAINEN_ULKOMAINEN_OSOITE: Sadama 5/7', 'foreign address by lahiosoite');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '030712A904U'), 1,
          'protected person: only the name is stored (stubs store nothing)');
SELECT is((SELECT string_agg(hetu || ':' || tietoryhma, ' ' ORDER BY id) FROM vtj.change_feed),
          '150585-904T:PERUSTIEDOT 030712A904U:PERUSTIEDOT 091288-910J:PERUSTIEDOT',
          'first load: one PERUSTIEDOT row per person, in page order');
SELECT results_eq($$ SELECT hetu COLLATE "default", position, groups::text COLLATE "default" FROM vtj.journal WHERE kind = 'base' ORDER BY position $$,
    $$ VALUES ('150585-904T', 0, '{AIDINKIELI,HENKILON_NIMI,HENKILOTUNNUS_KORJAUS,KOTIKUNTA,KOTIMAINEN_POSTIOSOITE,VAKINAINEN_KOTIMAINEN_OSOITE}'),
              ('030712A904U', 1, '{HENKILON_NIMI,TURVAKIELTO}'),
              ('091288-910J', 2, '{HENKILON_NIMI,KANSALAISUUS,KOTIKUNTA,SUKUPUOLI,VAKINAINEN_ULKOMAINEN_OSOITE}') $$,
    'journal: one base row per person with the names of the groups delivered (censored ones not for a protected person)');
SELECT is((SELECT count(*)::int FROM vtj.journal), 3, 'a base load journals nothing else');
SELECT is((SELECT string_agg(DISTINCT base_key::text, ',') FROM vtj.person_state WHERE base_loaded_at IS NOT NULL),
          '5446623400', 'the key fetched before the load is the persons'' base key');
SELECT is((SELECT (records, persons, pages)::text FROM vtj.run ORDER BY id DESC LIMIT 1), '(3,3,1)',
          'the run row counts the page');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE tietoryhma NOT IN ('HENKILON_NIMI', 'AIDINKIELI',
              'KOTIKUNTA', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE')), 0,
          'unknown groups and HENKILOTUNNUS_KORJAUS are not stored as entries');

-- 2. not found: asked again after 1 hour, 1 day, then weekly
SELECT ok((SELECT not_found_count = 1 AND next_retry_at = now() + interval '1 hour' AND base_loaded_at IS NULL
             FROM vtj.person_state WHERE hetu = '111111-9072'), 'not found once: retry in 1 hour');
SELECT is((pg_temp.base('[]', 'base', ARRAY['111111-9072'])).not_found, 0,
          'the same batch again within the retry window counts nothing');
UPDATE vtj.person_state SET next_retry_at = now() - interval '1 second' WHERE hetu = '111111-9072';
SELECT is((pg_temp.base('[]', 'base', ARRAY['111111-9072'])).not_found, 1, 'asked again when due');
SELECT ok((SELECT not_found_count = 2 AND next_retry_at = now() + interval '1 day'
             FROM vtj.person_state WHERE hetu = '111111-9072'), 'not found twice: retry in 1 day');
UPDATE vtj.person_state SET next_retry_at = now() - interval '1 second' WHERE hetu = '111111-9072';
SELECT pg_temp.base('[]', 'base', ARRAY['111111-9072']);
SELECT ok((SELECT not_found_count = 3 AND next_retry_at = now() + interval '7 days'
             FROM vtj.person_state WHERE hetu = '111111-9072'), 'then weekly');
SELECT is((SELECT not_found FROM vtj.status), 1::bigint, 'vtj.status counts it');
SELECT is((pg_temp.base('[]', 'base', ARRAY['020202-902H'])).not_found, 0, 'an unregistered hetu is not recorded');

-- 3. the same batch again: nothing changes, no feed row
CREATE TEMP TABLE snap AS SELECT pg_temp.snapshot() AS s;
SELECT pg_temp.base($j$[
{"henkilotunnus":"091288-910J","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","etunimi":"Jaan","sukunimi":"Tamm Tes","etunimiUTF8":"Jaan","sukunimiUTF8":"Tamm Tes"},
{"tietoryhma":"KOTIKUNTA","kuntakoodi":"200","kuntaanMuuttopv":{"arvo":"2020-01-24","tarkkuus":"PAIVA"}},
{"tietoryhma":"VAKINAINEN_ULKOMAINEN_OSOITE","lahiosoite":"Sadama 5/7","paikkakunta":"10111 TALLINN","valtiokoodi":"233",
"alkupv":{"arvo":"2020-01-24","tarkkuus":"PAIVA"}}]}]$j$, 'refresh');
SELECT is(pg_temp.snapshot(), (SELECT s FROM snap), 'a repeated base batch leaves the same state and writes no feed row');

-- 4. a refresh with a change replaces the complete state: one PERUSTIEDOT row
SELECT is((pg_temp.base($j$[
{"henkilotunnus":"150585-904T","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","etunimi":"Liisa","sukunimi":"Makela Tes","etunimiUTF8":"Liisa","sukunimiUTF8":"Mäkelä Tes"},
{"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1985-05-15","tarkkuus":"PAIVA"}},
{"tietoryhma":"KOTIKUNTA","kuntakoodi":"049","kuntaanMuuttopv":{"arvo":"2021-03-01","tarkkuus":"KUUKAUSI"}},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"sv":"Biskopsbron"},"katunumero":"11","huoneistokirjain":"A",
"huoneistonumero":"004","jakokirjain":"b","postinumero":"02230","kuntakoodi":"049","alkupv":{"arvo":"2021-03-01","tarkkuus":"PAIVA"}}]}
]$j$, 'refresh')).feed_rows, 1, 'a changed refresh writes one feed row');
SELECT is(pg_temp.feed('150585-904T'), 'PERUSTIEDOT/- PERUSTIEDOT/-', 'the second row is PERUSTIEDOT');
SELECT is(pg_temp.addr('150585-904T'), 'VAKINAINEN_KOTIMAINEN_OSOITE: Biskopsbron 11 A 4b',
          'groups not delivered are gone (the base data is the complete state); Swedish street name when the Finnish one is absent');
SELECT is((SELECT kuntaan_muuttopv || ' ' || kotikunta_nimi FROM vtj.persons WHERE hetu = '150585-904T'), '2021-03-01 Espoo',
          'kotikunta replaced');
SELECT is((SELECT alkupv_tarkkuus::text FROM vtj.person_entry WHERE hetu = '150585-904T' AND tietoryhma = 'KOTIKUNTA'),
          'KUUKAUSI', 'a date keeps its precision');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '150585-904T'), 4, 'four entries stored');

-- 5. a base batch older than the person's base data is superseded
SELECT is((pg_temp.merge('refresh', NULL, 5446623300, $j$[
{"henkilotunnus":"150585-904T","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Vanha","sukunimi":"Tieto"}]}]$j$)).superseded,
          1, 'a batch fetched at an older key is superseded');
SELECT is((SELECT etunimet FROM vtj.persons WHERE hetu = '150585-904T'), 'Liisa', 'and changes nothing');

-- 6. unregistered, malformed, duplicate records
CREATE TEMP TABLE r2 AS SELECT * FROM pg_temp.base($j$[
{"henkilotunnus":"020202-902H","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Ei","sukunimi":"Rekisterissa"}]},
{"henkilotunnus":"010101-901S","error":"invalid UTF-8 in a string"},
{"henkilotunnus":"091288-910J","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Eka","sukunimi":"Versio"}]},
{"henkilotunnus":"091288-910J","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","etunimi":"Jaan","sukunimi":"Tamm Tes","etunimiUTF8":"Jaan","sukunimiUTF8":"Tamm Tes"},
{"tietoryhma":"KUOLINPAIVA","kuollut":true,"kuolinpv":{"arvo":"2023-06-01","tarkkuus":"KUUKAUSI"}}]}]$j$);
SELECT is((SELECT (records, unregistered, malformed, superseded)::text FROM r2), '(1,1,1,1)',
          'one applied, one unregistered, one malformed, one earlier duplicate superseded');
SELECT is((SELECT count(*)::int FROM vtj.person_state WHERE hetu = '020202-902H')
          + (SELECT count(*)::int FROM vtj.journal WHERE hetu = '020202-902H')
          + (SELECT count(*)::int FROM vtj.change_feed WHERE hetu = '020202-902H'), 0,
          'nothing of an unregistered hetu is stored or journalled');
SELECT results_eq($$ SELECT hetu COLLATE "default", position, error FROM vtj.journal WHERE kind = 'malformed' $$,
                  $$ VALUES ('010101-901S'::text, 1, 'invalid UTF-8 in a string'::text) $$,
                  'the malformed record is journalled by position and reason');
SELECT ok((SELECT stale AND stale_reason = 'malformed' AND base_loaded_at IS NULL FROM vtj.person_state WHERE hetu = '010101-901S'),
          'the malformed record''s person is marked stale');
SELECT is((SELECT stale FROM vtj.status), 1::bigint, 'vtj.status counts the stale person');
SELECT is((SELECT etunimet || ' ' || kuollut || ' ' || kuolinpv || ' ' || kuolinpv_tarkkuus FROM vtj.persons WHERE hetu = '091288-910J'),
          'Jaan true 2023-06-01 KUUKAUSI', 'the last record of a person wins; death from base data');
SELECT is(pg_temp.addr('091288-910J'), '', 'the later record is the complete state: no address any more');
SELECT is(pg_temp.feed('091288-910J'), 'PERUSTIEDOT/- PERUSTIEDOT/-', 'one more PERUSTIEDOT row');

-- 7. a refresh of the malformed person clears stale
SELECT pg_temp.base($j$[{"henkilotunnus":"010101-901S","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","etunimi":"Matti","sukunimi":"Testi"}]}]$j$, 'refresh');
SELECT ok((SELECT NOT stale AND stale_reason IS NULL AND base_loaded_at IS NOT NULL FROM vtj.person_state WHERE hetu = '010101-901S'),
          'a successful refresh clears stale');
SELECT is((SELECT etunimet FROM vtj.persons WHERE hetu = '010101-901S'), 'Matti', 'and loads the person');

-- 8. turvakielto starts in a refresh: the addresses go, the TURVAKIELTO row is written
SELECT is((pg_temp.base($j$[{"henkilotunnus":"150585-904T","tietoryhmat":[
{"tietoryhma":"TURVAKIELTO","turvakieltoAktiivinen":true,"turvaLoppuPv":{"arvo":"2030-01-01","tarkkuus":"PAIVA"}},
{"tietoryhma":"HENKILON_NIMI","etunimi":"Liisa","sukunimi":"Makela Tes","etunimiUTF8":"Liisa","sukunimiUTF8":"Mäkelä Tes"},
{"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1985-05-15","tarkkuus":"PAIVA"}},
{"tietoryhma":"KOTIKUNTA","turvakiellonAlaisetKentat":["kuntakoodi","kuntaanMuuttopv"]},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","turvakiellonAlaisetKentat":["katunimi"]}]}]$j$, 'refresh')).feed_rows,
          1, 'one feed row for a refresh that starts a prohibition');
SELECT is(pg_temp.feed('150585-904T'), 'PERUSTIEDOT/- PERUSTIEDOT/- TURVAKIELTO/-', 'it is a TURVAKIELTO row');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '150585-904T' AND tietoryhma = ANY (vtj._censored_groups())),
          0, 'the censored groups are erased from storage');
SELECT is((SELECT groups::text FROM vtj.journal WHERE kind = 'base' AND hetu = '150585-904T' ORDER BY id LIMIT 1),
          '{AIDINKIELI,HENKILON_NIMI,HENKILOTUNNUS_KORJAUS}', 'and their names from the earlier base journal rows');

-- 9. the prohibition ends in a refresh (no TURVAKIELTO group): flag cleared, data stored again
SELECT pg_temp.base($j$[{"henkilotunnus":"150585-904T","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","etunimi":"Liisa","sukunimi":"Makela Tes","etunimiUTF8":"Liisa","sukunimiUTF8":"Mäkelä Tes"},
{"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1985-05-15","tarkkuus":"PAIVA"}},
{"tietoryhma":"KOTIKUNTA","kuntakoodi":"092","kuntaanMuuttopv":{"arvo":"2025-01-01","tarkkuus":"PAIVA"}}]}]$j$, 'refresh');
SELECT is((SELECT turvakielto::text || ' ' || kotikunta FROM vtj.persons WHERE hetu = '150585-904T'), 'false 092',
          'a base record without TURVAKIELTO ends the prohibition and reveals what DVV returned');
SELECT is(pg_temp.feed('150585-904T'), 'PERUSTIEDOT/- PERUSTIEDOT/- TURVAKIELTO/- PERUSTIEDOT/- TURVAKIELTO/-',
          'PERUSTIEDOT (new data) and TURVAKIELTO (flag) rows');
SELECT ok((SELECT updated_at = now() FROM vtj.persons WHERE hetu = '150585-904T'), 'updated_at moved');

SELECT * FROM finish();
ROLLBACK;
