-- The C++/PostgreSQL boundary: C++ exceptions become PostgreSQL errors with
-- the intended SQLSTATE; PostgreSQL errors inside C++ become C++ exceptions
-- (destructors run) and reach the client with their SQLSTATE, without DETAIL.
BEGIN;
SELECT plan(12);

SELECT throws_ok($$SELECT vtj._selftest_boundary('cpp_exception')$$,
                 'XX000', 'forced C++ exception', 'a C++ exception becomes an internal error');
SELECT throws_ok($$SELECT vtj._selftest_boundary('sql_error')$$,
                 '22023', 'forced SQL error', 'an SqlError keeps its SQLSTATE and message');
SELECT throws_ok($$SELECT vtj._selftest_boundary('bad_alloc')$$,
                 '53200', NULL, 'std::bad_alloc becomes out of memory');
SELECT throws_ok($$SELECT vtj._selftest_boundary('unknown_exception')$$,
                 'XX000', 'unknown C++ exception in pg_vtj', 'a non-std exception is caught too');

SELECT is(vtj._selftest_boundary('destructors'), 0, 'no destructor counted before the PG error test');
SELECT throws_ok($$SELECT vtj._selftest_boundary('pg_error')$$,
                 '22012', 'forced PostgreSQL error', 'a PostgreSQL error crosses C++ and keeps its SQLSTATE');
SELECT is(vtj._selftest_boundary('destructors'), 1, 'the C++ objects alive around it were destroyed');
SELECT throws_ok($$SELECT vtj._selftest_boundary('spi_error')$$,
                 '42P01', NULL, 'an SPI error is re-raised with its SQLSTATE');
SELECT is(vtj._selftest_boundary('destructors'), 2, 'destructors ran for the SPI error too');
SELECT is(vtj._selftest_boundary('pg_error_caught'), 1, 'C++ can catch a PostgreSQL error and go on');

-- DETAIL and CONTEXT are dropped at the edge (they can carry key values).
CREATE FUNCTION pg_temp.error_detail(kind text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE d text; h text;
BEGIN
    PERFORM vtj._selftest_boundary(kind);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN coalesce(d, '') || '|' || coalesce(h, '');
END $f$;
SELECT is(pg_temp.error_detail('pg_error'), '|forced hint', 'DETAIL is stripped, HINT kept');
SELECT lives_ok($$SELECT vtj._selftest_boundary('ok')$$, 'the backend is healthy afterwards');

SELECT * FROM finish();
ROLLBACK;
