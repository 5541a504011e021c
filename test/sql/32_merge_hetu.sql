-- HENKILOTUNNUS_KORJAUS: the person's data and registrations move to the new
-- hetu (vtj-api.md §12 page 2), changes under the new hetu afterwards, a
-- correction into an already registered hetu (union of purposes, the older
-- row wins), a correction without aktiivinenHenkilotunnus, replay, base data
-- carrying a correction, and the purge of a corrected person.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(35);

SELECT pg_temp.reg(ARRAY['220394Y9052'], 'laskutus', '2024-01-01');
SELECT pg_temp.reg(ARRAY['220394Y9052'], 'vesilaitos', '2024-01-01');
SELECT vtj._chain_obtained(1, 5446623412);
SELECT pg_temp.base($j$[{"henkilotunnus":"220394Y9052","tietoryhmat":[
  {"tietoryhma":"HENKILON_NIMI","etunimi":"Erik","sukunimi":"Lindholm Tes","etunimiUTF8":"Erik","sukunimiUTF8":"Lindholm Tes"},
  {"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1994-03-22","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"1994-03-22","tarkkuus":"PAIVA"}}]}]$j$);

-- vtj-api.md §12 page 2, second record
CREATE TEMP TABLE r AS SELECT * FROM pg_temp.merge('changes', 5446623412, 5446623431, $j$[
{"henkilotunnus":"220394Y9052","muutospv":"2024-05-02T21:00:00.000Z","tietoryhmat":[
{"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"LISATTY","voimassaolo":"AKTIIVI",
"muutettuHenkilotunnus":"220394-9096","aktiivinenHenkilotunnus":"220394-9096","edellisetHenkilotunnukset":["220394Y9052"]},
{"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"MUUTETTU","voimassaolo":"PASSIIVI",
"muutettuHenkilotunnus":"220394Y9052","aktiivinenHenkilotunnus":"220394-9096","edellisetHenkilotunnukset":["220394Y9052"]},
{"tietoryhma":"AIDINKIELI","muutosattribuutti":"POISTETTU","kielikoodi":"fi","kielikoodiISO6392":"fin",
"alkupv":{"arvo":"1994-03-22","tarkkuus":"PAIVA"},"voimassaolevatTiedot":[
{"tietoryhma":"AIDINKIELI","kielikoodi":"sv","kielikoodiISO6392":"swe","alkupv":{"arvo":"1994-03-22","tarkkuus":"PAIVA"}}]},
{"tietoryhma":"ASIOINTIKIELI","muutosattribuutti":"LISATTY","kielikoodi":"sv","kielikoodiISO6392":"swe",
"alkupv":{"arvo":"2024-05-03","tarkkuus":"PAIVA"}},
{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATIETO","etunimi":"Erik","sukunimi":"Lindholm Tes",
"etunimiUTF8":"Erik","sukunimiUTF8":"Lindholm Tes"}]}]$j$);

SELECT is((SELECT (records, persons, hetu_corrections, unmatched, unregistered)::text FROM r), '(1,1,1,0,0)',
          'one record, one correction carried out');
SELECT results_eq($$ SELECT vanha_hetu COLLATE "default", uusi_hetu COLLATE "default", muutettu_at FROM vtj.hetu_history $$,
                  $$ VALUES ('220394Y9052', '220394-9096', '2024-05-02 21:00:00+00'::timestamptz) $$,
                  'vtj.hetu_history records the correction at muutospv');
SELECT is((SELECT string_agg(hetu || '/' || purpose, ' ' ORDER BY purpose) FROM vtj.registration), '220394-9096/laskutus 220394-9096/vesilaitos',
          'the registrations moved to the new hetu');
SELECT is((SELECT string_agg(hetu, ' ') FROM vtj.subject), '220394-9096', 'so did the register row (the new hetu is sent to DVV)');
SELECT is((SELECT string_agg(hetu || ' ' || etunimet || ' ' || aidinkieli || ' ' || asiointikieli || ' ' || kotikunta, ';') FROM vtj.persons),
          '220394-9096 Erik sv sv 091', 'the data moved, and the rest of the record applied under the new hetu');
SELECT is((SELECT count(*)::int FROM vtj.person_state WHERE hetu = '220394Y9052')
          + (SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '220394Y9052'), 0, 'nothing stays under the old hetu');
SELECT is(pg_temp.feed('220394Y9052'), 'PERUSTIEDOT/- HENKILOTUNNUS_KORJAUS/MUUTETTU', 'a feed row under the old hetu');
SELECT is(pg_temp.feed('220394-9096'), 'HENKILOTUNNUS_KORJAUS/LISATTY AIDINKIELI/POISTETTU ASIOINTIKIELI/LISATTY',
          'and under the new one, followed by the record''s changes');
SELECT is((SELECT string_agg(tietoryhma || '/' || COALESCE(muutosattribuutti, '-') || '/' || outcome, ' ' ORDER BY id)
             FROM vtj.journal WHERE kind = 'change'),
          'HENKILOTUNNUS_KORJAUS/LISATTY/moved HENKILOTUNNUS_KORJAUS/MUUTETTU/moved AIDINKIELI/POISTETTU/applied AIDINKIELI/-/voimassa ASIOINTIKIELI/LISATTY/applied HENKILON_NIMI/LISATIETO/context',
          'the journal');
SELECT is((SELECT base_key FROM vtj.person_state WHERE hetu = '220394-9096'), 5446623412::bigint, 'the base key moved with the person');

-- changes under the new hetu in the next page
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('220394-9096', $j$[
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"092","kuntaanMuuttopv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}}]$j$)))).records,
  1, 'a change under the new hetu is applied');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '220394-9096'), '092', 'to the moved data');
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('220394Y9052', $j$[
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"999","kuntaanMuuttopv":{"arvo":"2024-06-02","tarkkuus":"PAIVA"}}]$j$)))).unregistered,
  1, 'a later record under the old hetu is unregistered');

