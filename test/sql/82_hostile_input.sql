-- 82_hostile_input.sql — hostile input (issue 8 §4):
--   * every SQL function of the extension called with NULL for every
--     argument: no crash, no internal error (SQLSTATE class XX);
--   * malformed and lookalike hetus (Unicode digits and dashes, lowercase
--     signs, spaces, NUL-ish escapes, SQL injection, very long) through every
--     function that takes a hetu: refused with 22023, no part echoed, nothing
--     registered, no request sent to VTJ;
--   * every text field that arrives from the interface (names, addresses,
--     languages, guardians; base data and change records) filled with SQL
--     injection, format strings, control characters, bidi/zero-width
--     characters, 4-byte UTF-8 and 100 KB strings: stored verbatim (compared
--     byte for byte in the views), never executed;
--   * arrays: NULL, empty, NULL elements, 100,000 elements (valid, with one
--     invalid at the end, all invalid), mismatched customer_refs.
-- Runs commit (runs need their own transactions): no BEGIN/ROLLBACK.
\ir include/reliability.psql
SET client_min_messages = warning;
SELECT plan(42);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 20}');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 900}');
CREATE TABLE pg_temp.h AS SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(20) AS hetu;

-- A canary the injected SQL would drop or change.
CREATE TABLE public.canary (x integer);
INSERT INTO public.canary VALUES (42);

-- ===================================================================== NULL arguments
-- Every function of schema vtj (trigger functions excepted: they cannot be
-- called), every argument NULL, as superuser.
CREATE TABLE pg_temp.null_calls AS
SELECT p.oid::regprocedure::text AS sig,
       format('SELECT %s(%s)', p.oid::regproc::text,
              (SELECT coalesce(string_agg(format('NULL::%s', format_type(t, NULL)), ', ' ORDER BY o), '')
                 FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, o))) AS stmt,
       NULL::text AS outcome
  FROM pg_proc p
 WHERE p.pronamespace = 'vtj'::regnamespace AND p.prorettype <> 'trigger'::regtype
   AND p.prokind = 'f';
SELECT format($$UPDATE pg_temp.null_calls SET outcome = pg_temp.try(%L) WHERE sig = %L$$, stmt, sig)
  FROM pg_temp.null_calls ORDER BY sig
\gexec
-- (vtj._raise exists to raise the error it is given: with NULL it raises XX000)
SELECT is((SELECT string_agg(sig || ' -> ' || outcome, '; ' ORDER BY sig) FROM pg_temp.null_calls
            WHERE (outcome ~ '^(XX|58)' OR outcome IS NULL) AND sig <> 'vtj._raise(text,text,text)'),
          NULL, format('every function of vtj survives NULL arguments without an internal error (%s functions)',
                       (SELECT count(*) FROM pg_temp.null_calls)));
SELECT diag(string_agg(sig || ' -> ' || left(outcome, 100), E'\n' ORDER BY sig)) FROM pg_temp.null_calls;

-- ===================================================================== hostile hetus
CREATE TABLE pg_temp.bad (label text, v text);
INSERT INTO pg_temp.bad
SELECT label, v FROM (SELECT hetu AS good, substr(hetu, 1, 6) AS d, substr(hetu, 7, 1) AS s,
                             substr(hetu, 8, 3) AS nnn, substr(hetu, 11, 1) AS c
                        FROM (SELECT hetu FROM pg_temp.mock_hetus(200, 5000) AS hetu
                               WHERE hetu ~ '^[0-9]{6}[A-FU-Y][0-9]{3}[A-Y]$' LIMIT 1) x) g,
