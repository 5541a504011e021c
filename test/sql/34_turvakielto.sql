-- Turvakielto (product.md §6) in the merge: erasure of every stored trace of
-- the censored groups when a prohibition starts, censored stubs, values of
-- censored groups that reach SQL anyway (defence in depth), values earlier in
-- the same page, the end of a prohibition (re-fetch) and a passed end date.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(36);

SELECT pg_temp.reg(ARRAY['030712A904U', '010101-901S', '020202-902H']);
SELECT vtj._chain_obtained(1, 5446623400);
SELECT pg_temp.base((SELECT jsonb_agg(jsonb_build_object('henkilotunnus', h, 'tietoryhmat', $j$[
  {"tietoryhma":"HENKILON_NIMI","etunimi":"Aino","sukunimi":"Nieminen Tes"},
  {"tietoryhma":"KOTIKUNTA","kuntakoodi":"049","kuntaanMuuttopv":{"arvo":"2012-07-03","tarkkuus":"PAIVA"}},
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Kotikatu"},"katunumero":"1","postinumero":"02100",
   "kuntakoodi":"049","alkupv":{"arvo":"2012-07-03","tarkkuus":"PAIVA"}},
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Entinenkatu"},"katunumero":"9","postinumero":"00100",
   "kuntakoodi":"091","alkupv":{"arvo":"2001-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2012-07-02","tarkkuus":"PAIVA"}},
  {"tietoryhma":"ULKOMAINEN_POSTIOSOITE","postiosoite":"PO Box 5","postitoimipaikka":"TALLINN","valtiokoodi":"233"},
  {"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","postiosoite":{"fi":"PL 99"},"postinumero":"00101","postitoimipaikka":{"fi":"HELSINKI"}}]$j$::jsonb))
    FROM unnest(ARRAY['030712A904U', '010101-901S', '020202-902H']) h));
-- some history naming censored groups: a change journalled and in the feed
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec(h, $j$[
  {"tietoryhma":"TILAPAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Kesäkatu"},"katunumero":"3",
   "alkupv":{"arvo":"2024-01-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATIETO","etunimi":"Aino"}]$j$)))
  FROM unnest(ARRAY['030712A904U', '010101-901S', '020202-902H']) h;
SELECT is((SELECT count(*)::int FROM vtj.change_feed WHERE hetu = '030712A904U' AND tietoryhma = 'TILAPAINEN_KOTIMAINEN_OSOITE'), 1,
          'set-up: a feed row names a censored group');

-- ---------------------------------------------------------------------------
-- vtj-api.md §12 page 2, first record: the prohibition starts
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r1 AS SELECT * FROM pg_temp.chg($j$[
{"henkilotunnus":"030712A904U","muutospv":"2024-05-02T21:00:00.000Z","tietoryhmat":[
{"tietoryhma":"TURVAKIELTO","muutosattribuutti":"LISATTY","turvakieltoAktiivinen":true,
"turvaLoppuPv":{"arvo":"2029-05-03","tarkkuus":"PAIVA"}},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","turvakiellonAlaisetKentat":
["katunimi","katunumero","huoneistokirjain","huoneistonumero","jakokirjain","postinumero","postitoimipaikka","rakennustunnus","osoitenumero","kuntakoodi"]},
{"tietoryhma":"KOTIKUNTA","muutosattribuutti":"MUUTETTU","turvakiellonAlaisetKentat":["kuntakoodi","kuntaanMuuttopv"]}]}]$j$);
SELECT is((SELECT (records, censored, feed_rows)::text FROM r1), '(1,2,1)', 'two censored stubs, one feed row');
SELECT ok((SELECT turvakielto AND turva_loppupv = '2029-05-03' FROM vtj.person_state WHERE hetu = '030712A904U'),
          'the stored flag and end date are set');
SELECT is((SELECT string_agg(tietoryhma, ',' ORDER BY tietoryhma) FROM vtj.person_entry WHERE hetu = '030712A904U'),
          'HENKILON_NIMI,KOTIMAINEN_YHTEYSOSOITE',
          'every entry of the censored groups is erased, current and ended; the contact address stays');
SELECT is((SELECT count(*)::int FROM vtj.journal WHERE hetu = '030712A904U' AND tietoryhma = ANY (vtj._censored_groups())), 0,
          'journal rows naming censored groups are erased');
SELECT is((SELECT groups::text FROM vtj.journal WHERE hetu = '030712A904U' AND kind = 'base'),
          '{HENKILON_NIMI,KOTIMAINEN_YHTEYSOSOITE}', 'and the censored names in its base journal row');
