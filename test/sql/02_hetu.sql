-- 02_hetu.sql — vtj.hetu_valid, vtj._hetu_problem, vtj._hetu_invalid_positions
-- against /work/shared/reference/test-vectors.md: every valid vector whose
-- individual number is 900-999 and every invalid vector; strictness; the
-- setting vtj.allow_test_hetus.
BEGIN;
SELECT plan(107);

CREATE TEMP TABLE valid_vector (hetu text, src text);
INSERT INTO valid_vector VALUES
    -- §1 DVV's fictitious test persons (new century signs)
    ('010594Y9032', '§1'), ('010594Y9021', '§1'), ('020594X903P', '§1'), ('020594X902N', '§1'),
    ('030594W903B', '§1'), ('030694W9024', '§1'), ('040594V9030', '§1'), ('040594V902Y', '§1'),
    ('050594U903M', '§1'), ('050594U902L', '§1'), ('010516B903X', '§1'), ('010516B902W', '§1'),
    ('020516C903K', '§1'), ('020516C902J', '§1'), ('030516D9037', '§1'), ('030516D9026', '§1'),
    ('010501E9032', '§1'), ('020502E902X', '§1'), ('020503F9037', '§1'), ('020504A902E', '§1'),
    ('020504B904H', '§1'),
    -- §2 published examples (individual number 9xx only)
    ('100190-999P', '§2'), ('100190Y999P', '§2'),
    -- §3 DVV sandbox persons
    ('010121A962W', '§3'), ('010188-916P', '§3'), ('010192-921W', '§3'), ('020275-9862', '§3'),
    ('240582-9477', '§3'), ('010978-9932', '§3'), ('011069-9184', '§3'), ('150327-977K', '§3'),
    ('260260-925P', '§3'), ('120514A9501', '§3'), ('010515A957D', '§3'), ('020291-904J', '§3'),
    ('120598-9999', '§3'), ('020155-997E', '§3'), ('301062-907N', '§3'), ('160976-904B', '§3'),
    -- §4 peers' mock persons (9xx only)
    ('010179-9992', '§4'), ('020180-999Y', '§4'), ('030180-999L', '§4'), ('010180-999A', '§4'),
    ('010181-999K', '§4'), ('010281-999C', '§4'), ('010568-998D', '§4'), ('010869-9983', '§4'),
    ('040180-9998', '§4'), ('050180-999W', '§4'), ('050118A999W', '§4'), ('060118A999J', '§4'),
    ('060180-999J', '§4'), ('140921A999X', '§4'),
    -- §5 valid edge cases
    ('290200A902D', '§5 2000-02-29'), ('290200F902D', '§5 2000-02-29'), ('290224B903M', '§5 2024-02-29'),
    ('010100+901H', '§5 1800-01-01'), ('311299-998D', '§5 1999-12-31'), ('010100A998M', '§5 2000-01-01');

-- input, the words the rule's sentence must contain
CREATE TEMP TABLE invalid_vector (hetu text, rule text);
INSERT INTO invalid_vector VALUES
    ('010190-999K', 'check character'), ('010190Y999K', 'check character'),
    ('123456+789',  '11 characters'),
    ('990101A1234', 'date'), ('000101A1234', 'date'), ('320101A1234', 'date'),
    ('123456:7890', 'century sign'),
    ('191086-838I', 'check character'), ('321086-838X', 'date'),
    ('150715J0101', 'century sign'),
    ('150799-0101', 'check character'), ('150715A0101', 'check character'),
    ('010118-9999', 'check character'), ('010101-1230', 'check character'),
    -- a valid code with its last character replaced by O, G, I, Q, Z
    ('010594Y903O', 'check character'), ('010594Y903G', 'check character'),
    ('010594Y903I', 'check character'), ('010594Y903Q', 'check character'),
    ('010594Y903Z', 'check character'),
    ('290200-902D', 'date'), ('290200Y902D', 'date'), ('290223C903C', 'date'), ('310499Y904X', 'date'),
    -- strictness: no trimming, no case folding
    ('150327-977k', 'check character'), ('010594y9032', 'century sign'),
    (' 010594Y9032', '11 characters'), ('010594Y9032 ', '11 characters'), ('', '11 characters'),
    ('0105 4Y9032', 'digits'), ('01059AY9032', 'digits'), ('010594Y90A2', 'digits');

