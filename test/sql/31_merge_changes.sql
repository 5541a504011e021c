-- Change records (kind 'changes' of vtj._merge_page): every
-- muutosattribuutti, the matching rule of product.md §5, moves, name changes,
-- death and its correction, unknown groups, malformed records, the journal
-- and the feed, and order semantics with several records and entries of one
-- person and group in one page.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(66);

SELECT pg_temp.reg(ARRAY['010101-901S', '020202-902H', '030303-9038', '050505-905R']);
SELECT vtj._chain_obtained(1, 1000);
-- base: a person with a name, name history, a language, a home municipality and an address
CREATE TEMP TABLE base_page AS SELECT jsonb_build_array(
    jsonb_build_object('henkilotunnus', h, 'tietoryhmat', $j$[
      {"tietoryhma":"HENKILON_NIMI","etunimi":"Matti","sukunimi":"Testi","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
      {"tietoryhma":"NIMENMUUTOS","nimilaji":"NYKYINEN_SUKUNIMI","nimi":"Testi","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
      {"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
      {"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}},
      {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Vanhakatu"},"katunumero":"1","postinumero":"00100",
       "kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}}]$j$::jsonb)) AS p
  FROM unnest(ARRAY['010101-901S', '020202-902H', '030303-9038', '050505-905R']) h;
SELECT pg_temp.base((SELECT jsonb_agg(x) FROM base_page, jsonb_array_elements(p) x));

-- ---------------------------------------------------------------------------
-- LISATTY / MUUTETTU: a move (the old address ends, a new one is added)
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('010101-901S', $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Vanhakatu"},"katunumero":"1",
   "postinumero":"00100","kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2021-05-31","tarkkuus":"PAIVA"}},
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Uusikatu","sv":"Nygatan"},"katunumero":"2",
   "huoneistokirjain":"B","huoneistonumero":"007","postinumero":"02100","kuntakoodi":"049","alkupv":{"arvo":"2021-06-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"049","kuntaanMuuttopv":{"arvo":"2021-06-01","tarkkuus":"PAIVA"}}]$j$)));
SELECT is((SELECT (records, persons, unmatched, feed_rows)::text FROM r), '(1,1,0,3)', 'move: 1 record, nothing unmatched, 3 feed rows');
SELECT is(pg_temp.addr('010101-901S'), 'VAKINAINEN_KOTIMAINEN_OSOITE: Uusikatu 2 B 7', 'the new address is current, the ended one is not');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '010101-901S' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), 2,
          'the ended address stays stored (history)');
SELECT is((SELECT kotikunta || ' ' || kuntaan_muuttopv FROM vtj.persons WHERE hetu = '010101-901S'), '049 2021-06-01',
          'the later home municipality is the current one');
SELECT is(pg_temp.feed('010101-901S'), 'PERUSTIEDOT/- VAKINAINEN_KOTIMAINEN_OSOITE/MUUTETTU VAKINAINEN_KOTIMAINEN_OSOITE/LISATTY KOTIKUNTA/LISATTY',
          'feed rows in page order, one per (group, muutosattribuutti)');
SELECT is((SELECT string_agg(tietoryhma || '/' || muutosattribuutti || '/' || outcome, ' ' ORDER BY id)
             FROM vtj.journal WHERE hetu = '010101-901S' AND kind = 'change'),
          'VAKINAINEN_KOTIMAINEN_OSOITE/MUUTETTU/applied VAKINAINEN_KOTIMAINEN_OSOITE/LISATTY/applied KOTIKUNTA/LISATTY/applied',
          'the journal has one row per group entry as merged');
SELECT is((SELECT (entry).katunimi_fi || ' ' || (entry).loppupv FROM vtj.journal
            WHERE hetu = '010101-901S' AND muutosattribuutti = 'MUUTETTU'), 'Vanhakatu 2021-05-31', 'with its content');
SELECT ok((SELECT updated_at = now() FROM vtj.person_state WHERE hetu = '010101-901S'), 'updated_at moved');

-- the same page content again (a new page of the chain): nothing changes
CREATE TEMP TABLE s1 AS SELECT pg_temp.snapshot() AS s;
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('010101-901S', $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Vanhakatu"},"katunumero":"1",
   "postinumero":"00100","kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2021-05-31","tarkkuus":"PAIVA"}},
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Uusikatu","sv":"Nygatan"},"katunumero":"2",
   "huoneistokirjain":"B","huoneistonumero":"007","postinumero":"02100","kuntakoodi":"049","alkupv":{"arvo":"2021-06-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"049","kuntaanMuuttopv":{"arvo":"2021-06-01","tarkkuus":"PAIVA"}}]$j$)))).feed_rows,
  0, 'replaying the records adds no feed row');
SELECT is(pg_temp.snapshot(), (SELECT s FROM s1), 'and leaves the same state (LISATTY of a stored entry adds no duplicate)');
SELECT is((SELECT string_agg(j.outcome, ' ' ORDER BY j.id)
             FROM (SELECT outcome, id FROM vtj.journal WHERE hetu = '010101-901S' AND kind = 'change'
                    ORDER BY id DESC LIMIT 3) j),
          'unchanged unchanged unchanged', 'the replayed entries are journalled as unchanged');

-- ---------------------------------------------------------------------------
-- POISTETTU with voimassaolevatTiedot: the move is cancelled, the earlier
-- address is current again
-- ---------------------------------------------------------------------------
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('010101-901S', $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"POISTETTU","katunimi":{"fi":"Uusikatu","sv":"Nygatan"},"katunumero":"2",
   "huoneistokirjain":"B","huoneistonumero":"007","postinumero":"02100","kuntakoodi":"049","alkupv":{"arvo":"2021-06-01","tarkkuus":"PAIVA"},
   "voimassaolevatTiedot":[{"katunimi":{"fi":"Vanhakatu"},"katunumero":"1","postinumero":"00100","kuntakoodi":"091",
                            "alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}}]}]$j$)))).unmatched,
  0, 'POISTETTU matches the stored entry');
SELECT is(pg_temp.addr('010101-901S'), 'VAKINAINEN_KOTIMAINEN_OSOITE: Vanhakatu 1', 'POISTETTU restores the earlier address');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '010101-901S' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), 2,
          'the removed entry is gone, the ended one and the restored one stay');
SELECT ok(pg_temp.feed('010101-901S') LIKE '% VAKINAINEN_KOTIMAINEN_OSOITE/POISTETTU', 'a POISTETTU feed row');
SELECT is((SELECT string_agg(COALESCE(muutosattribuutti, '-') || '/' || outcome, ' ' ORDER BY id)
             FROM vtj.journal WHERE hetu = '010101-901S' AND kind = 'change' AND id > (SELECT max(id) - 2 FROM vtj.journal)),
          'POISTETTU/applied -/voimassa', 'journal: the POISTETTU and its voimassaolevatTiedot element');

-- POISTETTU with an empty voimassaolevatTiedot: no valid entry is left
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"POISTETTU","katunimi":{"fi":"Muukatu"},"katunumero":"9",
   "alkupv":{"arvo":"1999-01-01","tarkkuus":"PAIVA"},"voimassaolevatTiedot":[]}]$j$)));