SELECT is(pg_temp.feed('030712A904U'), 'PERUSTIEDOT/- TURVAKIELTO/LISATTY',
          'feed rows naming censored groups are erased; the prohibition writes one TURVAKIELTO row');
SELECT is((SELECT string_agg(tietoryhma || '/' || muutosattribuutti, ' ' ORDER BY id) FROM vtj.journal
            WHERE hetu = '030712A904U' AND kind = 'change' AND run_id = (SELECT max(run_id) FROM vtj.journal)),
          'TURVAKIELTO/LISATTY', 'the stubs are not journalled (their group names are censored traces too)');
SELECT ok((SELECT updated_at = now() FROM vtj.person_state WHERE hetu = '030712A904U'), 'updated_at moved');

-- ---------------------------------------------------------------------------
-- while active: censored values that reach SQL are ignored; other groups apply
-- ---------------------------------------------------------------------------
UPDATE vtj.person_state SET updated_at = now() - interval '1 day' WHERE hetu = '030712A904U';
CREATE TEMP TABLE r2 AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('030712A904U', $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Salainenkatu"},"katunumero":"7",
   "alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"092","kuntaanMuuttopv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}}]$j$)));
SELECT is((SELECT (records, censored, feed_rows)::text FROM r2), '(1,2,0)', 'censored values of a protected person are dropped');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '030712A904U' AND tietoryhma = ANY (vtj._censored_groups())), 0,
          'not stored');
SELECT is((SELECT count(*)::int FROM vtj.journal WHERE entry::text LIKE '%Salainenkatu%'
             OR (hetu = '030712A904U' AND tietoryhma = ANY (vtj._censored_groups()))), 0, 'not journalled');
SELECT ok((SELECT updated_at < now() FROM vtj.person_state WHERE hetu = '030712A904U'), 'updated_at does not move');
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('030712A904U', $j$[
  {"tietoryhma":"AIDINKIELI","muutosattribuutti":"LISATTY","kielikoodi":"fi","alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}}]$j$)))).feed_rows,
  1, 'a change of a group that is not censored applies as usual');

-- ---------------------------------------------------------------------------
-- values earlier in the page than the start of the prohibition are never written
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r3 AS SELECT * FROM pg_temp.chg($j$[
  {"henkilotunnus":"010101-901S","muutospv":"2024-06-01T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"TILAPAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Viimeinenkatu"},"katunumero":"1",
     "alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"010101-901S","muutospv":"2024-06-02T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"TURVAKIELTO","muutosattribuutti":"LISATTY","turvakieltoAktiivinen":true,"turvaLoppuPv":{"arvo":"2029-01-01","tarkkuus":"PAIVA"}}]}]$j$);
SELECT is((SELECT (records, censored)::text FROM r3), '(2,1)', 'the earlier censored entry is dropped');
SELECT is((SELECT count(*)::int FROM vtj.journal WHERE entry::text LIKE '%Viimeinenkatu%'), 0, 'and never journalled');
SELECT is(pg_temp.addr('010101-901S'), 'KOTIMAINEN_YHTEYSOSOITE: PL 99', 'only the contact address is left');

-- ---------------------------------------------------------------------------
-- a censored stub alone: the group's stored data goes, and the stub says the
-- prohibition is active
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r4 AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"ULKOMAINEN_POSTIOSOITE","muutosattribuutti":"MUUTETTU","turvakiellonAlaisetKentat":["postiosoite"]}]$j$)));
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '020202-902H' AND tietoryhma = 'ULKOMAINEN_POSTIOSOITE'), 0,
          'a censored stub erases its group''s stored data');
SELECT is((SELECT turvakielto FROM vtj.person_state WHERE hetu = '020202-902H'), true, 'a censored stub means the prohibition is active');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '020202-902H' AND tietoryhma = ANY (vtj._censored_groups())), 0,
          'so every censored group is erased');
SELECT is(pg_temp.feed('020202-902H'), 'PERUSTIEDOT/- TURVAKIELTO/-', 'the TURVAKIELTO row (no TURVAKIELTO entry: no muutosattribuutti)');
-- a stub of a contact address group (not censored by the rule) erases that group only
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","muutosattribuutti":"MUUTETTU","turvakiellonAlaisetKentat":["postiosoite"]}]$j$)));
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '020202-902H' AND tietoryhma = 'KOTIMAINEN_YHTEYSOSOITE'), 0,
          'a stub of any group erases that group');
SELECT is((SELECT outcome FROM vtj.journal WHERE hetu = '020202-902H' AND tietoryhma = 'KOTIMAINEN_YHTEYSOSOITE'), 'censored',
          'and is journalled in censored form');

