-- Removal: vtj.remove_person ending the last registration calls
-- vtj._purge_person, which deletes every stored datum of the person (current
-- data, history, journal, feed rows, hetu history); other persons keep theirs.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(10);

SELECT pg_temp.reg(ARRAY['010101-901S', '020202-902H']);
SELECT pg_temp.reg(ARRAY['010101-901S'], 'vesilaitos');
SELECT vtj._chain_obtained(1, 100);
SELECT pg_temp.base((SELECT jsonb_agg(jsonb_build_object('henkilotunnus', h, 'tietoryhmat', $j$[
  {"tietoryhma":"HENKILON_NIMI","etunimi":"Poistuva","sukunimi":"Testi"},
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Kotikatu"},"katunumero":"1","alkupv":{"arvo":"2012-07-03","tarkkuus":"PAIVA"}}]$j$::jsonb))
    FROM unnest(ARRAY['010101-901S', '020202-902H']) h));
SELECT pg_temp.chg((SELECT jsonb_agg(pg_temp.rec(h, $j$[
  {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Kotikatu"},"katunumero":"1",
   "alkupv":{"arvo":"2012-07-03","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2024-01-01","tarkkuus":"PAIVA"}},
  {"tietoryhma":"JOKU_MUU","muutosattribuutti":"LISATTY"}]$j$)) FROM unnest(ARRAY['010101-901S', '020202-902H']) h));
SELECT pg_temp.chg('[{"henkilotunnus":"010101-901S","error":"truncated record"}]');

CREATE TEMP TABLE counts AS
SELECT h,
       (SELECT count(*) FROM vtj.person_state WHERE hetu = h) AS ps,
       (SELECT count(*) FROM vtj.person_entry WHERE hetu = h) AS pe,
       (SELECT count(*) FROM vtj.journal WHERE hetu = h) AS j,
       (SELECT count(*) FROM vtj.change_feed WHERE hetu = h) AS f
  FROM unnest(ARRAY['010101-901S', '020202-902H']) h;
SELECT ok((SELECT ps > 0 AND pe > 0 AND j > 0 AND f > 0 FROM counts WHERE h = '010101-901S'), 'set-up: data of every kind is stored');

SELECT is(vtj.remove_person('010101-901S', 'laskutus'), true, 'one registration ends');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '010101-901S') > 0, true,
          'while another registration remains, the data stays');
SELECT is(vtj.remove_person('010101-901S'), true, 'the last registration ends');
SELECT is((SELECT count(*)::int FROM vtj.person_state WHERE hetu = '010101-901S'), 0, 'person state deleted');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '010101-901S'), 0, 'current and ended entries deleted');
SELECT is((SELECT count(*)::int FROM vtj.journal WHERE hetu = '010101-901S'), 0, 'journal rows deleted (malformed and unknown ones too)');
SELECT is((SELECT count(*)::int FROM vtj.change_feed WHERE hetu = '010101-901S'), 0, 'feed rows deleted');
SELECT is((SELECT count(*)::int FROM vtj.persons WHERE hetu = '010101-901S'), 0, 'the person is gone from the views');
SELECT is((SELECT (ps, pe, j, f)::text FROM counts WHERE h = '020202-902H'),
          (SELECT ((SELECT count(*) FROM vtj.person_state WHERE hetu = h), (SELECT count(*) FROM vtj.person_entry WHERE hetu = h),
                   (SELECT count(*) FROM vtj.journal WHERE hetu = h), (SELECT count(*) FROM vtj.change_feed WHERE hetu = h))::text
             FROM (SELECT '020202-902H'::text AS h) x),
          'the other person keeps everything');

SELECT * FROM finish();
ROLLBACK;