SELECT is(pg_temp.addr('020202-902H'), '', 'POISTETTU with an empty voimassaolevatTiedot leaves no current address');
-- POISTETTU that matches nothing and carries no voimassaolevatTiedot
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('030303-9038', $j$[
  {"tietoryhma":"AIDINKIELI","muutosattribuutti":"POISTETTU","kielikoodi":"sv","alkupv":{"arvo":"2001-01-01","tarkkuus":"PAIVA"}}]$j$)))).unmatched,
  1, 'a POISTETTU that matches nothing is counted');
SELECT is((SELECT aidinkieli FROM vtj.persons WHERE hetu = '030303-9038'), 'fi', 'and removes nothing');
SELECT is((SELECT outcome FROM vtj.journal WHERE hetu = '030303-9038' AND kind = 'change'), 'unmatched', 'journalled as unmatched');

-- ---------------------------------------------------------------------------
-- MUUTETTU by alkupv; MUUTETTU that matches nothing; KORJATTAVA + KORJATTU;
-- LISATIETO
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r2 AS SELECT * FROM pg_temp.chg(jsonb_build_array(pg_temp.rec('030303-9038', $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Vanhakatu"},"katunumero":"1 A",
   "postinumero":"00100","kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"AIDINKIELI","muutosattribuutti":"KORJATTAVA","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"AIDINKIELI","muutosattribuutti":"KORJATTU","kielikoodi":"sv","kielikoodiISO6392":"swe","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"ASIOINTIKIELI","muutosattribuutti":"MUUTETTU","kielikoodi":"en","alkupv":{"arvo":"2020-02-01","tarkkuus":"KUUKAUSI"}},
  {"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATIETO","etunimi":"Matti","sukunimi":"Testi"}]$j$)));