-- ---------------------------------------------------------------------------
-- the prohibition ends: flag cleared, the person listed for a re-fetch
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r5 AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('030712A904U', $j$[
  {"tietoryhma":"TURVAKIELTO","muutosattribuutti":"MUUTETTU","turvakieltoAktiivinen":false,"turvaLoppuPv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATIETO","kuntakoodi":"049"}]$j$)));
SELECT is((SELECT refetch FROM r5), ARRAY['030712A904U'], 'the result lists the person to re-fetch');
SELECT ok((SELECT NOT turvakielto AND stale AND stale_reason = 'turvakielto_ended' FROM vtj.person_state WHERE hetu = '030712A904U'),
          'flag cleared, person stale until re-fetched');
SELECT ok(EXISTS (SELECT 1 FROM vtj._refetch_due(100) h WHERE h = '030712A904U'), 'vtj._refetch_due lists it');
SELECT is(pg_temp.feed('030712A904U'), 'PERUSTIEDOT/- TURVAKIELTO/LISATTY AIDINKIELI/LISATTY TURVAKIELTO/MUUTETTU',
          'a TURVAKIELTO row for the end');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '030712A904U'), NULL, 'nothing is revealed before the re-fetch');
-- the re-fetch reveals what DVV returns uncensored
SELECT pg_temp.base($j$[{"henkilotunnus":"030712A904U","tietoryhmat":[
  {"tietoryhma":"HENKILON_NIMI","etunimi":"Aino","sukunimi":"Nieminen Tes"},
  {"tietoryhma":"AIDINKIELI","kielikoodi":"fi","alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIKUNTA","kuntakoodi":"049","kuntaanMuuttopv":{"arvo":"2012-07-03","tarkkuus":"PAIVA"}},
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Kotikatu"},"katunumero":"1","alkupv":{"arvo":"2012-07-03","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","postiosoite":{"fi":"PL 99"},"postinumero":"00101","postitoimipaikka":{"fi":"HELSINKI"}}]}]$j$, 'refresh');
SELECT is((SELECT kotikunta FROM vtj.persons WHERE hetu = '030712A904U'), '049', 'the re-fetch reveals the home municipality');
SELECT is(pg_temp.addr('030712A904U'), 'KOTIMAINEN_YHTEYSOSOITE: PL 99; VAKINAINEN_KOTIMAINEN_OSOITE: Kotikatu 1', 'and the address');
SELECT ok((SELECT NOT stale FROM vtj.person_state WHERE hetu = '030712A904U'), 'and clears stale');

-- ---------------------------------------------------------------------------
-- active at the start and the end of a page but not in between: values after
-- the end and before the new start are dropped too
-- ---------------------------------------------------------------------------
SELECT pg_temp.chg($j$[
  {"henkilotunnus":"010101-901S","muutospv":"2024-07-01T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"TURVAKIELTO","muutosattribuutti":"MUUTETTU","turvakieltoAktiivinen":false}]},
  {"henkilotunnus":"010101-901S","muutospv":"2024-07-02T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2024-07-02","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"010101-901S","muutospv":"2024-07-03T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"TURVAKIELTO","muutosattribuutti":"MUUTETTU","turvakieltoAktiivinen":true}]}]$j$);
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '010101-901S' AND tietoryhma = 'KOTIKUNTA'), 0,
          'the decision is taken for the end of the page: nothing of a censored group is written');
SELECT ok((SELECT turvakielto AND NOT stale FROM vtj.person_state WHERE hetu = '010101-901S'), 'still active, nothing to re-fetch');

-- ---------------------------------------------------------------------------
-- a passed turvaLoppuPv without a record: the next run re-fetches the person
-- ---------------------------------------------------------------------------
UPDATE vtj.person_state SET turva_loppupv = vtj._today() - 1, base_loaded_at = now() - interval '3 days' WHERE hetu = '020202-902H';
SELECT ok(EXISTS (SELECT 1 FROM vtj._refetch_due(100) h WHERE h = '020202-902H'), 'a passed end date makes the person due for a re-fetch');
UPDATE vtj.person_state SET base_loaded_at = now() WHERE hetu = '020202-902H';
SELECT ok(NOT EXISTS (SELECT 1 FROM vtj._refetch_due(100) h WHERE h = '020202-902H'), 'once: not after a re-fetch that still says active');
SELECT is((SELECT turvakielto FROM vtj.persons WHERE hetu = '020202-902H'), true, 'no view derives the flag from the date');

SELECT * FROM finish();
ROLLBACK;
