-- What the server-log hook replaces (src/pg/log_redact.cpp, product.md §8),
-- through vtj._log_redact(), the same code as a function: every hetu-shaped
-- token (any individual number, any century sign, either case), nothing
-- else. And vtj._raise(), through which the register functions raise their
-- errors (errhidestmt). The server log itself is checked by
-- test/harness/governance_checks.sh.
BEGIN;
SELECT plan(25);

SELECT is(vtj._log_redact('010180-9015'), '[hetu]', 'a whole hetu');
SELECT is(vtj._log_redact('statement: SELECT vtj.add_person(''010180-9015'', ''laskutus'')'),
          'statement: SELECT vtj.add_person(''[hetu]'', ''laskutus'')', 'a quoted hetu in a statement');
SELECT is(vtj._log_redact('parameters: $1 = ''170594U917U'', $2 = ''x'''), 'parameters: $1 = ''[hetu]'', $2 = ''x''',
          'a hetu in a bind parameter detail');
SELECT is(vtj._log_redact('{010180-9015,101005A9105,130190Y913V,210945+9214,150392W915B,200810F920L}'),
          '{[hetu],[hetu],[hetu],[hetu],[hetu],[hetu]}', 'every century sign, in an array literal');
SELECT is(vtj._log_redact('Key (hetu)=(020281-902W) already exists.'), 'Key (hetu)=([hetu]) already exists.',
          'a unique-violation detail');
SELECT is(vtj._log_redact('invalid input syntax for type integer: "030382-903M"'),
          'invalid input syntax for type integer: "[hetu]"', 'a PostgreSQL error message');
SELECT is(vtj._log_redact('010180-9015 020281-902W'), '[hetu] [hetu]', 'two in a row');
SELECT is(vtj._log_redact('x_010180-9015_y'), 'x_[hetu]_y', 'underscores are separators');
SELECT is(vtj._log_redact('101005a9105 x 130190y913v'), '[hetu] x [hetu]', 'lower-case signs and check characters too');
SELECT is(vtj._log_redact(E'line\n010180-9015\tend'), E'line\n[hetu]\tend', 'across line breaks and tabs');
SELECT is(vtj._log_redact('SELECT ''010180-9015'''), 'SELECT ''[hetu]''', 'at the end of the text');
-- not hetus
SELECT is(vtj._log_redact('a010180-9015'), 'a010180-9015', 'a letter before: not a token');
SELECT is(vtj._log_redact('010180-90155'), '010180-90155', 'a digit after: not a token');
SELECT is(vtj._log_redact('1010180-9015'), '1010180-9015', 'a digit before: not a token');
SELECT is(vtj._log_redact('010180-901G'), '010180-901G', 'G is no check character');
SELECT is(vtj._log_redact('010180Z9015'), '010180Z9015', 'Z is no century sign');
SELECT is(vtj._log_redact('2024-01-01 12:00:00.123+02'), '2024-01-01 12:00:00.123+02', 'timestamps stay');
SELECT is(vtj._log_redact('duration: 0.123 ms  statement: SELECT 1'), 'duration: 0.123 ms  statement: SELECT 1', 'ordinary lines stay');
SELECT is(vtj._log_redact('550e8400-e29b-41d4-a716-446655440000'), '550e8400-e29b-41d4-a716-446655440000', 'UUIDs stay');
SELECT is(vtj._log_redact(''), '', 'empty text');

-- vtj._raise
SELECT throws_ok($$SELECT vtj._raise('22023', 'a message', 'a hint')$$, '22023', 'a message', 'vtj._raise raises with the SQLSTATE and message');
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE h text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END $f$;
SELECT is(pg_temp.hint_of($$SELECT vtj._raise('22023', 'm', 'the hint')$$), 'the hint', '... and the hint');
SELECT throws_ok($$SELECT vtj._raise('zz', 'm')$$, 'XX000', 'm', 'a malformed SQLSTATE becomes XX000');
SELECT throws_ok($$SELECT vtj._raise('00000', 'm')$$, 'XX000', 'm', '... as does "successful completion"');
SELECT throws_ok($$SELECT vtj.add_person('010180-9015', 'tyontekija')$$, '22023',
                 'purpose "tyontekija" is not allowed: pg_vtj may not be used for employees'' data',
                 'the register functions raise through it with their own SQLSTATE and message');

SELECT * FROM finish();
ROLLBACK;