SELECT is((SELECT (unmatched, feed_rows)::text FROM r2), '(1,4)',
          'only the MUUTETTU that matched nothing is unmatched (KORJATTU after KORJATTAVA is a replacement)');
SELECT is(pg_temp.addr('030303-9038'), 'VAKINAINEN_KOTIMAINEN_OSOITE: Vanhakatu 1 A', 'MUUTETTU matched by alkupv replaces the entry');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '030303-9038' AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), 1,
          'no second entry');
SELECT is((SELECT aidinkieli || '/' || asiointikieli FROM vtj.persons WHERE hetu = '030303-9038'), 'sv/en',
          'KORJATTU replaces the corrected language; an unmatched MUUTETTU is stored as new');
SELECT is(pg_temp.feed('030303-9038'),
          'PERUSTIEDOT/- VAKINAINEN_KOTIMAINEN_OSOITE/MUUTETTU AIDINKIELI/KORJATTAVA AIDINKIELI/KORJATTU ASIOINTIKIELI/MUUTETTU',
          'LISATIETO writes no feed row');
SELECT is((SELECT string_agg(outcome, ' ' ORDER BY id) FROM vtj.journal WHERE hetu = '030303-9038' AND kind = 'change'
             AND id > (SELECT min(id) FROM vtj.journal WHERE hetu = '030303-9038' AND kind = 'change')),
          'applied applied applied stored_as_new context', 'journal outcomes');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '030303-9038' AND tietoryhma = 'HENKILON_NIMI'), 1,
          'LISATIETO stores nothing');

-- KORJATTAVA alone matching nothing
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('030303-9038', $j$[
  {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"KORJATTAVA","kuntakoodi":"092","kuntaanMuuttopv":{"arvo":"2016-01-01","tarkkuus":"PAIVA"}}]$j$)))).unmatched,
  1, 'a KORJATTAVA that matches nothing is counted');

-- ---------------------------------------------------------------------------
-- Name change (vtj-api.md §12 page 1, first record)
-- ---------------------------------------------------------------------------
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('050505-905R', $j$[
  {"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Matti","sukunimi":"Uusinimi Tes",
   "etunimiUTF8":"Matti","sukunimiUTF8":"Uusinimi Tes","alkupv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}},
  {"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"MUUTETTU","nimilaji":"NYKYINEN_SUKUNIMI","nimi":"Testi",
   "alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2024-05-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"LISATTY","nimilaji":"NYKYINEN_SUKUNIMI","nimi":"Uusinimi Tes",
   "nimiUTF8":"Uusinimi Tes","alkupv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}}]$j$)));
SELECT is((SELECT etunimet || ' ' || sukunimi FROM vtj.persons WHERE hetu = '050505-905R'), 'Matti Uusinimi Tes',
          'the name with the latest alkupv is current');
SELECT results_eq($$ SELECT nimilaji COLLATE "default", nimi, alkupv, loppupv FROM vtj.name_history
                      WHERE hetu = '050505-905R' ORDER BY alkupv $$,
    $$ VALUES ('NYKYINEN_SUKUNIMI', 'Testi', '1990-01-01'::date, '2024-05-01'::date),
              ('NYKYINEN_SUKUNIMI', 'Uusinimi Tes', '2024-05-02', NULL) $$,
    'vtj.name_history keeps the ended name');

-- ---------------------------------------------------------------------------
-- Death, and its correction (KORJATTAVA + KORJATTU kuollut: false)
-- ---------------------------------------------------------------------------
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"LISATTY","kuollut":true,"kuolinpv":{"arvo":"2024-04-29","tarkkuus":"PAIVA"}}]$j$)));
SELECT is((SELECT kuollut || ' ' || kuolinpv || ' ' || kuolinpv_tarkkuus FROM vtj.persons WHERE hetu = '020202-902H'),
          'true 2024-04-29 PAIVA', 'KUOLINPAIVA sets kuollut and kuolinpv');
