-- The page transaction: compare-and-set of the chain key, idempotence of a
-- replayed page, superseded and unregistered records, the merge lock and feed
-- order, the run's counters, and the contract checks of vtj._merge_page.
BEGIN;
\ir include/merge_helpers.psql
SELECT plan(29);

SELECT pg_temp.reg(ARRAY['010101-901S', '020202-902H', '030303-9038']);
SELECT vtj._chain_obtained(1, 1000);
SELECT pg_temp.base($j$[
  {"henkilotunnus":"010101-901S","tietoryhmat":[
    {"tietoryhma":"HENKILON_NIMI","etunimi":"Matti","sukunimi":"Testi"},
    {"tietoryhma":"AIDINKIELI","kielikoodi":"fi","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"ASIOINTIKIELI","kielikoodi":"fi","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Vanhakatu"},"katunumero":"1","alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"}}]},
  {"henkilotunnus":"020202-902H","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Maija","sukunimi":"Testi"}]}]$j$);

-- ---------------------------------------------------------------------------
-- compare-and-set
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE s0 AS SELECT pg_temp.snapshot() AS s, (SELECT records FROM vtj.run ORDER BY id DESC LIMIT 1) AS n;
CREATE TEMP TABLE run_d AS SELECT pg_temp.run() AS id;
CREATE TEMP TABLE rd AS SELECT * FROM pg_temp.merge('changes', 999, 1010,
    jsonb_build_array(pg_temp.rec('010101-901S', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY","etunimi":"X","sukunimi":"Y"}]')),
    (SELECT id FROM run_d));
SELECT is((SELECT discarded FROM rd), true, 'a page fetched with another key than the stored one is discarded');
SELECT is((SELECT (records, persons, feed_rows)::text FROM rd), '(0,0,0)', 'with nothing counted');
SELECT is(pg_temp.snapshot(), (SELECT s FROM s0), 'and nothing merged');
SELECT is((SELECT kirjausavain FROM vtj.chain), 1000::bigint, 'the key stays');
SELECT is((SELECT (pages, records)::text FROM vtj.run WHERE id = (SELECT id FROM run_d)), '(0,0)', 'the run counts nothing');

CREATE TEMP TABLE r1 AS SELECT * FROM pg_temp.merge('changes', 1000, 1010,
    jsonb_build_array(pg_temp.rec('020202-902H', '[{"tietoryhma":"AIDINKIELI","muutosattribuutti":"LISATTY","kielikoodi":"sv"}]')));
SELECT is((SELECT kirjausavain FROM vtj.chain), 1010::bigint, 'a merged page moves the key from its request key to its response key');
SELECT ok((SELECT key_advanced_at = now() FROM vtj.chain), 'key_advanced_at is set');
UPDATE vtj.chain SET key_advanced_at = now() - interval '1 day';
SELECT is((pg_temp.merge('changes', 1010, 1010, '[]')).discarded, false, 'an empty page with the same key merges');
SELECT ok((SELECT key_advanced_at < now() FROM vtj.chain), 'but does not count as an advance');
SELECT is((SELECT kirjausavain FROM vtj.status), 1010::bigint, 'vtj.status shows the key');

-- ---------------------------------------------------------------------------
-- idempotence: the same page applied twice (key set back in between)
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE page AS SELECT jsonb_build_array(
  pg_temp.rec('010101-901S', $j$[
    {"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Matti","sukunimi":"Uusi","alkupv":{"arvo":"2024-05-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"AIDINKIELI","muutosattribuutti":"KORJATTAVA","kielikoodi":"fi","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"AIDINKIELI","muutosattribuutti":"KORJATTU","kielikoodi":"sv","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"ASIOINTIKIELI","muutosattribuutti":"POISTETTU","kielikoodi":"fi","alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"},
     "voimassaolevatTiedot":[{"kielikoodi":"en","alkupv":{"arvo":"2000-01-01","tarkkuus":"PAIVA"}}]},
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"MUUTETTU","katunimi":{"fi":"Vanhakatu"},"katunumero":"1",
     "alkupv":{"arvo":"2015-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2024-04-30","tarkkuus":"PAIVA"}},
    {"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Uusikatu"},"katunumero":"2",
     "alkupv":{"arvo":"2024-05-01","tarkkuus":"PAIVA"}},
    {"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"LISATTY","kuollut":true,"kuolinpv":{"arvo":"2024-05-05","tarkkuus":"PAIVA"}},
    {"tietoryhma":"TURVAKIELTO","muutosattribuutti":"LISATTY","turvakieltoAktiivinen":false}]$j$),
  pg_temp.rec('020202-902H', '[{"tietoryhma":"AIDINKIELI","muutosattribuutti":"POISTETTU","kielikoodi":"sv"}]')) AS p;
CREATE TEMP TABLE first_apply AS SELECT * FROM pg_temp.merge('changes', 1010, 1020, (SELECT p FROM page));
CREATE TEMP TABLE s1 AS SELECT pg_temp.snapshot() AS s, (SELECT max(id) FROM vtj.change_feed) AS maxid;
UPDATE vtj.chain SET kirjausavain = 1010;
CREATE TEMP TABLE second_apply AS SELECT * FROM pg_temp.merge('changes', 1010, 1020, (SELECT p FROM page));
SELECT is((SELECT feed_rows FROM first_apply), 8, 'the page changed the register');
SELECT is((SELECT feed_rows FROM second_apply), 0, 'applied again it adds no feed row');
SELECT is(pg_temp.snapshot(), (SELECT s FROM s1), 'and leaves the same state');
SELECT is((SELECT string_agg(aidinkieli || '/' || asiointikieli || '/' || sukunimi || '/' || kuollut, ',') FROM vtj.persons WHERE hetu = '010101-901S'),
          'sv/en/Uusi/true', 'the state after the page');

-- ---------------------------------------------------------------------------
-- superseded: records older than the person's base data
-- ---------------------------------------------------------------------------
UPDATE vtj.chain SET kirjausavain = 2000;
SELECT pg_temp.base('[{"henkilotunnus":"030303-9038","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Perus","sukunimi":"Tieto"}]}]');
UPDATE vtj.chain SET kirjausavain = 1990;
SELECT is((pg_temp.merge('changes', 1990, 2000, jsonb_build_array(
    pg_temp.rec('030303-9038', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Vanha","sukunimi":"Muutos"}]'))))
          .superseded, 1, 'a page ending at the person''s base key is older than the base data: superseded');
SELECT is((SELECT etunimet FROM vtj.persons WHERE hetu = '030303-9038'), 'Perus', 'and not applied');
SELECT is((SELECT count(*)::int FROM vtj.journal WHERE hetu = '030303-9038' AND kind = 'change'), 0, 'nor journalled');
SELECT is((pg_temp.merge('changes', 2000, 2010, jsonb_build_array(
    pg_temp.rec('030303-9038', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Uusi","sukunimi":"Muutos"}]'))))
          .records, 1, 'a page after the base key applies');

-- a registered person whose base data is not loaded yet
SELECT pg_temp.reg(ARRAY['050505-905R']);
SELECT is((pg_temp.chg(jsonb_build_array(pg_temp.rec('050505-905R', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY","etunimi":"A"}]'))))
          .superseded, 1, 'records of a person not loaded yet are superseded by its coming base load');
SELECT is((SELECT count(*)::int FROM vtj.person_entry WHERE hetu = '050505-905R'), 0, 'nothing stored for it');

-- ---------------------------------------------------------------------------
-- unregistered
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE ru AS SELECT * FROM pg_temp.chg(jsonb_build_array(
    pg_temp.rec('060606-906F', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY","etunimi":"Ei"},{"tietoryhma":"JOKU_MUU","muutosattribuutti":"LISATTY"}]')));
SELECT is((SELECT (records, unregistered, unknown_groups)::text FROM ru), '(0,1,0)', 'a record of an unregistered hetu is only counted');
SELECT is((SELECT count(*)::int FROM vtj.person_state WHERE hetu = '060606-906F')
          + (SELECT count(*)::int FROM vtj.journal WHERE hetu = '060606-906F')
          + (SELECT count(*)::int FROM vtj.change_feed WHERE hetu = '060606-906F'), 0, 'neither stored nor journalled');

-- ---------------------------------------------------------------------------
-- the merge lock and the feed order
-- ---------------------------------------------------------------------------
SELECT ok((SELECT xmax::text FROM vtj.merge_lock) = (txid_current() % 4294967296)::text,
          'the page transaction holds the row lock of vtj.merge_lock');
SELECT ok((SELECT bool_and(a.id < b.id) FROM vtj.change_feed a JOIN vtj.change_feed b ON b.run_id > a.run_id), 
          'feed ids increase with the pages');

-- ---------------------------------------------------------------------------
-- contract checks
-- ---------------------------------------------------------------------------
SELECT throws_ok($$ SELECT vtj._merge_page(pg_temp.run(), 'muutos', 1, 1, 2, '{}', '{}') $$,
                 '22023', NULL, 'an unknown kind is refused');
SELECT throws_ok($$ SELECT vtj._merge_page(pg_temp.run(), 'changes', 1, 20, 10, '{}', '{}') $$,
                 '22023', NULL, 'a key going backwards is refused');
SELECT throws_ok($$ SELECT vtj._merge_page(pg_temp.run(), 'changes', 1, 2010, 2011,
                        pg_temp.recs(jsonb_build_array(pg_temp.rec('010101-901S', '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY"}]'))),
                        ARRAY(SELECT jsonb_populate_record(e, '{"hetu": "020202-902H"}')
                                FROM unnest(pg_temp.ents(jsonb_build_array(pg_temp.rec('010101-901S',
                                     '[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY"}]')))) e)) $$,
                 '22023', NULL, 'an entry whose hetu is not its record''s is refused');
SELECT throws_ok($$ SELECT vtj._merge_page(pg_temp.run(), 'changes', 1, 2010, 2011,
                        ARRAY[ROW(1, 0, '010101-901S', NULL, NULL)::vtj._in_record, ROW(1, 1, '020202-902H', NULL, NULL)::vtj._in_record],
                        '{}') $$,
                 '22023', NULL, 'duplicate record seqs are refused');
UPDATE vtj.run SET status = 'ok', finished_at = now() WHERE id = (SELECT id FROM run_d);
SELECT throws_ok($$ SELECT vtj._merge_page((SELECT id FROM run_d), 'changes', 1, 2010, 2011, '{}', '{}') $$,
                 '55000', NULL, 'a page of a finished run is refused');

SELECT * FROM finish();
ROLLBACK;
