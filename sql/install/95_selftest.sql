-- Boundary self-test: forces errors across the C++/PostgreSQL boundary in
-- both directions (src/pg/selftest.cpp). Superuser-only: 90_grants.sql
-- revokes EXECUTE from PUBLIC and grants it to nobody.
CREATE FUNCTION vtj._selftest_boundary(kind text) RETURNS integer
    LANGUAGE c STRICT VOLATILE
    AS 'MODULE_PATHNAME', 'vtj_selftest_boundary';
REVOKE ALL ON FUNCTION vtj._selftest_boundary(text) FROM PUBLIC;