SELECT is((SELECT deceased FROM vtj.status), 1::bigint, 'vtj.status counts the deceased');
SELECT is((SELECT count(*)::int FROM vtj.registration WHERE hetu = '020202-902H'), 1, 'death does not end the registration');
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"KORJATTAVA","kuollut":true,"kuolinpv":{"arvo":"2024-04-29","tarkkuus":"PAIVA"}},
  {"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"KORJATTU","kuollut":false}]$j$)));
SELECT is((SELECT kuollut || ' ' || COALESCE(kuolinpv::text, '-') FROM vtj.persons WHERE hetu = '020202-902H'), 'false -',
          'a corrected death clears kuollut and kuolinpv');
SELECT is(pg_temp.feed('020202-902H'), 'PERUSTIEDOT/- VAKINAINEN_KOTIMAINEN_OSOITE/POISTETTU KUOLINPAIVA/LISATTY KUOLINPAIVA/KORJATTU',
          'one feed row per death change');
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"LISATIETO","kuollut":true,"kuolinpv":{"arvo":"2024-04-29","tarkkuus":"PAIVA"}}]$j$)))).feed_rows,
  0, 'a KUOLINPAIVA LISATIETO changes nothing');

-- ---------------------------------------------------------------------------
-- Unknown group and a malformed record among good ones
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE r3 AS SELECT * FROM pg_temp.chg($j$[
  {"henkilotunnus":"050505-905R","muutospv":"2024-05-03T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"JOKU_MUU","muutosattribuutti":"LISATTY","uskonto":"salainen","osoite":"Salakatu 1"},
    {"tietoryhma":"AIDINKIELI","muutosattribuutti":"LISATTY","kielikoodi":"se","kielikoodiISO6392":"sme","alkupv":{"arvo":"2024-05-03","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"030303-9038","error":"string contains \\u0000"},
  {"henkilotunnus":"010101-901S","muutospv":"2024-05-03T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"ASIOINTIKIELI","muutosattribuutti":"LISATTY","kielikoodi":"sv","alkupv":{"arvo":"2024-05-03","tarkkuus":"PAIVA"}}]}]$j$);
SELECT is((SELECT (records, persons, malformed, unknown_groups, feed_rows)::text FROM r3), '(2,2,1,1,2)',
          'two records merged, one malformed, one unknown group');
SELECT is((SELECT aidinkieli FROM vtj.persons WHERE hetu = '050505-905R'), 'se', 'the good records are merged');
SELECT is((SELECT asiointikieli FROM vtj.persons WHERE hetu = '010101-901S'), 'sv', 'also after the malformed one');
SELECT results_eq($$ SELECT kind COLLATE "default", tietoryhma COLLATE "default", muutosattribuutti COLLATE "default", entry IS NULL
                       FROM vtj.journal WHERE hetu = '050505-905R' AND tietoryhma = 'JOKU_MUU' $$,
                  $$ VALUES ('unknown', 'JOKU_MUU', 'LISATTY', true) $$,
                  'an unknown group is journalled by name and muutosattribuutti only');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE tietoryhma = 'JOKU_MUU')
          + (SELECT count(*)::int FROM vtj.change_feed WHERE tietoryhma = 'JOKU_MUU'), 0,
          'nothing of it is stored, no feed row');
SELECT results_eq($$ SELECT hetu COLLATE "default", position, error FROM vtj.journal WHERE kind = 'malformed' $$,
                  $$ VALUES ('030303-9038', 1, 'string contains \u0000') $$,
                  'the malformed record is journalled by position and reason');
SELECT is((SELECT stale_reason FROM vtj.person_state WHERE hetu = '030303-9038'), 'malformed', 'and its person is stale');
SELECT is((SELECT count(*)::int FROM vtj._refetch_due(10) h WHERE h = '030303-9038'), 1, 'and due to be re-fetched');

-- ---------------------------------------------------------------------------
-- Several entries of one person and group in one page: order semantics
-- ---------------------------------------------------------------------------
-- LISATTY then MUUTETTU of the same entry (in one record), then a second
-- MUUTETTU in a later record: the second matches what the first left
SELECT is((pg_temp.chg($j$[
  {"henkilotunnus":"020202-902H","muutospv":"2024-06-01T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"TILAPAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Kesäkatu"},"katunumero":"5",
     "alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"TILAPAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Kesäkatu"},"katunumero":"5",
     "alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2090-08-31","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"020202-902H","muutospv":"2024-06-02T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"TILAPAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Kesäkatu"},"katunumero":"5",
     "alkupv":{"arvo":"2024-06-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2024-08-31","tarkkuus":"PAIVA"}}]}]$j$)).unmatched,
  0, 'each MUUTETTU matches the entry the earlier ones of the page left');
SELECT is((SELECT string_agg(loppupv::text, ',') FROM vtj.person_entry WHERE hetu = '020202-902H' AND tietoryhma = 'TILAPAINEN_KOTIMAINEN_OSOITE'),
          '2024-08-31', 'one entry, with the last end date');
SELECT is(pg_temp.addr('020202-902H'), '', 'ended: not current');

-- A page with several records per person and group gives the same result as
-- the records merged one page at a time.
CREATE TEMP TABLE mixed AS SELECT $j$[
  {"henkilotunnus":"050505-905R","muutospv":"2024-07-01T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Vanhakatu"},"katunumero":"1",
     "postinumero":"00100","kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2024-06-30","tarkkuus":"PAIVA"}},
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Eka"},"katunumero":"1",
     "alkupv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"LISATTY","nimilaji":"NYKYINEN_KUTSUMANIMI","nimi":"Masa","alkupv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"010101-901S","muutospv":"2024-07-01T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"092","kuntaanMuuttopv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"050505-905R","muutospv":"2024-07-02T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"POISTETTU","katunimi":{"fi":"Eka"},"katunumero":"1",
     "alkupv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"},"voimassaolevatTiedot":[
       {"katunimi":{"fi":"Vanhakatu"},"katunumero":"1","postinumero":"00100","kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}}]},
    {"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"KORJATTAVA","nimilaji":"NYKYINEN_KUTSUMANIMI","nimi":"Masa","alkupv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"KORJATTU","nimilaji":"NYKYINEN_KUTSUMANIMI","nimi":"Matsku","alkupv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"010101-901S","muutospv":"2024-07-02T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"KOTIKUNTA","muutosattribuutti":"MUUTETTU","kuntakoodi":"092","kuntaanMuuttopv":{"arvo":"2024-07-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"LISATTY","kuollut":true,"kuolinpv":{"arvo":"2024-07-02","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"050505-905R","muutospv":"2024-07-03T21:00:00.000Z","tietoryhmat":[
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Vanhakatu"},"katunumero":"1",
     "postinumero":"00100","kuntakoodi":"091","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2024-07-31","tarkkuus":"PAIVA"}},
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Toka"},"katunumero":"2",
     "alkupv":{"arvo":"2024-08-01","tarkkuus":"PAIVA"}}]}]$j$::jsonb AS p;
