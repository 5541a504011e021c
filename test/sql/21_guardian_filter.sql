-- 21_guardian_filter.sql — vtj._guardian_tiedot (src/pg/guardian_functions.cpp):
-- the merge's second filter of guardianship details keeps exactly the
-- decoder's allow-list, at any depth; arrays and scalars pass through.
BEGIN;
SELECT plan(9);

SELECT is(vtj._guardian_tiedot('{"rooli": "EDUNVALVOJA", "katuosoite": "Testikatu 1"}'),
          '{"rooli": "EDUNVALVOJA"}'::jsonb, 'a key outside the list goes, with its value');
SELECT is(vtj._guardian_tiedot('{"osoite": {"katunimi": {"fi": "Testikatu"}, "postinumero": "00100"}, "alkupv": {"arvo": "2020-01-01", "tarkkuus": "PAIVA"}}'),
          '{"alkupv": {"arvo": "2020-01-01", "tarkkuus": "PAIVA"}}'::jsonb,
          'a dropped key''s nested object goes whole, even where it holds allowed keys (fi)');
SELECT is(vtj._guardian_tiedot('{"nykyisetEdunvalvojat": [{"henkilo": {"henkilotunnus": "010181-999K", "sukunimi": "Testi", "osoite": "x"}, "tehtavat": [{"fi": "Talous", "koodi": 1}]}, {"puhelin": "0"}]}'),
          '{"nykyisetEdunvalvojat": [{"henkilo": {"henkilotunnus": "010181-999K", "sukunimi": "Testi"}, "tehtavat": [{"fi": "Talous"}]}, {}]}'::jsonb,
          'filtered at every depth, inside arrays; array order and length kept');
SELECT is(vtj._guardian_tiedot('{"osoitteet": [[{"katu": 1}], 2], "nimi": "A"}'),
          '{"nimi": "A"}'::jsonb, 'a dropped key''s nested array goes whole');
SELECT is(vtj._guardian_tiedot('{}'), '{}'::jsonb, 'an empty object stays empty');
SELECT is(vtj._guardian_tiedot('{"a": 1, "b": {"c": 2}}'), '{}'::jsonb, 'nothing allowed: an empty object');
SELECT is(vtj._guardian_tiedot('[1, {"nimi": "B", "x": null}, "s"]'), '[1, {"nimi": "B"}, "s"]'::jsonb,
          'a top-level array: elements kept, objects filtered');
SELECT is(vtj._guardian_tiedot('"text"'), '"text"'::jsonb, 'a top-level scalar comes back as it was');
SELECT is(vtj._guardian_tiedot(NULL), NULL, 'NULL in, NULL out');

SELECT * FROM finish();
ROLLBACK;