LATERAL (VALUES
    ('empty', ''),
    ('spaces', '           '),
    ('leading space', ' ' || good),
    ('trailing space', good || ' '),
    ('trailing newline', good || E'\n'),
    ('tab inside', d || E'\t' || nnn || c),
    ('no-break space sign', d || U&'\00A0' || nnn || c),
    ('zero-width space inside', d || U&'\200B' || s || nnn || c),
    ('BOM before', U&'\FEFF' || good),
    ('combining mark after', good || U&'\0301'),
    ('lowercase check character', d || s || nnn || lower(c) || ''),
    ('lowercase century sign', d || lower(s) || nnn || c),
    ('hyphen U+2010 as sign', d || U&'\2010' || nnn || c),
    ('non-breaking hyphen U+2011', d || U&'\2011' || nnn || c),
    ('en dash as sign', d || U&'\2013' || nnn || c),
    ('minus sign U+2212', d || U&'\2212' || nnn || c),
    ('fullwidth hyphen-minus', d || U&'\FF0D' || nnn || c),
    ('fullwidth digits', translate(d, '0123456789', U&'\FF10\FF11\FF12\FF13\FF14\FF15\FF16\FF17\FF18\FF19') || s || nnn || c),
    ('Arabic-Indic digits', translate(d, '0123456789', U&'\0660\0661\0662\0663\0664\0665\0666\0667\0668\0669') || s || nnn || c),
    ('superscript digits', d || s || translate(nnn, '0123456789', U&'\2070\00B9\00B2\00B3\2074\2075\2076\2077\2078\2079') || c),
    ('Cyrillic lookalike check letter', d || s || nnn || CASE c WHEN 'A' THEN U&'\0410' WHEN 'E' THEN U&'\0415' ELSE U&'\0425' END),
    ('NUL escape text', good || '\0'),
    ('NUL escape %00', d || s || nnn || '%00'),
    ('symbol for NUL', d || s || nnn || U&'\2400'),
    ('SQL injection', good || '''); DROP TABLE public.canary; --'),
    ('SQL injection 2', ''' OR ''1''=''1'),
    ('dollar quoting', '$$; DROP TABLE public.canary; $$'),
    ('format string', '%s%n%x%d%p'),
    ('backslashes', '\\x41\\u0041\'),
    ('unknown century sign G', d || 'G' || nnn || c),
    ('impossible date 31 Feb', '310201' || s || nnn || c),
    ('wrong check character', d || s || nnn || CASE c WHEN '0' THEN '1' ELSE '0' END),
    ('11 digits', d || '1' || nnn || '1'),
    ('too long by one', good || 'X'),
    ('too short', left(good, 10)),
    ('1 MB', repeat(good, 95326)),
    ('control characters', E'\x01\x02\x07\x08\x1b\x7f')
) AS x(label, v);

CREATE TABLE pg_temp.bad_out (label text, fn text, outcome text);
CREATE FUNCTION pg_temp.fail_if(p boolean) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    IF p THEN
        RAISE EXCEPTION 'accepted' USING ERRCODE = 'P0001';
    END IF;
END
$f$;
CREATE FUNCTION pg_temp.import_one(p text) RETURNS bigint LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO vtj.import (hetu) VALUES (p);
    RETURN vtj.import_persons('laskutus');
END
$f$;
SELECT pg_temp.mock('DELETE', '/_mock/requests');
SELECT format($$INSERT INTO pg_temp.bad_out SELECT %L, %L, pg_temp.try(format(%L, (SELECT v FROM pg_temp.bad WHERE label = %L)))$$,
              b.label, f.fn, f.stmt, b.label)
  FROM pg_temp.bad b,
       (VALUES ('hetu_valid', 'SELECT pg_temp.fail_if(vtj.hetu_valid(%L))'),
               ('add_person', 'SELECT vtj.add_person(%L, ''laskutus'')'),
               ('add_persons', 'SELECT vtj.add_persons(ARRAY[%L], ''laskutus'')'),
               ('remove_person', 'SELECT pg_temp.fail_if(vtj.remove_person(%L))'),
               ('refresh_person', 'SELECT vtj.refresh_person(%L)'),
               ('load_base', 'SELECT vtj.load_base(ARRAY[%L])'),
               ('import_persons', 'SELECT pg_temp.import_one(%L)')) AS f(fn, stmt)
 ORDER BY b.label, f.fn
\gexec
SELECT is((SELECT count(*) FROM pg_temp.bad_out WHERE fn = 'hetu_valid' AND outcome <> 'no error'), 0::bigint,
          format('vtj.hetu_valid says false for all %s malformed and lookalike hetus', (SELECT count(*) FROM pg_temp.bad)));
SELECT is((SELECT string_agg(label || ': ' || left(outcome, 60), '; ') FROM pg_temp.bad_out
            WHERE fn IN ('add_person', 'add_persons', 'refresh_person', 'load_base', 'import_persons') AND outcome NOT LIKE '22023 %'),
          NULL, 'add_person, add_persons, refresh_person, load_base and import_persons refuse every one with 22023');
SELECT is((SELECT string_agg(label || ': ' || left(outcome, 60), '; ') FROM pg_temp.bad_out
            WHERE fn = 'remove_person' AND outcome NOT LIKE '22023 %' AND outcome <> 'no error'),
          NULL, 'remove_person refuses them (22023) or finds nothing to remove');
SELECT is((SELECT string_agg(DISTINCT o.label, ', ') FROM pg_temp.bad_out o JOIN pg_temp.bad b USING (label)
            WHERE length(b.v) >= 4 AND (position(b.v IN o.outcome) > 0 OR pg_temp.has_hetu(o.outcome)
                                        OR (length(b.v) >= 11 AND position(substr(b.v, 1, 6) IN o.outcome) > 0))),
          NULL, 'no error message echoes the input or any part of a hetu');
SELECT is((SELECT count(*) FROM vtj.register), 0::bigint, 'nothing was registered');
SELECT is((SELECT count(*) FROM vtj.import), 0::bigint, 'nothing is left in vtj.import');
SELECT is(jsonb_array_length(pg_temp.mock('GET', '/_mock/requests')), 0, 'no request reached VTJ');
SELECT is((SELECT x FROM public.canary), 42, 'the canary table is intact');

-- Hostile text in the other arguments (purposes, roles, rules, refs).
CREATE TABLE pg_temp.other_out AS
SELECT stmt, pg_temp.try(stmt) AS outcome FROM (VALUES
    ($$SELECT vtj.add_person(NULL::text, 'laskutus''; DROP TABLE public.canary; --')$$),
    ($$SELECT vtj.set_purpose('x''); DROP TABLE public.canary; --', 'kuvaus')$$),
    ($$SELECT vtj.set_purpose('laskutus', repeat('kuvaus ', 150000))$$),
    ($$SELECT vtj.set_purpose(repeat('p', 100000), 'kuvaus')$$),
    ($$SELECT vtj.grant_reader('public; DROP TABLE public.canary', NULL)$$),
    ($$SELECT vtj.grant_reader('pg_read_all_data', ARRAY['laskutus'])$$),
    ($$SELECT vtj.grant_reader('vtj_reader', ARRAY['x''; DROP TABLE public.canary; --'])$$),
    ($$SELECT vtj.revoke_reader('"; DROP TABLE public.canary; --')$$),
    ($$SELECT vtj.set_turvakielto_rule('X''; DROP TABLE public.canary; --', ARRAY['KOTIKUNTA'])$$),
    ($$SELECT vtj.set_turvakielto_rule('TIEDOT_SENSUROIDAAN', ARRAY['KOTIKUNTA''); DROP TABLE public.canary; --'])$$),
    ($$SELECT vtj.import_persons('laskutus''; DROP TABLE public.canary; --')$$),
    ($$SELECT vtj.remove_person(NULL::text, '%')$$),
    ($$SELECT * FROM vtj.admin_log_for(E'\x01''; DROP TABLE public.canary; --')$$)
) AS x(stmt)
WHERE to_regproc(substring(stmt FROM 'vtj\.[a-z_]+')) IS NOT NULL;
SELECT is((SELECT string_agg(stmt || ' -> ' || outcome, '; ') FROM pg_temp.other_out WHERE outcome ~ '^(XX|58)'), NULL,
          format('%s calls with hostile purposes, roles, rules and long texts: no internal error', (SELECT count(*) FROM pg_temp.other_out)));
SELECT diag(string_agg(left(stmt, 70) || ' -> ' || left(outcome, 90), E'\n')) FROM pg_temp.other_out;
SELECT is((SELECT x FROM public.canary), 42, 'the canary table is intact');

-- ===================================================================== interface strings
-- Every text field of every stored group filled with a hostile string, each
-- field its own (so a mix-up shows). Two persons: one through /perustiedot
-- (base load), one through a change record of /muutokset.
CREATE TABLE pg_temp.s (k text PRIMARY KEY, v text);
INSERT INTO pg_temp.s VALUES
  ('inj1',  'Robert''); DROP TABLE public.canary; --'),
  ('inj2',  '$$; SELECT pg_sleep(30); $$'),
  ('inj3',  '''||(SELECT string_agg(rolname, '','') FROM pg_roles)||'''),
  ('inj4',  '"; DROP TABLE vtj.person_entry; SELECT "'),
  ('inj5',  E'\\''; COPY public.canary TO PROGRAM ''touch /tmp/pwned''; --'),
  ('fmt',   '%s%n%x %1$s %d %% {0} ${x} \N'),
  ('ctl',   E'a\x01b\x02c\x07d\x08e\tf\ng\rh\x0bi\x0cj\x1bk\x1fl\x7fm'),
  ('bidi',  U&'\202Eevil\202C \200B\200C\200D\2060\FEFF\2028\2029\0085'),
  ('utf8',  U&'J\0069\0159\00ED Nguy\1EC5n \+01F600\+01F469\200D\+01F4BB 𝔘𝔫𝔦'),
  ('html',  '<script>alert(1)</script><img src=x onerror=alert(2)>'),
  ('bs',    E'back\\slash \\x41 \\u0041 \\\\'),
  ('quote', E'\'\'"`´’‘“”'),
  ('space', E'  lead and trail  '),
  ('nonch', U&'\FFFE\FFFF\+10FFFF'),
  ('long',  repeat(U&'\00C5', 50000)),
  ('long2', repeat('x''y;', 25000)),
  ('like',  '%_%\_[a-z]*.?+()|^$'),
  ('xml',   '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'),
  ('json',  '{"tietoryhma": "TURVAKIELTO", "turvakieltoAktiivinen": true}'),
  ('path',  '../../../../etc/passwd'),
  ('arr',   '{NULL,"a}b",}');

CREATE FUNCTION pg_temp.sv(p_k text) RETURNS text LANGUAGE sql STABLE AS $f$ SELECT v FROM pg_temp.s WHERE k = p_k $f$;
CREATE FUNCTION pg_temp.d(p date) RETURNS jsonb LANGUAGE sql AS $f$ SELECT jsonb_build_object('arvo', p::text, 'tarkkuus', 'PAIVA') $f$;

-- The groups of a person whose every free-text field is hostile.
CREATE FUNCTION pg_temp.hostile_groups(p_attr text) RETURNS jsonb LANGUAGE sql STABLE AS $f$
SELECT jsonb_agg(g - CASE WHEN p_attr IS NULL THEN 'muutosattribuutti' ELSE '' END)
  FROM (VALUES
    (jsonb_build_object('tietoryhma', 'HENKILON_NIMI', 'muutosattribuutti', p_attr,
        'etunimi', pg_temp.sv('inj1'), 'sukunimi', pg_temp.sv('inj2'),
        'etunimiUTF8', pg_temp.sv('utf8') || pg_temp.sv('ctl'), 'sukunimiUTF8', pg_temp.sv('inj3') || pg_temp.sv('bidi'),
        'alkupv', pg_temp.d(current_date - 3))),
    (jsonb_build_object('tietoryhma', 'NIMENMUUTOS', 'muutosattribuutti', p_attr, 'nimilaji', 'EDELLINEN_SUKUNIMI',
        'nimi', pg_temp.sv('fmt'), 'nimiUTF8', pg_temp.sv('long'),
        'alkupv', pg_temp.d('2001-01-01'), 'loppupv', pg_temp.d('2002-01-01'))),
    (jsonb_build_object('tietoryhma', 'AIDINKIELI', 'muutosattribuutti', p_attr, 'kielikoodi', 'fi',
        'kielikoodiISO6392', 'fin', 'nimi', pg_temp.sv('html'), 'alkupv', pg_temp.d('2001-01-01'))),
    (jsonb_build_object('tietoryhma', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'muutosattribuutti', p_attr,
        'katunimi', jsonb_build_object('fi', pg_temp.sv('inj4'), 'sv', pg_temp.sv('inj5')),
        'katunumero', pg_temp.sv('bs'), 'huoneistokirjain', pg_temp.sv('quote'), 'huoneistonumero', '007',
        'jakokirjain', pg_temp.sv('space'), 'postinumero', '00100',
        'postitoimipaikka', jsonb_build_object('fi', pg_temp.sv('nonch'), 'sv', pg_temp.sv('long2')),
        'kuntakoodi', '091', 'alkupv', pg_temp.d('2001-01-01'))),
    (jsonb_build_object('tietoryhma', 'KOTIMAINEN_POSTIOSOITE', 'muutosattribuutti', p_attr,
        'postiosoite', jsonb_build_object('fi', pg_temp.sv('like'), 'sv', pg_temp.sv('xml')),
        'postinumero', '00101', 'postitoimipaikka', jsonb_build_object('fi', pg_temp.sv('json')), 'alkupv', pg_temp.d('2001-01-01'))),
    (jsonb_build_object('tietoryhma', 'VAKINAINEN_ULKOMAINEN_OSOITE', 'muutosattribuutti', p_attr,
        'lahiosoite', pg_temp.sv('path'), 'paikkakunta', pg_temp.sv('arr'), 'valtiokoodi', '752',
        'valtionimi', pg_temp.sv('inj1'), 'alkupv', pg_temp.d('2001-01-01'))),
    (jsonb_build_object('tietoryhma', 'ULKOMAINEN_POSTIOSOITE', 'muutosattribuutti', p_attr,
        'postiosoite', pg_temp.sv('inj2'), 'postiosoiteLisarivi', pg_temp.sv('ctl'), 'postitoimipaikka', pg_temp.sv('bidi'),
        'valtiokoodi', '246', 'alkupv', pg_temp.d('2001-01-01'))),
    (jsonb_build_object('tietoryhma', 'EDUNVALVONTA', 'muutosattribuutti', p_attr, 'alkupv', pg_temp.d('2001-01-01'),
        'nykyisetEdunvalvojat', jsonb_build_array(jsonb_build_object('edunvalvoja', jsonb_build_object(
            'etunimet', pg_temp.sv('inj3'), 'sukunimi', pg_temp.sv('utf8'),
            'etunimetUTF8', pg_temp.sv('inj3'), 'sukunimiUTF8', pg_temp.sv('utf8'))))))
  ) AS x(g)
$f$;

SELECT pg_temp.mock_big('PUT', '/_mock/persons',
                        jsonb_build_object((SELECT hetu FROM pg_temp.h WHERE n = 2), pg_temp.hostile_groups(NULL))::text) IS NOT NULL AS put;
-- person 3 starts with a name only; the change record adds the rest
SELECT pg_temp.mock('PUT', '/_mock/persons', jsonb_build_object((SELECT hetu FROM pg_temp.h WHERE n = 3), jsonb_build_array(
    jsonb_build_object('tietoryhma', 'HENKILON_NIMI', 'etunimi', 'Alku', 'sukunimi', 'Tes', 'alkupv', pg_temp.d('2000-01-01'))))::text) IS NOT NULL AS put;
SELECT vtj.add_person(hetu, 'laskutus', pg_temp.sv('inj1')) FROM pg_temp.h WHERE n IN (2, 3);
SELECT is(pg_temp.try_sync(), 'no error', 'a base load of a person whose every text is hostile completes');

-- pg_temp.check_verbatim(hetu, label): every stored text equals its source.
CREATE FUNCTION pg_temp.check_verbatim(p_hetu text, p_label text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_pairs text[][];
    v_bad text[] := '{}';
    i integer;
BEGIN
    v_pairs := ARRAY[
      ARRAY['persons.etunimet', (SELECT etunimet FROM vtj.persons WHERE hetu = p_hetu), pg_temp.sv('utf8') || pg_temp.sv('ctl')],
      ARRAY['persons.sukunimi', (SELECT sukunimi FROM vtj.persons WHERE hetu = p_hetu), pg_temp.sv('inj3') || pg_temp.sv('bidi')],
      ARRAY['entry.etunimi', (SELECT etunimi FROM vtj.person_entry WHERE hetu = p_hetu AND tietoryhma = 'HENKILON_NIMI' ORDER BY id DESC LIMIT 1), pg_temp.sv('inj1')],
      ARRAY['entry.sukunimi', (SELECT sukunimi FROM vtj.person_entry WHERE hetu = p_hetu AND tietoryhma = 'HENKILON_NIMI' ORDER BY id DESC LIMIT 1), pg_temp.sv('inj2')],
      ARRAY['name_history.nimi', (SELECT nimi FROM vtj.name_history WHERE hetu = p_hetu), pg_temp.sv('long')],
      ARRAY['entry.nimi (plain)', (SELECT nimi FROM vtj.person_entry WHERE hetu = p_hetu AND tietoryhma = 'NIMENMUUTOS'), pg_temp.sv('fmt')],
      ARRAY['entry.kielinimi', (SELECT kielinimi FROM vtj.person_entry WHERE hetu = p_hetu AND tietoryhma = 'AIDINKIELI'), pg_temp.sv('html')],
      ARRAY['addresses.katunimi_fi', (SELECT katunimi_fi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('inj4')],
      ARRAY['addresses.katunimi_sv', (SELECT katunimi_sv FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('inj5')],
      ARRAY['addresses.katunumero', (SELECT katunumero FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('bs')],
      ARRAY['addresses.huoneistokirjain', (SELECT huoneistokirjain FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('quote')],
      ARRAY['addresses.jakokirjain', (SELECT jakokirjain FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('space')],
      ARRAY['addresses.postitoimipaikka_fi', (SELECT postitoimipaikka_fi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('nonch')],
      ARRAY['addresses.postitoimipaikka_sv', (SELECT postitoimipaikka_sv FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'), pg_temp.sv('long2')],
      ARRAY['addresses.katuosoite', (SELECT katuosoite FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'),
            concat_ws(' ', pg_temp.sv('inj4'), pg_temp.sv('bs'), pg_temp.sv('quote'), '7' || pg_temp.sv('space'))],
      ARRAY['addresses.postiosoite_fi', (SELECT postiosoite_fi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'KOTIMAINEN_POSTIOSOITE'), pg_temp.sv('like')],
      ARRAY['addresses.postiosoite_sv', (SELECT postiosoite_sv FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'KOTIMAINEN_POSTIOSOITE'), pg_temp.sv('xml')],
      ARRAY['addresses.postitoimipaikka_fi (postal)', (SELECT postitoimipaikka_fi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'KOTIMAINEN_POSTIOSOITE'), pg_temp.sv('json')],
      ARRAY['addresses.lahiosoite', (SELECT lahiosoite FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_ULKOMAINEN_OSOITE'), pg_temp.sv('path')],
      ARRAY['addresses.paikkakunta', (SELECT paikkakunta FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_ULKOMAINEN_OSOITE'), pg_temp.sv('arr')],
      ARRAY['addresses.valtionimi', (SELECT valtionimi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'VAKINAINEN_ULKOMAINEN_OSOITE'), pg_temp.sv('inj1')],
      ARRAY['addresses.postiosoite_fi (foreign)', (SELECT postiosoite_fi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'ULKOMAINEN_POSTIOSOITE'), pg_temp.sv('inj2')],
      ARRAY['addresses.postiosoite_lisarivi', (SELECT postiosoite_lisarivi FROM vtj.addresses WHERE hetu = p_hetu AND tietoryhma = 'ULKOMAINEN_POSTIOSOITE'), pg_temp.sv('ctl')],
      ARRAY['guardian etunimet', (SELECT g.tiedot #>> '{nykyisetEdunvalvojat,0,edunvalvoja,etunimetUTF8}' FROM vtj.guardianships g WHERE hetu = p_hetu), pg_temp.sv('inj3')],
      ARRAY['guardian sukunimi', (SELECT g.tiedot #>> '{nykyisetEdunvalvojat,0,edunvalvoja,sukunimiUTF8}' FROM vtj.guardianships g WHERE hetu = p_hetu), pg_temp.sv('utf8')]
    ];
    FOR i IN 1 .. array_length(v_pairs, 1) LOOP
        IF v_pairs[i][2] IS DISTINCT FROM v_pairs[i][3] THEN
            v_bad := v_bad || format('%s: got %s bytes %s…, sent %s bytes', v_pairs[i][1],
                                     octet_length(v_pairs[i][2]), left(quote_nullable(v_pairs[i][2]), 40), octet_length(v_pairs[i][3]));
        END IF;
    END LOOP;
    RETURN NEXT is(array_to_string(v_bad, E'\n'), '',
                   format('%s: all %s hostile texts are stored and shown byte for byte', p_label, array_length(v_pairs, 1)));
END
$f$;
SELECT * FROM pg_temp.check_verbatim((SELECT hetu FROM pg_temp.h WHERE n = 2), 'base load');
SELECT is((SELECT customer_ref FROM vtj.register WHERE hetu = (SELECT hetu FROM pg_temp.h WHERE n = 3)), pg_temp.sv('inj1'),
          'a hostile customer_ref is stored verbatim');

-- The same texts through a change record of the other person.
SELECT pg_temp.mock_big('POST', '/_mock/scenario', jsonb_build_object('start_key', 900, 'pages', jsonb_build_array(
    jsonb_build_object('muutokset', jsonb_build_array(jsonb_build_object(
        'henkilotunnus', (SELECT hetu FROM pg_temp.h WHERE n = 3), 'muutospv', '2026-01-01T22:00:00.000Z',
        'tietoryhmat', (pg_temp.hostile_groups('LISATTY') - 0)
                       || jsonb_build_array((pg_temp.hostile_groups('MUUTETTU') -> 0) || jsonb_build_object('alkupv', pg_temp.d(current_date))))))))::text)
       IS NOT NULL AS scenario;
SELECT is(pg_temp.try_sync(), 'no error', 'a change page whose every text is hostile merges');
SELECT * FROM pg_temp.check_verbatim((SELECT hetu FROM pg_temp.h WHERE n = 3), 'change records');

SELECT is((SELECT x FROM public.canary), 42, 'nothing of it was executed: the canary table is intact');
SELECT ok(to_regclass('vtj.person_entry') IS NOT NULL AND to_regclass('vtj.person_state') IS NOT NULL,
          'and so are the storage tables');
SELECT is((SELECT count(*) FROM vtj.run WHERE finished_at - started_at > interval '20 seconds'), 0::bigint,
          'no run slept (pg_sleep was not executed)');
SELECT is((SELECT count(*) FROM vtj.run WHERE status <> 'ok'), 0::bigint, 'every run completed');

-- A lone UTF-16 surrogate escape (not a character) in a name: the person is
-- malformed, never stored with garbage.
SELECT pg_temp.mock('PUT', '/_mock/persons', jsonb_build_object((SELECT hetu FROM pg_temp.h WHERE n = 4),
    jsonb_build_object('raw', format('{"henkilotunnus":"%s","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"A\ud800B","sukunimi":"Tes"}]}',
                                     (SELECT hetu FROM pg_temp.h WHERE n = 4))))::text) IS NOT NULL AS put;
SELECT vtj.add_person(hetu, 'laskutus') FROM pg_temp.h WHERE n = 4;
SELECT is(pg_temp.try_sync(), 'no error', 'a lone surrogate escape does not fail the run');
SELECT is((SELECT count(*) FROM vtj.person_entry WHERE hetu = (SELECT hetu FROM pg_temp.h WHERE n = 4)), 0::bigint,
          'the person with a lone surrogate is not stored');
SELECT ok(EXISTS (SELECT 1 FROM vtj.journal WHERE kind = 'malformed' AND hetu = (SELECT hetu FROM pg_temp.h WHERE n = 4)),
          'it is journalled as malformed');

-- ===================================================================== arrays
CREATE TABLE pg_temp.many AS SELECT array_agg(hetu ORDER BY hetu) AS a FROM pg_temp.mock_hetus(100000, 1000) AS hetu;
SELECT is(cardinality(a), 100000, '100,000 test hetus') FROM pg_temp.many;
SELECT is(pg_temp.try('SELECT vtj.add_persons(NULL, ''laskutus'')') ~ '^(no error|22023 |22004 |39004 )', true, 'add_persons(NULL): nothing or a clean error');
SELECT is(vtj.add_persons('{}', 'laskutus'), 0::bigint, 'add_persons of an empty array adds nothing');
SELECT alike(pg_temp.try('SELECT vtj.add_persons(ARRAY[NULL]::text[], ''laskutus'')'), '22%', 'add_persons(ARRAY[NULL]): a clean error');
SELECT alike(pg_temp.try(format('SELECT vtj.add_persons(%L::text[], ''laskutus'', ARRAY[''a'', ''b''])', ARRAY[(SELECT hetu FROM pg_temp.h WHERE n = 5)])),
             '22%', 'customer_refs longer than hetus: a clean error');
SELECT is(pg_temp.try('SELECT vtj.load_base(''{}'')'), 'no error', 'load_base of an empty array: nothing to do');
SELECT alike(pg_temp.try('SELECT vtj.load_base(ARRAY[NULL]::text[])'), '22%', 'load_base(ARRAY[NULL]): a clean error');
SELECT is((SELECT count(*) FROM unnest(a) x WHERE vtj.hetu_valid(x)), 100000::bigint, 'hetu_valid over 100,000 hetus') FROM pg_temp.many;

CREATE TABLE pg_temp.t0 AS SELECT clock_timestamp() AS t;
SELECT alike(pg_temp.try(format('SELECT vtj.add_persons(%L::text[], ''laskutus'')', a[1:99999] || ARRAY['311299-999X'])),
             '22023 %1 %100000%', '100,000 with one invalid at the end: refused, naming its position') FROM pg_temp.many;
SELECT is((SELECT count(*) FROM vtj.register WHERE hetu IN (SELECT unnest(a) FROM pg_temp.many)), 0::bigint, '... and nothing added (atomic)');
CREATE TABLE pg_temp.all_bad AS SELECT pg_temp.try(format('SELECT vtj.add_persons(%L::text[], ''laskutus'')',
                                                          array_agg(x || 'Q'))) AS outcome FROM unnest((SELECT a FROM pg_temp.many)) x;
SELECT alike(outcome, '22023 %100000%', '100,000 invalid: refused with the count') FROM pg_temp.all_bad;
SELECT ok(length(outcome) < 600, format('... and a bounded message (%s characters: at most 20 positions)', length(outcome))) FROM pg_temp.all_bad;
SELECT is(vtj.add_persons(a, 'laskutus', array_fill(NULL::text, ARRAY[100000])), 100000::bigint, '100,000 valid hetus added at once') FROM pg_temp.many;
SELECT is(vtj.add_persons(a, 'laskutus'), 0::bigint, '... adding them again adds nothing') FROM pg_temp.many;
SELECT pg_temp.mock('DELETE', '/_mock/requests');
SELECT alike(pg_temp.try(format('SELECT vtj.load_base(%L::text[])', a[1:99999] || ARRAY[(SELECT hetu FROM pg_temp.h WHERE n = 20)])),
             '22023 1 of the given hetus are not registered%', 'load_base of 100,000 with one unregistered: refused') FROM pg_temp.many;
SELECT is(jsonb_array_length(pg_temp.mock('GET', '/_mock/requests')), 0, '... before any request');
SELECT is(vtj.remove_person(a[1]), true, 'remove_person of one of them') FROM pg_temp.many;
SELECT ok(clock_timestamp() - (SELECT t FROM pg_temp.t0) < interval '120 seconds', 'the 100,000-element calls took bounded time');
SELECT is((SELECT x FROM public.canary), 42, 'the canary table is intact in the end');
SELECT * FROM finish();