-- Twins: the same base data and the same records, merged as one page for
-- 050505-905R and 010101-901S, and one record per page for their twins.
SELECT pg_temp.reg(ARRAY['060606-906F', '070707-9077']);
SELECT pg_temp.base('[{"henkilotunnus":"060606-906F","tietoryhmat":[]},{"henkilotunnus":"070707-9077","tietoryhmat":[]}]');
-- 070707-9077 gets the current state of 010101-901S as its base: copy the entries and the person's state
INSERT INTO vtj.person_entry (hetu, tietoryhma, etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
       kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi, katunimi_fi, katunimi_sv, katunumero, huoneistokirjain,
       huoneistonumero, jakokirjain, postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
       postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta, valtiokoodi, valtionimi, tiedot,
       alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
SELECT '070707-9077', e.tietoryhma, (vtj._ev(e)).*, e.loppupv, e.loppupv_tarkkuus
  FROM vtj.person_entry e WHERE e.hetu = '010101-901S' ORDER BY e.id;
-- 060606-906F: the state of 050505-905R
INSERT INTO vtj.person_entry (hetu, tietoryhma, etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
       kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi, katunimi_fi, katunimi_sv, katunumero, huoneistokirjain,
       huoneistonumero, jakokirjain, postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
       postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta, valtiokoodi, valtionimi, tiedot,
       alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
SELECT '060606-906F', e.tietoryhma, (vtj._ev(e)).*, e.loppupv, e.loppupv_tarkkuus
  FROM vtj.person_entry e WHERE e.hetu = '050505-905R' ORDER BY e.id;
SELECT is(pg_temp.entries('060606-906F') || pg_temp.entries('070707-9077'),
          pg_temp.entries('050505-905R') || pg_temp.entries('010101-901S'), 'the twins start equal');
SELECT pg_temp.chg((SELECT p FROM mixed));
SELECT pg_temp.chg(jsonb_build_array(x || jsonb_build_object('henkilotunnus',
           CASE x->>'henkilotunnus' WHEN '050505-905R' THEN '060606-906F' ELSE '070707-9077' END)))
  FROM mixed, jsonb_array_elements(p) WITH ORDINALITY AS t(x, n) ORDER BY n;
SELECT is(pg_temp.entries('050505-905R'), pg_temp.entries('060606-906F'),
          'a page with several records per person and group = its records merged one page each (addresses, names)');
SELECT is(pg_temp.entries('010101-901S') || (SELECT ROW(kuollut, kuolinpv)::text FROM vtj.person_state WHERE hetu = '010101-901S'),
          pg_temp.entries('070707-9077') || (SELECT ROW(kuollut, kuolinpv)::text FROM vtj.person_state WHERE hetu = '070707-9077'),
          'the same for the home municipality and death');
SELECT is(pg_temp.addr('050505-905R'), 'VAKINAINEN_KOTIMAINEN_OSOITE: Toka 2', 'and the result is the expected one');
SELECT is((SELECT string_agg(nimi, ',' ORDER BY alkupv) FROM vtj.name_history WHERE hetu = '050505-905R' AND nimilaji = 'NYKYINEN_KUTSUMANIMI'),
          'Matsku', 'the corrected name replaced the wrong one');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '010101-901S' AND tietoryhma = 'KOTIKUNTA'), 3,
          'the MUUTETTU of the home municipality matched the one added earlier in the page');

