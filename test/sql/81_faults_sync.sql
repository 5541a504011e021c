-- 81_faults_sync.sql — faults of the interface during CHANGE SYNC
-- (product.md §4, §7), checked against a reference database (<db>_ref, over
-- dblink) that follows the same kirjausavain chain through the same mock
-- without faults (include/reliability.psql).
--
-- Page-level faults: each case lets the mock generate 24 change records of
-- 100 registered persons on 3 pages (moves, name changes, deaths, turvakielto,
-- hetu corrections, … a fresh seed per case), reads the pages back and
-- serves them to the reference twice: first page 1 alone (the reference's
-- state at the end of page 1, K1), then all three (K3). The fault hits the
-- request of page 2 in this database. Checked: the run fails with VT001
-- naming the run, the error names phase and cause and no personal data, the
-- stored key stays at K1 and the register equals the reference's at K1
-- (page 1 merged in full, nothing of page 2); the next run completes, the
-- key reaches K3 and the register equals the reference's at K3.
--
-- A repeated page (the key set back, DVV serving merged pages again) must
-- change nothing. Malformed records (invalid UTF-8, NUL, wrong types inside
-- one record, the mock's bad_person variants) must not fail the page: the
-- other records merge, the bad one is journalled and its person re-fetched.
--
-- Runs commit: no BEGIN/ROLLBACK (the harness gives a fresh database).
\ir include/reliability.psql
SET client_min_messages = warning;
SELECT plan(526);

SELECT pg_temp.mock('POST', '/_mock/reset');
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 100}');
SELECT pg_temp.mock('POST', '/_mock/config', '{"start_key": 3000000}');
SELECT pg_temp.ref_create() IS NOT NULL AS ref_created;

CREATE TABLE pg_temp.h AS SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(100) AS hetu;
SELECT is(vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h), 'laskutus'), 100::bigint, '100 persons registered');
SELECT is(pg_temp.ref(format('SELECT vtj.add_persons(%L::text[], ''laskutus'')::text', (SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h))),
          '100', 'and in the reference');
SELECT is(pg_temp.ref_sync(), '0', 'the reference base-loads them');
SELECT is(pg_temp.try_sync(), 'no error', 'this database base-loads them');
SELECT * FROM pg_temp.same_as_ref('after the base load both registers are equal');

CREATE TABLE pg_temp.baseline (name text, value text);
INSERT INTO pg_temp.baseline VALUES ('vtj.http_retries', '0'), ('vtj.http_timeout_ms', '5000'),
    ('vtj.max_response_bytes', '262144'), ('vtj.max_retry_after', '60');
SELECT set_config(name, value, false) IS NOT NULL AS baseline FROM pg_temp.baseline;