-- the correction page again (key set back): nothing changes
CREATE TEMP TABLE s1 AS SELECT pg_temp.snapshot() AS s;
UPDATE vtj.chain SET kirjausavain = 5446623412;
SELECT is((pg_temp.merge('changes', 5446623412, 5446623431, $j$[
{"henkilotunnus":"220394Y9052","muutospv":"2024-05-02T21:00:00.000Z","tietoryhmat":[
{"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"LISATTY","voimassaolo":"AKTIIVI",
"muutettuHenkilotunnus":"220394-9096","aktiivinenHenkilotunnus":"220394-9096","edellisetHenkilotunnukset":["220394Y9052"]}]}]$j$)).hetu_corrections,
  0, 'replaying the correction moves nothing');
SELECT is(pg_temp.snapshot(), (SELECT s FROM s1), 'and changes nothing');

-- ---------------------------------------------------------------------------
-- A correction into an already registered (and loaded) hetu
-- ---------------------------------------------------------------------------
SELECT pg_temp.reg(ARRAY['010101-901S'], 'laskutus', '2024-01-01');
SELECT pg_temp.reg(ARRAY['010101-901S'], 'vesilaitos', '2024-01-01');
SELECT pg_temp.reg(ARRAY['020202-902H'], 'laskutus', '2024-06-01');
SELECT pg_temp.reg(ARRAY['020202-902H'], 'oppilasrekisteri', '2024-06-01');
UPDATE vtj.registration SET customer_ref = 'older' WHERE hetu = '010101-901S' AND purpose = 'laskutus';
UPDATE vtj.registration SET customer_ref = 'newer' WHERE hetu = '020202-902H' AND purpose = 'laskutus';
SELECT pg_temp.base($j$[
  {"henkilotunnus":"010101-901S","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Vanha","sukunimi":"Tunnus"}]},
  {"henkilotunnus":"020202-902H","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Uusi","sukunimi":"Tunnus"}]}]$j$);
CREATE TEMP TABLE r2 AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('010101-901S', $j$[
  {"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"LISATTY","voimassaolo":"AKTIIVI",
   "muutettuHenkilotunnus":"020202-902H","aktiivinenHenkilotunnus":"020202-902H"}]$j$)));
SELECT is((SELECT string_agg(purpose || '=' || customer_ref || '@' || added_at::date, ' ' ORDER BY purpose)
             FROM vtj.registration WHERE hetu = '020202-902H'),
          'laskutus=older@2024-01-01 oppilasrekisteri=ref-020202-902H@2024-06-01 vesilaitos=ref-010101-901S@2024-01-01',
          'registrations merge: union of purposes, for a purpose in both the older row wins');
SELECT is((SELECT count(*)::int FROM vtj.registration WHERE hetu = '010101-901S')
          + (SELECT count(*)::int FROM vtj.subject WHERE hetu = '010101-901S'), 0, 'the old hetu is no longer registered');
SELECT is((SELECT etunimet FROM vtj.persons WHERE hetu = '020202-902H'), 'Uusi', 'the new hetu keeps its own base data');
SELECT ok((SELECT stale AND stale_reason = 'hetu_merged' FROM vtj.person_state WHERE hetu = '020202-902H'),
          'and is marked for a re-fetch');
SELECT is((SELECT refetch FROM r2), ARRAY['020202-902H'], 'which the result lists');
SELECT is((SELECT count(*)::int FROM vtj.persons WHERE hetu = '010101-901S'), 0, 'the old hetu is not a person any more');

-- ---------------------------------------------------------------------------
-- aktiivinenHenkilotunnus missing: recorded and reported, nothing moves
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r3 AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"MUUTETTU","voimassaolo":"PASSIIVI","muutettuHenkilotunnus":"020202-902H"}]$j$)));
SELECT is((SELECT (records, hetu_errors, hetu_corrections)::text FROM r3), '(1,1,0)', 'a correction without the active hetu is counted');
SELECT is((SELECT outcome FROM vtj.journal WHERE hetu = '020202-902H' AND tietoryhma = 'HENKILOTUNNUS_KORJAUS'
            ORDER BY id DESC LIMIT 1), 'no_active_hetu', 'and journalled');