-- ---------------------------------------------------------------------------
-- Guardianship details are allow-listed (never an address)
-- ---------------------------------------------------------------------------
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('030303-9038', $j$[
  {"tietoryhma":"EDUNVALVONTA","muutosattribuutti":"LISATTY","alkupv":{"arvo":"2024-01-01","tarkkuus":"PAIVA"},
   "nykyisetEdunvalvojat":[{"edunvalvoja":{"henkilotunnus":"080808-908Y","etunimet":"Eino","sukunimi":"Holhooja",
     "osoite":{"katunimi":"Piilokatu","postinumero":"00100"}},"tehtavat":["TALOUDELLISET_ASIAT"],"puhelin":"0401234567"}]}]$j$)));
SELECT is((SELECT tiedot FROM vtj.guardianships WHERE hetu = '030303-9038'),
          '{"nykyisetEdunvalvojat": [{"tehtavat": ["TALOUDELLISET_ASIAT"], "edunvalvoja": {"etunimet": "Eino", "sukunimi": "Holhooja", "henkilotunnus": "080808-908Y"}}]}'::jsonb,
          'tiedot keeps only allow-listed keys');
SELECT is((SELECT entry::text ~ 'Piilokatu|0401234567' FROM vtj.journal WHERE hetu = '030303-9038' AND tietoryhma = 'EDUNVALVONTA'), false,
          'the journal holds the filtered details too');