-- expect: fail / ok (absorbed by a retry) / replay (key set back, pages
-- served again) — see the header.
CREATE TABLE pg_temp.cases (
    seq      integer PRIMARY KEY,
    name     text NOT NULL,
    rules    jsonb NOT NULL,
    settings jsonb NOT NULL DEFAULT '{}',
    expect   text NOT NULL,
    pattern  text,
    k0 bigint, k1 bigint, k3 bigint,
    ref_k1 text, ref_k3 text,
    run_before bigint,
    t0 timestamptz
);
INSERT INTO pg_temp.cases (seq, name, rules, settings, expect, pattern) VALUES
 (1,  'HTTP 500 on page 2', '[{"path": "/api/v1/muutokset", "kind": "status", "status": 500, "skip": 1}]', '{}', 'fail', '%muutokset%HTTP 500%'),
 (2,  'HTTP 502 on page 2', '[{"path": "/api/v1/muutokset", "kind": "status", "status": 502, "skip": 1}]', '{}', 'fail', '%muutokset%HTTP 502%'),
 (3,  'HTTP 503 on page 2', '[{"path": "/api/v1/muutokset", "kind": "status", "status": 503, "skip": 1}]', '{}', 'fail', '%muutokset%HTTP 503%'),
 (4,  'HTTP 503 once, retried (vtj.http_retries = 1)',
      '[{"path": "/api/v1/muutokset", "kind": "status", "status": 503, "skip": 1}]', '{"vtj.http_retries": "1"}', 'ok', NULL),
 (5,  '429 with Retry-After: 1, honoured',
      '[{"path": "/api/v1/muutokset", "kind": "status", "status": 429, "retry_after": "1", "skip": 1}]', '{"vtj.http_retries": "1"}', 'ok', NULL),
 (6,  '429 with Retry-After longer than vtj.max_retry_after',
      '[{"path": "/api/v1/muutokset", "kind": "status", "status": 429, "retry_after": "600", "skip": 1}]', '{"vtj.http_retries": "3"}', 'fail', '%Retry-After 600%'),
 (7,  'timeout: the answer comes after vtj.http_timeout_ms',
      '[{"path": "/api/v1/muutokset", "kind": "delay", "ms": 2500, "skip": 1}]', '{"vtj.http_timeout_ms": "800"}', 'fail', '%muutokset%timed out%'),
 (8,  'timeout: the body stalls half-way',
      '[{"path": "/api/v1/muutokset", "kind": "stall_mid_body", "ms": 2500, "skip": 1}]', '{"vtj.http_timeout_ms": "800"}', 'fail', '%muutokset%timed out%'),
 (9,  'connection dropped without an answer (twice)',
      '[{"path": "/api/v1/muutokset", "kind": "drop", "skip": 1, "times": 2}]', '{}', 'fail', '%muutokset%'),
 (10, 'connection reset in the middle of the body',
      '[{"path": "/api/v1/muutokset", "kind": "reset_mid_body", "skip": 1}]', '{}', 'fail', '%muutokset%'),
 (11, 'truncated JSON', '[{"path": "/api/v1/muutokset", "kind": "truncate", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (12, 'invalid JSON in the middle', '[{"path": "/api/v1/muutokset", "kind": "invalid_json", "at": "middle", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (13, 'invalid JSON at the start', '[{"path": "/api/v1/muutokset", "kind": "invalid_json", "at": "start", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (14, 'wrong JSON type: the key is a string', '[{"path": "/api/v1/muutokset", "kind": "wrong_types", "variant": "key_string", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (15, 'wrong JSON type: the key is a fraction', '[{"path": "/api/v1/muutokset", "kind": "wrong_types", "variant": "key_float", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (16, 'wrong JSON type: ajanTasalla is a string', '[{"path": "/api/v1/muutokset", "kind": "wrong_types", "variant": "bool_string", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (17, 'wrong JSON type: muutokset is an object', '[{"path": "/api/v1/muutokset", "kind": "wrong_types", "variant": "list_object", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (18, 'the key goes backwards', '[{"path": "/api/v1/muutokset", "kind": "key_backwards", "skip": 1}]', '{}', 'fail', '%earlier key%'),
 (19, 'the key does not move, page not current (page 2 repeated under its own key)',
      '[{"path": "/api/v1/muutokset", "kind": "key_backwards", "by": 0, "skip": 1}]', '{}', 'fail', '%no progress%'),
 (20, 'an empty page with ajanTasalla false', '[{"path": "/api/v1/muutokset", "kind": "empty_not_current", "skip": 1}]', '{}', 'fail', '%no progress%'),
 (21, 'oversized response (vtj.max_response_bytes = 64kB)',
      '[{"path": "/api/v1/muutokset", "kind": "oversized", "bytes": 300000, "skip": 1}]', '{"vtj.max_response_bytes": "64"}', 'fail', '%max_response_bytes%'),
 (22, 'oversized response, chunked',
      '[{"path": "/api/v1/muutokset", "kind": "oversized", "bytes": 300000, "chunked": true, "skip": 1}]', '{"vtj.max_response_bytes": "64"}', 'fail', '%max_response_bytes%'),
 (23, 'HTTP 200 with a body that is not JSON',
      '[{"path": "/api/v1/muutokset", "kind": "status", "status": 200, "body": "<html>gateway</html>", "skip": 1}]', '{}', 'fail', '%muutokset%rejected%'),
 (24, 'an error body echoing a hetu and a password is not repeated',
      '[{"path": "/api/v1/muutokset", "kind": "status", "status": 500, "skip": 1, "body": "{\"message\": \"010101-900R vtjpass\"}"}]', '{}', 'fail', '%HTTP 500%'),
 (25, 'merged pages served again (the key set back to the segment''s start)', '[]', '{}', 'replay', NULL);

-- Step 1: a generated segment of 3 pages from the current key; the reference
-- syncs page 1 alone, then all three; both of its states are recorded.
CREATE FUNCTION pg_temp.case_begin(c integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_k0 bigint := pg_temp.chain_key();
    v_pages jsonb;
    v_ref1 text;
    v_ref3 text;
BEGIN
    PERFORM pg_temp.mock('DELETE', '/_mock/faults');
    PERFORM pg_temp.mock('POST', '/_mock/changes/generate',
                         jsonb_build_object('count', 24, 'pages', 3, 'seed', 100 + c, 'start_key', v_k0)::text);
    v_pages := pg_temp.fetch_pages(v_k0, vtj._hetulist());
    PERFORM pg_temp.mock('POST', '/_mock/scenario',
                         jsonb_build_object('start_key', v_k0, 'pages', jsonb_build_array(v_pages -> 0))::text);
    v_ref1 := pg_temp.ref_sync();
    UPDATE pg_temp.cases SET ref_k1 = pg_temp.ref_canon_md5() WHERE seq = c;
    PERFORM pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', v_k0, 'pages', v_pages)::text);
    v_ref3 := pg_temp.ref_sync();
    UPDATE pg_temp.cases SET ref_k3 = pg_temp.ref_canon_md5(), k0 = v_k0,
                             k1 = (v_pages -> 0 ->> 'next_key')::bigint, k3 = (v_pages -> 2 ->> 'next_key')::bigint,
                             run_before = (SELECT coalesce(max(id), 0) FROM vtj.run)
     WHERE seq = c;
    RETURN NEXT is(jsonb_array_length(v_pages), 3, format('case %s: a generated segment of 3 pages', c));
    RETURN NEXT ok(v_ref1 ~ '^[0-9]+$' AND v_ref3 ~ '^[0-9]+$',
                   format('case %s: the reference syncs page 1, then pages 2-3 (%s + %s records)', c, v_ref1, v_ref3));
    RETURN NEXT is(pg_temp.ref('SELECT kirjausavain::text FROM vtj.status'), (v_pages -> 2 ->> 'next_key'),
                   format('case %s: the reference is at the end of the segment', c));
END
$f$;

CREATE FUNCTION pg_temp.case_arm(c integer) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    r pg_temp.cases;
BEGIN
    SELECT * INTO r FROM pg_temp.cases WHERE seq = c;
    PERFORM set_config(k, v, false) FROM jsonb_each_text(r.settings) AS s(k, v);
    PERFORM pg_temp.faults(r.rules);
    UPDATE pg_temp.cases SET t0 = clock_timestamp() WHERE seq = c;
END
$f$;

CREATE FUNCTION pg_temp.case_run(c integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_result text := pg_temp.try_sync();   -- first: nothing written in this transaction yet
    r pg_temp.cases;
    v_run vtj.run;
BEGIN
    SELECT * INTO r FROM pg_temp.cases WHERE seq = c;
    SELECT * INTO v_run FROM vtj.run WHERE id > r.run_before AND kind = 'changes' ORDER BY id LIMIT 1;
    IF r.expect = 'fail' THEN
        RETURN NEXT alike(v_result, 'VT001 pg_vtj run % failed: ' || r.pattern,
                          format('case %s (%s): the run fails with VT001 naming the run', c, r.name));
        RETURN NEXT is(v_run.status, 'failed', format('case %s: the run is recorded failed', c));
        RETURN NEXT alike(v_run.error, r.pattern, format('case %s: its error names the phase and the cause', c));
        RETURN NEXT ok(v_run.error LIKE '%' || r.k1 || '%', format('case %s: and the request key of the failing page', c));
        RETURN NEXT is(pg_temp.chain_key(), r.k1, format('case %s: the key stays at the failing page''s request key', c));
        RETURN QUERY SELECT * FROM pg_temp.same_as(r.ref_k1,
            format('case %s: page 1 is merged in full and nothing of page 2 (equal to the reference at the end of page 1)', c));
    ELSIF r.expect = 'ok' THEN
        RETURN NEXT is(v_result, 'no error', format('case %s (%s): the run absorbs the fault and completes', c, r.name));
        RETURN NEXT is(v_run.status, 'ok', format('case %s: the run is recorded ok', c));
        RETURN NEXT ok(r.name NOT LIKE '%Retry-After: 1%' OR clock_timestamp() - r.t0 >= interval '1 second',
                       format('case %s: a Retry-After is waited for', c));
        RETURN NEXT ok(true, format('case %s: (no failing page)', c));
        RETURN NEXT is(pg_temp.chain_key(), r.k3, format('case %s: the key reaches the end of the segment', c));
        RETURN QUERY SELECT * FROM pg_temp.same_as(r.ref_k3, format('case %s: the register equals the undisturbed reference', c));
    ELSE
        -- replay: first complete the segment, then set the key back
        RETURN NEXT is(v_result, 'no error', format('case %s (%s): the segment completes', c, r.name));
        RETURN NEXT is(pg_temp.chain_key(), r.k3, format('case %s: the key is at the end of the segment', c));
        RETURN QUERY SELECT * FROM pg_temp.same_as(r.ref_k3, format('case %s: the register equals the reference', c));
        PERFORM vtj.set_kirjausavain(r.k0);
        RETURN NEXT is(pg_temp.chain_key(), r.k0, format('case %s: the key is set back to the segment''s start', c));
        RETURN NEXT ok(true, format('case %s: (pages 1-3 are served again by the next run)', c));
        RETURN NEXT ok(true, format('case %s: (no failing page)', c));
    END IF;
    RETURN NEXT ok(NOT EXISTS (SELECT 1 FROM vtj.run x WHERE x.id > r.run_before
                                 AND (pg_temp.has_hetu(x.error) OR x.error LIKE '%vtjpass%')),
                   format('case %s: no run error holds a hetu, a password or a response body', c));
END
$f$;

CREATE FUNCTION pg_temp.case_disarm(c integer) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_temp.mock('DELETE', '/_mock/faults');
    PERFORM set_config(b.name, b.value, false) FROM pg_temp.baseline b;
END
$f$;

CREATE FUNCTION pg_temp.case_recover(c integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_result text := pg_temp.try_sync();
    r pg_temp.cases;
BEGIN
    SELECT * INTO r FROM pg_temp.cases WHERE seq = c;
    RETURN NEXT is(v_result, 'no error', format('case %s: the next run completes', c));
    RETURN NEXT is(pg_temp.chain_key(), r.k3, format('case %s: the key is at the end of the segment', c));
    RETURN NEXT is((SELECT count(*) FROM vtj.run WHERE status = 'running'), 0::bigint, format('case %s: no run is left running', c));
    RETURN NEXT is((SELECT count(*) FROM vtj.run x WHERE x.id > r.run_before AND x.status = 'failed'),
                   CASE r.expect WHEN 'fail' THEN 1 ELSE 0 END::bigint,
                   format('case %s: one failed run if the fault failed the run, none otherwise', c));
    RETURN QUERY SELECT * FROM pg_temp.same_as_ref(format('case %s: the register equals the undisturbed reference', c));
END
$f$;

SELECT format('SELECT * FROM pg_temp.case_begin(%s)', seq),
       format('SELECT pg_temp.case_arm(%s)', seq),
       format('SELECT * FROM pg_temp.case_run(%s)', seq),
       format('SELECT pg_temp.case_disarm(%s)', seq),
       format('SELECT * FROM pg_temp.case_recover(%s)', seq)
  FROM pg_temp.cases ORDER BY seq
\gexec

-- ==================================================================== replay of an ended entry
-- The smallest form of case 25: page 1 adds an address (LISATTY), page 2
-- ends it (MUUTETTU with loppupv). Served again (the key set back), the two
-- pages must change nothing: no second entry, no feed row.
CREATE FUNCTION pg_temp.addr(p_attr text, p_street text, p_alku date, p_loppu date) RETURNS jsonb LANGUAGE sql AS $f$
    SELECT jsonb_strip_nulls(jsonb_build_object('tietoryhma', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'muutosattribuutti', p_attr,
        'katunimi', jsonb_build_object('fi', p_street), 'katunumero', '1', 'postinumero', '00100',
        'postitoimipaikka', jsonb_build_object('fi', 'HELSINKI'), 'kuntakoodi', '091',
        'alkupv', jsonb_build_object('arvo', p_alku::text, 'tarkkuus', 'PAIVA'),
        'loppupv', CASE WHEN p_loppu IS NOT NULL THEN jsonb_build_object('arvo', p_loppu::text, 'tarkkuus', 'PAIVA') END))
$f$;
-- (dates of last week: within vtj.history_retention, so the ended entry is kept)
CREATE TABLE pg_temp.replay AS SELECT pg_temp.chain_key() AS k0,
       (SELECT hetu FROM pg_temp.h WHERE n <= 100 AND hetu IN (SELECT hetu FROM vtj.subject) ORDER BY n DESC LIMIT 1) AS hetu,
                                      (now() AT TIME ZONE 'Europe/Helsinki')::date - 6 AS d;
SELECT pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', k0, 'pages', jsonb_build_array(
    jsonb_build_object('next_key', k0 + 10, 'muutokset', jsonb_build_array(jsonb_build_object('henkilotunnus', hetu,
        'muutospv', (d - 1)::text || 'T22:00:00.000Z', 'tietoryhmat', jsonb_build_array(pg_temp.addr('LISATTY', 'Kalliotie', d, NULL))))),
    jsonb_build_object('next_key', k0 + 20, 'muutokset', jsonb_build_array(jsonb_build_object('henkilotunnus', hetu,
        'muutospv', d::text || 'T22:00:00.000Z', 'tietoryhmat', jsonb_build_array(pg_temp.addr('MUUTETTU', 'Kalliotie', d, d + 1))))))
    )::text) IS NOT NULL AS scenario FROM pg_temp.replay;
SELECT is(pg_temp.try_sync(), 'no error', 'replay: the two pages merge');
SELECT is((SELECT string_agg(f.muutosattribuutti, ',' ORDER BY f.id) FROM vtj.change_feed f, pg_temp.replay r
            WHERE f.hetu = r.hetu AND f.tietoryhma = 'VAKINAINEN_KOTIMAINEN_OSOITE'
              AND f.run_id = (SELECT max(x.id) FROM vtj.run x WHERE x.kind = 'changes')),
          'LISATTY,MUUTETTU', 'replay: the address was added and ended (two feed rows)');
CREATE TABLE pg_temp.replay_before AS
    SELECT (SELECT count(*) FROM vtj.person_entry e WHERE e.hetu = r.hetu) AS entries,
           (SELECT count(*) FROM vtj.change_feed f WHERE f.hetu = r.hetu) AS feed FROM pg_temp.replay r;
SELECT vtj.set_kirjausavain(k0) FROM pg_temp.replay;
SELECT is(pg_temp.try_sync(), 'no error', 'replay: the same pages served again');
SELECT is((SELECT count(*) FROM vtj.person_entry e, pg_temp.replay r WHERE e.hetu = r.hetu), (SELECT entries FROM pg_temp.replay_before),
          'replay: no entry is added (the ended address is not stored twice)');
SELECT is((SELECT count(*) FROM vtj.change_feed f, pg_temp.replay r WHERE f.hetu = r.hetu), (SELECT feed FROM pg_temp.replay_before),
          'replay: no feed row is added');
SELECT pg_temp.ref(format('SELECT vtj.sync()::text')) IS NOT NULL AS ref_synced;

-- ==================================================================== malformed records
-- Hand-made pages of name changes: page 1 [A, B], page 2 [X, C, D], page 3
-- [E]; the fault corrupts X's record (the first record of page 2). The mock
-- applies every served record to its persons (apply_to_persons), so a
-- re-fetch of X returns X's data as it is after the change, as DVV would.
-- Expected: the run completes, A..E are merged, X's record is journalled
-- (position and reason, no content) and counted, X is re-fetched (in the
-- same run or the next) and the visible register equals the reference's,
-- which got X's record intact. A record that no longer names its person
-- (henkilotunnus missing, a number, "123", the record a string) cannot be
-- re-fetched: the product cannot know whose change it was; then only the
-- journal row and the run's malformed count show it (see README,
-- Reliability), and X is left out of the comparison.
CREATE TABLE pg_temp.mcases (
    seq     integer PRIMARY KEY,
    name    text NOT NULL,
    rule    jsonb NOT NULL,
    named   boolean NOT NULL DEFAULT true,   -- the bad record still names its person
    run_before bigint,
    k_end   bigint
);
INSERT INTO pg_temp.mcases (seq, name, rule, named) VALUES
 (1, 'invalid UTF-8 in a name', '{"kind": "invalid_utf8"}', true),
 (2, '\u0000 in a name', '{"kind": "nul_in_string"}', true),
 (3, 'a date as a number (wrong_types date_number)', '{"kind": "wrong_types", "variant": "date_number"}', true),
 (4, 'bad record: tietoryhmat is a string', '{"kind": "bad_person", "index": 0, "variant": "tietoryhmat_string"}', true),
 (5, 'bad record: a group that is not an object', '{"kind": "bad_person", "index": 0, "variant": "group_not_object"}', true),
 (6, 'bad record: a group without tietoryhma', '{"kind": "bad_person", "index": 0, "variant": "group_without_name"}', true),
 (7, 'bad record: a date as a number', '{"kind": "bad_person", "index": 0, "variant": "date_number"}', true),
 (8, 'bad record: a string field as a number', '{"kind": "bad_person", "index": 0, "variant": "field_wrong_type"}', true),
 (9, 'bad record: an unknown muutosattribuutti', '{"kind": "bad_person", "index": 0, "variant": "unknown_attribute"}', true),
 (10, 'bad record: henkilotunnus missing', '{"kind": "bad_person", "index": 0, "variant": "missing_henkilotunnus"}', false),
 (11, 'bad record: henkilotunnus a number', '{"kind": "bad_person", "index": 0, "variant": "henkilotunnus_number"}', false),
 (12, 'bad record: henkilotunnus "123"', '{"kind": "bad_person", "index": 0, "variant": "invalid_henkilotunnus"}', false),
 (13, 'bad record: the record is a string', '{"kind": "bad_person", "index": 0, "variant": "not_object"}', false);

CREATE FUNCTION pg_temp.name_change(p_hetu text, p_first text) RETURNS jsonb LANGUAGE sql AS $f$
    SELECT jsonb_build_object('henkilotunnus', p_hetu, 'muutospv', '2026-01-01T22:00:00.000Z',
        'tietoryhmat', jsonb_build_array(jsonb_build_object('tietoryhma', 'HENKILON_NIMI',
            'muutosattribuutti', 'MUUTETTU', 'etunimi', p_first, 'sukunimi', 'Muutettu Tes',
            'etunimiUTF8', p_first, 'sukunimiUTF8', 'Muutettu Tes',
            'alkupv', jsonb_build_object('arvo', ((now() AT TIME ZONE 'Europe/Helsinki')::date)::text, 'tarkkuus', 'PAIVA'))))
$f$;
-- Persons: 90 more of the mock's population (101-190), untouched by the
-- generated segments above, so that a re-fetch returns exactly what the
-- reference holds; case m uses persons 100 + 6m-5 .. 6m (A, B, X, C, D, E).
SELECT pg_temp.mock('POST', '/_mock/population', '{"size": 200}');
INSERT INTO pg_temp.h SELECT 100 + x.n, x.hetu
  FROM (SELECT row_number() OVER () AS n, hetu FROM pg_temp.mock_hetus(90, 100) AS hetu) x;
CREATE FUNCTION pg_temp.mperson(m integer, i integer) RETURNS text LANGUAGE sql STABLE AS $f$
    SELECT hetu FROM pg_temp.h WHERE n = 100 + (m - 1) * 6 + i
$f$;
SELECT is(vtj.add_persons((SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n > 100), 'laskutus'), 90::bigint,
          '90 more persons registered');
SELECT is(pg_temp.ref(format('SELECT vtj.add_persons(%L::text[], ''laskutus'')::text',
                             (SELECT array_agg(hetu ORDER BY n) FROM pg_temp.h WHERE n > 100))), '90', 'and in the reference');
SELECT pg_temp.mock('DELETE', '/_mock/scenario');
SELECT is(pg_temp.ref_sync(), '0', 'the reference base-loads them');
SELECT is(pg_temp.try_sync(), 'no error', 'this database base-loads them');

CREATE FUNCTION pg_temp.mcase_begin(m integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_k0 bigint := pg_temp.chain_key();
    v_ref text;
BEGIN
    PERFORM pg_temp.mock('DELETE', '/_mock/faults');
    PERFORM pg_temp.mock('POST', '/_mock/scenario', jsonb_build_object('start_key', v_k0, 'apply_to_persons', true, 'pages', jsonb_build_array(
        jsonb_build_object('next_key', v_k0 + 10, 'muutokset', jsonb_build_array(
            pg_temp.name_change(pg_temp.mperson(m, 1), 'Aatu' || m), pg_temp.name_change(pg_temp.mperson(m, 2), 'Beea' || m))),
        jsonb_build_object('next_key', v_k0 + 20, 'muutokset', jsonb_build_array(
            pg_temp.name_change(pg_temp.mperson(m, 3), 'Xaver' || m), pg_temp.name_change(pg_temp.mperson(m, 4), 'Ceci' || m),
            pg_temp.name_change(pg_temp.mperson(m, 5), 'Daavid' || m))),
        jsonb_build_object('next_key', v_k0 + 30, 'muutokset', jsonb_build_array(
            pg_temp.name_change(pg_temp.mperson(m, 6), 'Eemeli' || m)))))::text);
    v_ref := pg_temp.ref_sync();
    UPDATE pg_temp.mcases SET run_before = (SELECT coalesce(max(id), 0) FROM vtj.run), k_end = v_k0 + 30 WHERE seq = m;
    RETURN NEXT is(v_ref, '6', format('malformed %s: the reference applies the 6 records', m));
END
$f$;

CREATE FUNCTION pg_temp.mcase_arm(m integer) RETURNS void LANGUAGE sql AS $f$
    SELECT pg_temp.faults(jsonb_build_array((SELECT rule FROM pg_temp.mcases WHERE seq = m)
                                            || '{"path": "/api/v1/muutokset", "skip": 1}'::jsonb))
$f$;

CREATE FUNCTION pg_temp.mcase_run(m integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_result text := pg_temp.try_sync();
    r pg_temp.mcases;
    v_run vtj.run;
    v_names text[] := ARRAY['Aatu' || m, 'Beea' || m, 'Xaver' || m, 'Ceci' || m, 'Daavid' || m, 'Eemeli' || m];
BEGIN
    SELECT * INTO r FROM pg_temp.mcases WHERE seq = m;
    SELECT * INTO v_run FROM vtj.run WHERE id > r.run_before AND kind = 'changes' ORDER BY id LIMIT 1;
    RETURN NEXT is(v_result, 'no error', format('malformed %s (%s): the run completes', m, r.name));
    RETURN NEXT is(pg_temp.chain_key(), r.k_end, format('malformed %s: the key moves past the page', m));
    RETURN NEXT is((SELECT array_agg(p.etunimet ORDER BY i) FROM generate_series(1, 6) i
                      JOIN vtj.persons p ON p.hetu = pg_temp.mperson(m, i) WHERE i <> 3),
                   ARRAY['Aatu' || m, 'Beea' || m, 'Ceci' || m, 'Daavid' || m, 'Eemeli' || m],
                   format('malformed %s: the other records of the page and of the other pages are merged', m));
    RETURN NEXT ok(EXISTS (SELECT 1 FROM vtj.journal j WHERE j.run_id = v_run.id AND j.kind = 'malformed'
                             AND j.position = 0 AND j.error IS NOT NULL),
                   format('malformed %s: the record is journalled as malformed with its position', m));
    RETURN NEXT ok(NOT EXISTS (SELECT 1 FROM vtj.journal j WHERE j.run_id = v_run.id AND j.kind = 'malformed'
                                 AND (pg_temp.has_hetu(j.error) OR j.error ~ 'Xaver|RIKKI|12345')),
                   format('malformed %s: the reason holds no hetu and no content', m));
END
$f$;

CREATE FUNCTION pg_temp.mcase_recover(m integer) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
    v_result text := pg_temp.try_sync();
    r pg_temp.mcases;
BEGIN
    SELECT * INTO r FROM pg_temp.mcases WHERE seq = m;
    RETURN NEXT is(v_result, 'no error', format('malformed %s: the next run completes', m));
    IF r.named THEN
        RETURN NEXT is((SELECT p.etunimet FROM vtj.persons p WHERE p.hetu = pg_temp.mperson(m, 3)), 'Xaver' || m,
                       format('malformed %s: the person of the bad record is re-fetched and current', m));
    ELSE
        RETURN NEXT is((SELECT sum(malformed) FROM vtj.run x WHERE x.id > r.run_before), 1::numeric,
                       format('malformed %s: the record that names nobody is counted in the run (malformed = 1)', m));
    END IF;
    RETURN NEXT is((SELECT stale FROM vtj.status), 0::bigint, format('malformed %s: nobody is left stale', m));
    RETURN QUERY SELECT * FROM pg_temp.same_as_ref(format('malformed %s: the persons'' visible data equal the reference''s', m),
                                                   '{}', ARRAY(SELECT pg_temp.mperson(m, i) FROM generate_series(1, 6) i
                                                                WHERE r.named OR i <> 3));
END
$f$;

-- the malformed cases compare what the views show (a re-fetch stores a
-- person's data as base data, the reference as change entries)
SET pgvtj_rel.relations = 'vtj.persons,vtj.addresses,vtj.name_history,vtj.guardianships,vtj.hetu_history,vtj.register';
SELECT format('SELECT * FROM pg_temp.mcase_begin(%s)', seq),
       format('SELECT pg_temp.mcase_arm(%s)', seq),
       format('SELECT * FROM pg_temp.mcase_run(%s)', seq),
       $$SELECT pg_temp.mock('DELETE', '/_mock/faults')$$,
       format('SELECT * FROM pg_temp.mcase_recover(%s)', seq)
  FROM pg_temp.mcases ORDER BY seq
\gexec

-- ==================================================================== every record malformed
-- Every henkilotunnus of page 2 is a number (wrong_types hetu_number): no
-- record of that page names its person. The other pages merge; the three
-- records are journalled and counted, never stored under a wrong person.
INSERT INTO pg_temp.mcases (seq, name, rule, named) VALUES (14, 'every hetu of page 2 a number', '{}', false);
SELECT * FROM pg_temp.mcase_begin(14);
SELECT pg_temp.faults('[{"path": "/api/v1/muutokset", "kind": "wrong_types", "variant": "hetu_number", "skip": 1}]');
SELECT is(pg_temp.try_sync(), 'no error', 'every hetu of a page a number: the run completes');
SELECT pg_temp.mock('DELETE', '/_mock/faults');
SELECT is(pg_temp.try_sync(), 'no error', 'the next run completes');
SELECT is((SELECT array_agg(coalesce(p.etunimet, '-') ORDER BY i) FROM generate_series(1, 6) i
             LEFT JOIN vtj.persons p ON p.hetu = pg_temp.mperson(14, i) WHERE i IN (1, 2, 6)),
          ARRAY['Aatu14', 'Beea14', 'Eemeli14'], 'the records of the other pages are merged');
SELECT is((SELECT sum(malformed) FROM vtj.run x WHERE x.id > (SELECT run_before FROM pg_temp.mcases WHERE seq = 14)),
          3::numeric, 'the three records that name nobody are counted malformed');
SELECT is((SELECT count(*) FROM vtj.persons p WHERE p.etunimet IN ('Xaver14', 'Ceci14', 'Daavid14')), 0::bigint,
          'and stored under nobody');

SELECT * FROM pg_temp.same_as_ref('in the end everything the views show equals the undisturbed reference (but for the changes of records that named nobody)',
                                  '{}', ARRAY(SELECT hetu FROM vtj.subject
                                               EXCEPT SELECT pg_temp.mperson(seq, i) FROM pg_temp.mcases, generate_series(3, 5) i
                                                       WHERE NOT named AND (seq = 14 OR i = 3)));
RESET pgvtj_rel.relations;
SELECT pg_temp.ref_drop();
SELECT * FROM finish();
