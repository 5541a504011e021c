-- 11_add_persons.sql — vtj.add_persons: all or nothing, positions in the
-- error, no hetu in it, duplicates, customer_refs, NULLs, 100,000 elements.
BEGIN;
SELECT plan(40);

-- n valid test hetus (individual numbers 900-999, 1900s dates from first_day),
-- check character by the mod-31 rule.
CREATE FUNCTION pg_temp.test_hetus(n integer, first_day date DEFAULT '1950-01-01') RETURNS text[]
    LANGUAGE sql AS $$
    SELECT array_agg(b || substr('0123456789ABCDEFHJKLMNPRSTUVWXY',
                                 ((substr(b, 1, 6) || substr(b, 8, 3))::bigint % 31)::int + 1, 1) ORDER BY i)
      FROM (SELECT i, to_char(first_day + i / 100, 'DDMMYY') || '-' || (900 + i % 100)::text AS b
              FROM generate_series(0, n - 1) AS i) s
$$;
CREATE FUNCTION pg_temp.error_of(q text, a text[] DEFAULT NULL, b text[] DEFAULT NULL) RETURNS text[]
    LANGUAGE plpgsql AS $$
DECLARE
    st text; m text; d text; h text; c text;
BEGIN
    EXECUTE q USING a, b;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL,
                            h = PG_EXCEPTION_HINT, c = PG_EXCEPTION_CONTEXT;
    RETURN ARRAY[st, m, d, h, c];
END
$$;

-- The database may hold registrations of other tests: count relative to these.
CREATE TEMP TABLE base AS
SELECT (SELECT count(*) FROM vtj.registration) AS reg, (SELECT count(*) FROM vtj.subject) AS sub;
CREATE TEMP TABLE mine (hetu text);
INSERT INTO mine VALUES ('010594Y9032'), ('010594Y9021'), ('020594X903P'), ('020594X902N');

CREATE TEMP TABLE h100 AS SELECT pg_temp.test_hetus(100) AS a;
SELECT is((SELECT cardinality(vtj._hetu_invalid_positions(a)) FROM h100), 0, 'the generator makes valid hetus');
SELECT is((SELECT count(DISTINCT x) FROM h100, unnest(a) x), 100::bigint, '... distinct ones');

-- Atomicity and positions -------------------------------------------------------------------
-- 3 bad among 100: positions 7, 50 and 100.
CREATE TEMP TABLE bad3 AS
SELECT array_agg(CASE WHEN i = 7 THEN left(x, 10) || CASE WHEN right(x, 1) = 'O' THEN 'G' ELSE 'O' END
                      WHEN i = 50 THEN NULL
                      WHEN i = 100 THEN lower(x) || ' '
                      ELSE x END ORDER BY i) AS a,
       array_agg(x ORDER BY i) AS orig
  FROM h100, unnest(a) WITH ORDINALITY AS u(x, i);
CREATE TEMP TABLE e3 AS SELECT pg_temp.error_of('SELECT vtj.add_persons($1, ''laskutus'')', a) AS e FROM bad3;
SELECT is((SELECT e[1] FROM e3), '22023', '3 bad among 100: SQLSTATE 22023');
SELECT is((SELECT e[2] FROM e3), 'add_persons: 3 of 100 hetus are invalid (positions 7, 50, 100); nothing was added',
          '... the message gives the count and the positions');
SELECT is((SELECT count(*) FROM vtj.registration), (SELECT reg FROM base), '... nothing was added');
SELECT is((SELECT count(*) FROM vtj.subject), (SELECT sub FROM base), '... not even subject rows');
SELECT is((SELECT count(*) FROM e3, bad3, unnest(bad3.orig || bad3.a) AS x, unnest(e3.e[2:5]) AS t
            WHERE x IS NOT NULL AND (strpos(t, x) > 0 OR strpos(t, left(x, 6)) > 0 OR strpos(t, substr(x, 8, 4)) > 0)),
          0::bigint, '... and no text of the error contains any input hetu or part of one');