SELECT is((SELECT count(*)::int FROM vtj.subject WHERE hetu = '020202-902H'), 1, 'nothing moved');

-- ---------------------------------------------------------------------------
-- A correction and a later record under the old hetu in the same page
-- ---------------------------------------------------------------------------
SELECT pg_temp.reg(ARRAY['030303-9038']);
SELECT pg_temp.base('[{"henkilotunnus":"030303-9038","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Kolmas","sukunimi":"Testi"}]}]');
SELECT is((pg_temp.chg($j$[
  {"henkilotunnus":"030303-9038","muutospv":"2024-07-01T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"LISATTY","voimassaolo":"AKTIIVI",
     "muutettuHenkilotunnus":"040404A9040","aktiivinenHenkilotunnus":"040404A9040"}]},
  {"henkilotunnus":"030303-9038","muutospv":"2024-07-02T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"AIDINKIELI","muutosattribuutti":"LISATTY","kielikoodi":"et","alkupv":{"arvo":"2024-07-02","tarkkuus":"PAIVA"}}]}]$j$)).records,
  2, 'both records applied');
SELECT is((SELECT etunimet || ' ' || aidinkieli FROM vtj.persons WHERE hetu = '040404A9040'), 'Kolmas et',
          'a later record of the page under the old hetu follows the person to the new one');

-- ---------------------------------------------------------------------------
-- A correction of a registered person not yet loaded: the registration moves
-- ---------------------------------------------------------------------------
SELECT pg_temp.reg(ARRAY['050505-905R']);
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('050505-905R', $j$[
  {"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"LISATTY","voimassaolo":"AKTIIVI",
   "muutettuHenkilotunnus":"060606-906F","aktiivinenHenkilotunnus":"060606-906F"},
  {"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Ei","sukunimi":"Ladattu"}]$j$)))).superseded,
  1, 'the record of a person not base-loaded yet is superseded (its base load will bring the state)');
SELECT is((SELECT string_agg(hetu, ' ') FROM vtj.registration WHERE hetu IN ('050505-905R', '060606-906F')), '060606-906F',
          'but the correction moved its registration');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu IN ('050505-905R', '060606-906F')), 0, 'and stored no data');
SELECT ok(EXISTS (SELECT 1 FROM vtj._base_due(100) h WHERE h = '060606-906F'), 'the new hetu is due for its base load');

-- ---------------------------------------------------------------------------
-- Base data reporting a correction
-- ---------------------------------------------------------------------------
SELECT pg_temp.reg(ARRAY['070707-9077']);
SELECT is((pg_temp.base('[{"henkilotunnus":"070707-9077","tietoryhmat":[
  {"tietoryhma":"HENKILOTUNNUS_KORJAUS","voimassaolo":"AKTIIVI","muutettuHenkilotunnus":"080808-908Y","aktiivinenHenkilotunnus":"080808-908Y"},
  {"tietoryhma":"HENKILON_NIMI","etunimi":"Perus","sukunimi":"Korjattu"}]}]')).hetu_corrections,
  1, 'a base record whose active hetu differs moves the person');
SELECT is((SELECT string_agg(hetu || ' ' || etunimet, ';') FROM vtj.persons WHERE hetu IN ('070707-9077', '080808-908Y')),
          '080808-908Y Perus', 'the base data is stored under the active hetu');
SELECT is(pg_temp.feed('080808-908Y'), 'PERUSTIEDOT/- HENKILOTUNNUS_KORJAUS/LISATTY', 'PERUSTIEDOT and correction rows');

-- ---------------------------------------------------------------------------
-- Removing a corrected person deletes what is stored under both hetus
-- ---------------------------------------------------------------------------
SELECT vtj._purge_person('220394-9096');
SELECT is((SELECT count(*)::int FROM vtj.change_feed WHERE hetu IN ('220394-9096', '220394Y9052'))
          + (SELECT count(*)::int FROM vtj.journal WHERE hetu IN ('220394-9096', '220394Y9052'))
          + (SELECT count(*)::int FROM vtj.person_entry WHERE hetu IN ('220394-9096', '220394Y9052'))
          + (SELECT count(*)::int FROM vtj.person_state WHERE hetu IN ('220394-9096', '220394Y9052'))
          + (SELECT count(*)::int FROM vtj.hetu_correction WHERE uusi_hetu = '220394-9096'), 0,
          'vtj._purge_person deletes data, journal, feed and hetu history under the current and the old hetu');
SELECT ok((SELECT count(*) FROM vtj.change_feed WHERE hetu = '080808-908Y') = 2, 'other persons keep theirs');

SELECT * FROM finish();
ROLLBACK;