-- ---------------------------------------------------------------------------
-- The run row adds up the pages' counts
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE run1 AS SELECT pg_temp.run() AS id;
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('010101-901S', '[{"tietoryhma":"ASIOINTIKIELI","muutosattribuutti":"POISTETTU","kielikoodi":"xx"}]')),
                   (SELECT id FROM run1));
SELECT pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATIETO","etunimi":"X"}]'),
                                     pg_temp.rec('040404A9040', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY","etunimi":"X"}]')),
                   (SELECT id FROM run1));
SELECT is((SELECT (pages, records, persons, unregistered, unmatched, feed_rows)::text FROM vtj.run WHERE id = (SELECT id FROM run1)),
          '(2,2,2,1,1,0)', 'run counters: pages, records, persons, unregistered, unmatched, feed rows');
SELECT is((SELECT records FROM vtj.sync_runs WHERE id = (SELECT id FROM run1)), 2::bigint, 'vtj.sync_runs shows them');

-- ---------------------------------------------------------------------------
-- vtj-api.md §12 page 1 as a whole
-- ---------------------------------------------------------------------------
SELECT pg_temp.reg(ARRAY['150585-902R', '071149-9068']);
SELECT pg_temp.base($j$[
{"henkilotunnus":"150585-902R","tietoryhmat":[
 {"tietoryhma":"HENKILON_NIMI","etunimi":"Anna Maria","sukunimi":"Korhonen Tes","etunimiUTF8":"Anna Maria","sukunimiUTF8":"Korhonen Tes"},
 {"tietoryhma":"NIMENMUUTOS","nimilaji":"NYKYINEN_SUKUNIMI","nimi":"Korhonen Tes","nimiUTF8":"Korhonen Tes"},
 {"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2010-11-01","tarkkuus":"KUUKAUSI"}},
 {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Mikonkatu","sv":"Mikaelsgatan"},"katunumero":"8","postinumero":"00100",
  "postitoimipaikka":{"fi":"HELSINKI","sv":"HELSINGFORS"},"rakennustunnus":"9000000323","osoitenumero":1,"kuntakoodi":"091",
  "alkupv":{"arvo":"2010-11-01","tarkkuus":"KUUKAUSI"}}]},
{"henkilotunnus":"071149-9068","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Eeva","sukunimi":"Testi Tes"}]}]$j$);
CREATE TEMP TABLE p1 AS SELECT * FROM pg_temp.chg($j$[
{"henkilotunnus":"150585-902R","muutospv":"2024-05-01T21:00:00.000Z","tietoryhmat":[
{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Anna Maria","sukunimi":"Virtanen Tes",
"etunimiUTF8":"Anna Maria","sukunimiUTF8":"Virtanen Tes","alkupv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}},
{"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"MUUTETTU","nimilaji":"EDELLINEN_SUKUNIMI","nimi":"Korhonen Tes",
"nimiUTF8":"Korhonen Tes","loppupv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Piispansilta","sv":"Biskopsbron"},
"katunumero":"11","huoneistokirjain":"A","huoneistonumero":"004","postinumero":"02230",
"postitoimipaikka":{"fi":"ESPOO","sv":"ESBO"},"rakennustunnus":"900000001B","osoitenumero":1,"kuntakoodi":"049",
"alkupv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}},
{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Mikonkatu","sv":"Mikaelsgatan"},
"katunumero":"8","postinumero":"00100","postitoimipaikka":{"fi":"HELSINKI","sv":"HELSINGFORS"},
"rakennustunnus":"9000000323","osoitenumero":1,"kuntakoodi":"091",
"alkupv":{"arvo":"2010-11-01","tarkkuus":"KUUKAUSI"},"loppupv":{"arvo":"2024-05-01","tarkkuus":"PAIVA"}},
{"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"049",
"kuntaanMuuttopv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}}]},
{"henkilotunnus":"071149-9068","muutospv":"2024-05-01T21:00:00.000Z","tietoryhmat":[
{"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"LISATTY","kuollut":true,"kuolinpv":{"arvo":"2024-04-29","tarkkuus":"PAIVA"}}]}]$j$);
SELECT is((SELECT (records, persons, unmatched, feed_rows)::text FROM p1), '(2,2,1,6)',
          '§12 page 1: the name (a new alkupv) matches nothing stored and is stored as new');
SELECT results_eq($$ SELECT nimilaji COLLATE "default", nimi, loppupv FROM vtj.name_history WHERE hetu = '150585-902R' $$,
    $$ VALUES ('EDELLINEN_SUKUNIMI', 'Korhonen Tes', '2024-05-02'::date) $$,
    '§12 page 1: the EDELLINEN_SUKUNIMI entry matched the stored surname (no alkupv on either: same alkupv)');
SELECT results_eq($$ SELECT hetu COLLATE "default", etunimet, sukunimi, kuollut, kuolinpv, kotikunta COLLATE "default", kotikunta_nimi, kuntaan_muuttopv
                       FROM vtj.persons WHERE hetu IN ('150585-902R', '071149-9068') ORDER BY hetu $$,
    $$ VALUES ('071149-9068', 'Eeva', 'Testi Tes', true, '2024-04-29'::date, NULL, NULL, NULL::date),
              ('150585-902R', 'Anna Maria', 'Virtanen Tes', false, NULL, '049', 'Espoo', '2024-05-02') $$,
    '§12 page 1: persons');
SELECT is(pg_temp.addr('150585-902R'), 'VAKINAINEN_KOTIMAINEN_OSOITE: Piispansilta 11 A 4', '§12 page 1: the new address only');
SELECT is((SELECT katuosoite_sv || ' / ' || postitoimipaikka_sv FROM vtj.addresses WHERE hetu = '150585-902R'),
          'Biskopsbron 11 A 4 / ESBO', 'the Swedish first line');
SELECT is(pg_temp.feed('150585-902R'),
          'PERUSTIEDOT/- HENKILON_NIMI/MUUTETTU NIMENMUUTOS/MUUTETTU VAKINAINEN_KOTIMAINEN_OSOITE/LISATTY VAKINAINEN_KOTIMAINEN_OSOITE/MUUTETTU KOTIKUNTA/LISATTY',
          '§12 page 1: feed');

-- Two changes of one entry in one page, the second undoing the first: the
-- group's content is as it was, so no feed row (while a move, a change plus
-- an addition, always writes its rows: see the first page above).
CREATE TEMP TABLE s2 AS SELECT pg_temp.entries('020202-902H') AS e, pg_temp.feed('020202-902H') AS f;
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('020202-902H', $j$[
  {"tietoryhma":"AIDINKIELI","muutosattribuutti":"MUUTETTU","kielikoodi":"sv","kielikoodiISO6392":"swe","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"AIDINKIELI","muutosattribuutti":"MUUTETTU","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}}]$j$)))).feed_rows,
  0, 'a change undone in the same page writes no feed row');
SELECT is(pg_temp.entries('020202-902H'), (SELECT e FROM s2), 'and leaves the entries as they were');
SELECT is(pg_temp.feed('020202-902H'), (SELECT f FROM s2), 'the feed of the person is unchanged');

SELECT * FROM finish();
ROLLBACK;