-- 30 bad: the first 20 positions and the rest counted.
CREATE TEMP TABLE e30 AS
SELECT pg_temp.error_of('SELECT vtj.add_persons($1, ''laskutus'')',
                        (SELECT array_agg(CASE WHEN i % 3 = 0 THEN 'x' ELSE v END ORDER BY i)
                           FROM h100, unnest(a) WITH ORDINALITY AS u(v, i))) AS e;
SELECT is((SELECT e[2] FROM e30),
          'add_persons: 33 of 100 hetus are invalid (positions 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60 and 13 more); nothing was added',
          'more than 20 invalid: the first 20 positions and how many more');
SELECT is((pg_temp.error_of('SELECT vtj.add_persons($1, ''laskutus'')', ARRAY['010594Y9032', '010594Y903O']))[2],
          'add_persons: 1 of 2 hetus are invalid (position 2); nothing was added', 'one invalid: "position"');
SELECT is((pg_temp.error_of('SELECT vtj.add_persons($1, ''laskutus'')', ARRAY[NULL::text]))[1], '22023',
          'a NULL element is invalid');
SELECT is((pg_temp.error_of('SELECT vtj.add_persons($1, ''laskutus'')', '[0:1]={010594Y9032,bad}'::text[]))[2],
          'add_persons: 1 of 2 hetus are invalid (position 2); nothing was added',
          'positions count from 1 whatever the lower bound');
SELECT throws_ok($$SELECT vtj.add_persons('{{010594Y9032},{010594Y9021}}'::text[], 'laskutus')$$, '2202E', NULL,
                 'a two-dimensional array is refused');
SET LOCAL vtj.allow_test_hetus = off;
SELECT is((pg_temp.error_of('SELECT vtj.add_persons($1, ''laskutus'')', ARRAY['010594Y9032', '010594Y9021']))[2],
          'add_persons: 2 of 2 hetus are invalid (positions 1, 2); nothing was added',
          'with vtj.allow_test_hetus off test hetus are invalid');
RESET vtj.allow_test_hetus;

-- NULLs, empty arrays, purposes -------------------------------------------------------------
SELECT throws_ok($$SELECT vtj.add_persons(NULL, 'laskutus')$$, '22004', 'hetus must not be NULL', 'NULL array (22004)');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['010594Y9032'], NULL)$$, '22004', 'purpose must not be NULL',
                 'NULL purpose (22004)');
SELECT is(vtj.add_persons('{}', 'laskutus'), 0::bigint, 'an empty array adds nothing');
SELECT throws_ok($$SELECT vtj.add_persons('{}', 'asiakkaat')$$, '42704', NULL, 'an unknown purpose is refused even for an empty array');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['010594Y9032'], 'tyontekija')$$, '22023', NULL, 'tyontekija is refused');
SELECT lives_ok($$SELECT vtj.set_purpose('vesilaitos', enabled => false)$$, 'vesilaitos disabled');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['010594Y9032'], 'vesilaitos')$$, '22023', 'purpose "vesilaitos" is disabled',
                 'a disabled purpose is refused');
SELECT lives_ok($$SELECT vtj.set_purpose('vesilaitos', enabled => true)$$, 'vesilaitos enabled');

-- customer_refs --------------------------------------------------------------------------------
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['010594Y9032', '010594Y9021'], 'laskutus', ARRAY['a'])$$, '22023',
                 'customer_refs has 1 elements but hetus has 2; give one customer_ref per hetu, or none',
                 'fewer customer_refs than hetus is refused');
SELECT throws_ok($$SELECT vtj.add_persons(ARRAY['010594Y9032'], 'laskutus', ARRAY['a', 'b'])$$, '22023', NULL,
                 'more customer_refs than hetus is refused');
SELECT throws_ok($$SELECT vtj.add_persons('{}', 'laskutus', ARRAY['a'])$$, '22023', NULL,
                 'customer_refs for an empty array is refused');
SELECT is(vtj.add_persons(ARRAY['010594Y9032', '010594Y9021', '010594Y9032', '020594X903P', '010594Y9032'],
                          'laskutus', ARRAY['r1', 'r2', 'r3', NULL, NULL]),
          3::bigint, 'duplicates within the array count once');