SELECT is(count(*), 59::bigint, 'fifty-nine valid vectors') FROM valid_vector;
SELECT ok(vtj.hetu_valid(hetu), format('valid (%s): %s', src, hetu)) FROM valid_vector ORDER BY src, hetu;
SELECT is(count(*), 0::bigint, 'no valid vector has a problem sentence')
  FROM valid_vector WHERE vtj._hetu_problem(hetu) IS NOT NULL;

SELECT ok(NOT vtj.hetu_valid(hetu), format('invalid (%s): %s', rule, quote_literal(hetu)))
  FROM invalid_vector ORDER BY rule, hetu;
SELECT is(count(*), 0::bigint, 'every invalid vector''s sentence names the failing rule')
  FROM invalid_vector WHERE vtj._hetu_problem(hetu) NOT LIKE '%' || rule || '%';
SELECT is(count(*), 0::bigint, 'no problem sentence echoes any part of the input')
  FROM invalid_vector i, LATERAL (SELECT vtj._hetu_problem(i.hetu) AS m) p
 WHERE length(i.hetu) >= 6
   AND (strpos(p.m, i.hetu) > 0 OR strpos(p.m, left(i.hetu, 6)) > 0 OR strpos(p.m, right(i.hetu, 4)) > 0);
SELECT ok(NOT vtj.hetu_valid(U&'\FF10\FF11' || '0594Y9032'), 'full-width digits are not digits');

SELECT is(vtj.hetu_valid(NULL), NULL, 'hetu_valid(NULL) is NULL (STRICT)');
SELECT is(vtj._hetu_problem(NULL), NULL, '_hetu_problem(NULL) is NULL (STRICT)');

-- Positions ---------------------------------------------------------------------
SELECT is(vtj._hetu_invalid_positions(ARRAY['010594Y9032', '010594Y903O', NULL, '010594Y9021', 'x']),
          ARRAY[2, 3, 5], 'invalid positions are 1-based; NULL is invalid');
SELECT is(vtj._hetu_invalid_positions('{}'::text[]), '{}'::int[], 'no positions for an empty array');
SELECT is(vtj._hetu_invalid_positions((SELECT array_agg(hetu ORDER BY hetu) FROM valid_vector)), '{}'::int[],
          'no positions when every element is valid');
SELECT is(vtj._hetu_invalid_positions('[0:2]={010594Y9032,bad,010594Y9021}'::text[]), ARRAY[2],
          'positions count from 1 whatever the array''s lower bound');
SELECT throws_ok($$SELECT vtj._hetu_invalid_positions('{{010594Y9032},{010594Y9021}}'::text[])$$,
                 '2202E', NULL, 'a two-dimensional array is refused');

-- vtj.allow_test_hetus = off (production) -----------------------------------------
SET LOCAL vtj.allow_test_hetus = off;
SELECT is(count(*), 0::bigint, 'with vtj.allow_test_hetus off no test hetu (900-999) is valid')
  FROM valid_vector WHERE vtj.hetu_valid(hetu);
SELECT matches(vtj._hetu_problem('010594Y9032'), 'test hetus', 'the sentence names the test-hetu rule');
SELECT is(vtj._hetu_invalid_positions(ARRAY['010594Y9032', '100190-999P']), ARRAY[1, 2],
          'bulk validation refuses test hetus too');
SELECT matches(vtj._hetu_problem('010594Y903O'), 'check character',
               'an otherwise invalid test code still names its own rule');
RESET vtj.allow_test_hetus;
SELECT ok(vtj.hetu_valid('010594Y9032'), 'test hetus are valid again with the default (on)');

SELECT * FROM finish();
ROLLBACK;
