-- 50_runs.sql — what the run driver (src/pg/run.cpp) calls around the merge:
-- starting and ending a run, the chain key, the lists of hetus to fetch, and
-- the SQL functions that start runs (vtj.sync, vtj.load_base, ...).
--
-- A run executes in a background worker as the extension owner with
-- search_path = pg_catalog, pg_temp (src/worker/run_worker.cpp).

-- The process that executes a run: the next run tells a crashed run (its
-- process gone) from one in progress.
ALTER TABLE vtj.run ADD COLUMN pid integer;

-- Starts a run row. Runs that follow a key chain (changes, base,
-- rebaseline) exclude each other with a session-level advisory lock of the
-- run worker's own process (it dies with the process; no pooled connection is
-- involved). Returns NULL when another run of the chain holds it.
CREATE FUNCTION vtj._run_begin(p_kind text, p_started_by text, p_takes_chain boolean, p_chain_id integer)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    -- 1448364593: pg_vtj's advisory lock class ("VTJ1"); the second key is the chain.
    IF p_takes_chain AND NOT pg_catalog.pg_try_advisory_lock(1448364593, p_chain_id) THEN
        RETURN NULL;
    END IF;
    UPDATE vtj.run r
       SET status = 'failed', finished_at = pg_catalog.now(),
           error = 'the run ended without finishing (server crash, restart or terminated process)'
     WHERE r.status = 'running'
       AND (r.pid IS NULL
            OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = r.pid));
    v_id := vtj._run_start(p_kind, p_started_by, CASE WHEN p_takes_chain THEN p_chain_id END);
    UPDATE vtj.run SET pid = pg_catalog.pg_backend_pid() WHERE id = v_id;
    RETURN v_id;
END
$$;

-- Counts only the driver knows: requests sent and persons DVV billed.
CREATE FUNCTION vtj._run_progress(p_run_id bigint, p_http_requests bigint, p_billed bigint) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE vtj.run SET http_requests = p_http_requests, billed_persons = p_billed WHERE id = p_run_id
$$;

CREATE FUNCTION vtj._chain_key(p_chain_id integer) RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.kirjausavain FROM vtj.chain c WHERE c.chain_id = p_chain_id
$$;

-- The hetulista of /muutokset: every registered hetu.
CREATE FUNCTION vtj._hetulist() RETURNS text[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.array_agg(s.hetu ORDER BY s.hetu) FROM vtj.subject s
$$;

-- How many of the given hetus are not registered (load_base and
-- refresh_person refuse them: only registered hetus ever reach DVV).
CREATE FUNCTION vtj._unregistered_among(p_hetus text[]) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.count(*)::integer
      FROM pg_catalog.unnest(p_hetus) AS h(hetu)
     WHERE NOT EXISTS (SELECT 1 FROM vtj.subject s WHERE s.hetu OPERATOR(pg_catalog.=) h.hetu COLLATE "C")
$$;
REVOKE ALL ON FUNCTION vtj._unregistered_among(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vtj._unregistered_among(text[]) TO vtj_admin;

-- The SQL functions that start runs. They check the caller (vtj_admin or
-- superuser, not on a standby, not inside a transaction that changed data,
-- settings present) and run in a background worker they wait for.
CREATE FUNCTION vtj.sync() RETURNS bigint
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'vtj_sync';
COMMENT ON FUNCTION vtj.sync() IS
    'One run: base-load registered persons not yet loaded, then follow the kirjausavain chain; returns change records applied';

CREATE FUNCTION vtj.load_base(hetus text[] DEFAULT NULL) RETURNS bigint
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'vtj_load_base';
COMMENT ON FUNCTION vtj.load_base(text[]) IS
    'Base-load the given registered persons, or every registered person not yet loaded; returns persons merged';

CREATE FUNCTION vtj.refresh_person(hetu text) RETURNS boolean
    LANGUAGE c VOLATILE STRICT
    AS 'MODULE_PATHNAME', 'vtj_refresh_person';
COMMENT ON FUNCTION vtj.refresh_person(text) IS
    'Re-fetch one registered person''s base data; true when DVV returned the person';

CREATE FUNCTION vtj.rebaseline() RETURNS bigint
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'vtj_rebaseline';
COMMENT ON FUNCTION vtj.rebaseline() IS
    'After an outage longer than DVV keeps changes: new starting key, re-fetch every registered person (billed), continue the chain';

REVOKE ALL ON FUNCTION vtj.sync(), vtj.load_base(text[]), vtj.refresh_person(text), vtj.rebaseline() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION vtj.sync(), vtj.load_base(text[]), vtj.refresh_person(text) TO vtj_admin;