SELECT results_eq(
    $$SELECT hetu COLLATE "default", customer_ref FROM vtj.registration
       WHERE purpose = 'laskutus' AND hetu IN (SELECT hetu FROM mine) ORDER BY 1$$,
    $$VALUES ('010594Y9021', 'r2'), ('010594Y9032', 'r3'), ('020594X903P', NULL)$$,
    'a repeated hetu keeps its last non-NULL customer_ref');
SELECT is(vtj.add_persons(ARRAY['010594Y9032', '020594X903P', '020594X902N'], 'laskutus',
                          ARRAY[NULL, 'r4', 'r5']), 1::bigint, 'only new pairs are counted');
SELECT results_eq(
    $$SELECT hetu COLLATE "default", customer_ref FROM vtj.registration
       WHERE purpose = 'laskutus' AND hetu IN (SELECT hetu FROM mine) ORDER BY 1$$,
    $$VALUES ('010594Y9021', 'r2'), ('010594Y9032', 'r3'), ('020594X902N', 'r5'), ('020594X903P', 'r4')$$,
    'an existing pair keeps its customer_ref on NULL and takes a given one');
SELECT is(vtj.add_persons(ARRAY['010594Y9032', '020594X903P'], 'vesilaitos'), 2::bigint,
          'the same hetus for another purpose are new pairs');
SELECT is((SELECT count(*) FROM vtj.subject), (SELECT sub + 4 FROM base), '... and no new subject rows');

-- 100,000 elements -------------------------------------------------------------------------------
CREATE TEMP TABLE big AS SELECT pg_temp.test_hetus(100000, '1960-01-01') AS a;
SELECT is((SELECT count(DISTINCT x) FROM big, unnest(a) x), 100000::bigint, '100,000 distinct test hetus');
CREATE TEMP TABLE t0 AS SELECT clock_timestamp() AS t;
SELECT is(vtj.add_persons(a, 'asiakasrekisteri', (SELECT array_agg('c' || i) FROM generate_series(1, 100000) i)),
          100000::bigint, 'add_persons of 100,000 hetus with customer_refs returns 100000')
  FROM big;
CREATE TEMP TABLE t1 AS SELECT clock_timestamp() AS t;
SELECT cmp_ok((SELECT t FROM t1) - (SELECT t FROM t0), '<', interval '20 seconds',
              '... in under 20 s');
SELECT diag('100,000-element add_persons took ' || ((SELECT t FROM t1) - (SELECT t FROM t0))::text);
SELECT is((SELECT count(*) FROM vtj.registration g JOIN (SELECT unnest(a) AS h FROM big) b ON b.h = g.hetu
            WHERE g.purpose = 'asiakasrekisteri'),
          100000::bigint, '100,000 registrations');
SELECT is((SELECT count(*) FROM vtj.subject), (SELECT sub + 100004 FROM base), '100,004 new subject rows');
CREATE TEMP TABLE t2 AS SELECT clock_timestamp() AS t;
SELECT is(vtj.add_persons(a, 'asiakasrekisteri'), 0::bigint, 'adding them again adds nothing') FROM big;
SELECT is(vtj.add_persons(a, 'laskutus'), 100000::bigint, '... for another purpose they are new pairs') FROM big;
CREATE TEMP TABLE t3 AS SELECT clock_timestamp() AS t;
SELECT cmp_ok((SELECT t FROM t3) - (SELECT t FROM t2), '<', interval '30 seconds',
              'two more 100,000-element calls in under 30 s');
-- one bad element at the end: nothing of the 100,000 is added
SELECT is((pg_temp.error_of('SELECT vtj.add_persons($1, ''oppilasrekisteri'')', a || 'x'::text))[2],
          'add_persons: 1 of 100001 hetus are invalid (position 100001); nothing was added',
          'one bad element among 100,001: its position, nothing added')
  FROM big;
SELECT is((SELECT count(*) FROM vtj.registration), (SELECT reg + 200006 FROM base), '... nothing was added');

SELECT * FROM finish();
ROLLBACK;
