-- 60_operations.sql — operating the register (product.md §3 "Settings", §9):
-- waking the periodic worker, and retention.
--
-- The periodic worker itself is C (src/worker/): with
-- shared_preload_libraries = 'pg_vtj', a launcher starts one worker per
-- database of vtj.worker_databases that has this extension; each runs
-- vtj.sync() every vtj.sync_interval in a run worker, as the extension owner,
-- started_by 'worker'. pg_cron works as well (README):
--   SELECT cron.schedule_in_database('vtj', '0 * * * *', 'SELECT vtj.sync()', '<database>');
-- A worker run and a pg_cron or SQL run of the same chain exclude each other
-- (the chain's advisory lock in vtj._run_begin, and the compare-and-set of
-- the key in vtj._merge_page): a page is never applied twice.

-- ---------------------------------------------------------------------------
-- vtj.sync_now(): wakes the worker of this database at once (through its
-- latch); raises SQLSTATE 55000 when no worker is configured for it (not
-- preloaded, not in vtj.worker_databases, or on a standby). If the worker is
-- being (re)started, it is started at once and syncs first thing (NOTICE).
-- Returns at once: the run's progress is in vtj.sync_runs.
-- ---------------------------------------------------------------------------
CREATE FUNCTION vtj.sync_now() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'vtj_sync_now';
COMMENT ON FUNCTION vtj.sync_now() IS
    'Wakes the background worker of this database to sync at once; raises when no worker runs for it';

-- ---------------------------------------------------------------------------
-- Retention (product.md §3), applied by the run driver at the end of every
-- run, whoever started it (src/worker/retention.cpp, called from
-- src/pg/run.cpp), in its own transaction after the run's last one. The
-- settings are PGC_SIGHUP (the same in every session):
--
--   vtj.journal_retention    journal rows by logged_at               (30 days)
--   vtj.history_retention    ended entries of the address, language and
--                            home-municipality groups: an entry whose
--                            loppupv is older than this (Finnish date)  (30 days)
--   vtj.change_retention     change-feed rows by applied_at           (90 days)
--   vtj.run_retention        finished runs by finished_at (the latest
--                            successful run is always kept: vtj.status
--                            reports its age)                         (2 years)
--   vtj.admin_log_retention  admin log entries, through the governance
--                            layer's vtj._admin_log_retention (when
--                            installed; it logs the deletion)          (5 years)
--   vtj.deceased_retention   persons dead (kuolinpv) longer than this have
--                            every registration ended with
--                            vtj.remove_person, which deletes all their data
--                            (0: from the day after the death; a person
--                            whose kuolinpv is unknown is kept);
--                            -1 (the default) = never: death does not end a
--                            registration
--
-- For the other five, 0 keeps everything (no retention). Name history
-- (NIMENMUUTOS), names and guardianships are not history in this sense and
-- are kept while the person is registered.
--
-- The function takes the merge lock first (vtj.merge_lock, as every page
-- merge does, and then register rows like vtj._merge_page), so it never
-- interleaves with a page of a concurrent run. p_now is the clock (tests pass
-- a later one instead of waiting). Returns the rows deleted per part.
-- Internal: EXECUTE for nobody (the run driver runs as the extension owner).
-- ---------------------------------------------------------------------------

-- A retention setting in minutes (the unit these settings are defined in);
-- p_default when pg_vtj's settings are not defined in this session.
CREATE FUNCTION vtj._retention_minutes(p_name text, p_default integer) RETURNS integer
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT s.setting::integer FROM pg_catalog.pg_settings s
                      WHERE s.name = p_name AND s.unit = 'min'), p_default)
$$;

-- The history and deceased parts compare dates (loppupv, kuolinpv) with a
-- cut-off date, which moves once a day: they scan their tables only when the
-- cut-off has moved since their last pass, i.e. at the end of the first run
-- of a Finnish day (person_entry keeps only its primary key for the bulk
-- load's sake, product.md §10, so that pass reads the table). An entry that
-- arrives later the same day already past the cut-off goes the next day.
CREATE TABLE vtj.retention_state (
    id              integer PRIMARY KEY DEFAULT 1,
    history_cutoff  date,   -- the cut-off of the last history pass
    deceased_cutoff date,   -- ... and of the last deceased pass
    CONSTRAINT retention_state_one_row CHECK (id = 1)
);
COMMENT ON TABLE vtj.retention_state IS
    'One row: the cut-off dates of the last history and deceased retention passes';
-- The row is created by the first pass (not by this script), so pg_dump
-- carries it and a restore does not collide with an installed one.
SELECT pg_catalog.pg_extension_config_dump('vtj.retention_state', '');

CREATE FUNCTION vtj._apply_retention(p_now timestamptz DEFAULT pg_catalog.now()) RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_journal  integer := vtj._retention_minutes('vtj.journal_retention', 30 * 1440);
    v_history  integer := vtj._retention_minutes('vtj.history_retention', 30 * 1440);
    v_changes  integer := vtj._retention_minutes('vtj.change_retention', 90 * 1440);
    v_runs     integer := vtj._retention_minutes('vtj.run_retention', 730 * 1440);
    v_admin    integer := vtj._retention_minutes('vtj.admin_log_retention', 1825 * 1440);
    v_deceased integer := vtj._retention_minutes('vtj.deceased_retention', -1);
    n_journal  bigint := 0;
    n_history  bigint := 0;
    n_changes  bigint := 0;
    n_runs     bigint := 0;
    n_admin    bigint := 0;
    n_deceased bigint := 0;
    v_hetu     text;
    v_state    vtj.retention_state;
    v_cutoff   date;
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION 'p_now must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;

    -- One page merge or retention at a time (see vtj.merge_lock).
    PERFORM 1 FROM vtj.merge_lock FOR UPDATE;
    INSERT INTO vtj.retention_state (id) VALUES (1) ON CONFLICT (id) DO NOTHING;
    SELECT * INTO v_state FROM vtj.retention_state WHERE id = 1 FOR UPDATE;

    DELETE FROM vtj.journal j
     WHERE v_journal > 0
       AND j.logged_at < p_now - pg_catalog.make_interval(mins => v_journal);
    GET DIAGNOSTICS n_journal = ROW_COUNT;

    -- Ended on day D means current through D (Finnish date): it counts as
    -- ended from D + 1, and goes once that is v_history ago.
    v_cutoff := ((p_now - pg_catalog.make_interval(mins => v_history)) AT TIME ZONE 'Europe/Helsinki')::date;
    IF v_history > 0 AND (v_state.history_cutoff IS NULL OR v_cutoff > v_state.history_cutoff) THEN
        DELETE FROM vtj.person_entry e
         WHERE e.loppupv IS NOT NULL
           AND e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE',
                                'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE',
                                'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                                'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE',
                                'AIDINKIELI', 'ASIOINTIKIELI', 'KOTIKUNTA')
           AND e.loppupv < v_cutoff;
        GET DIAGNOSTICS n_history = ROW_COUNT;
        UPDATE vtj.retention_state SET history_cutoff = v_cutoff WHERE id = 1;
    END IF;

    DELETE FROM vtj.change_feed c
     WHERE v_changes > 0
       AND c.applied_at < p_now - pg_catalog.make_interval(mins => v_changes);
    GET DIAGNOSTICS n_changes = ROW_COUNT;

    DELETE FROM vtj.run x
     WHERE v_runs > 0
       AND x.status <> 'running'
       AND x.finished_at < p_now - pg_catalog.make_interval(mins => v_runs)
       AND x.id IS DISTINCT FROM (SELECT y.id FROM vtj.run y WHERE y.status = 'ok'
                                   ORDER BY y.finished_at DESC, y.id DESC LIMIT 1);
    GET DIAGNOSTICS n_runs = ROW_COUNT;

    -- The admin log belongs to the governance layer (70_governance.sql,
    -- installed after this file): its own retention function deletes and
    -- logs the deletion. Its cut-off is its now() minus the interval, so the
    -- interval is shifted by p_now - now().
    IF v_admin > 0 AND pg_catalog.to_regprocedure('vtj._admin_log_retention(interval)') IS NOT NULL THEN
        n_admin := vtj._admin_log_retention(pg_catalog.make_interval(mins => v_admin) - (p_now - pg_catalog.now()));
    END IF;

    v_cutoff := ((p_now - pg_catalog.make_interval(mins => GREATEST(v_deceased, 0))) AT TIME ZONE 'Europe/Helsinki')::date;
    IF v_deceased >= 0 AND (v_state.deceased_cutoff IS NULL OR v_cutoff > v_state.deceased_cutoff) THEN
        FOR v_hetu IN
            SELECT ps.hetu
              FROM vtj.person_state ps
              JOIN vtj.subject s ON s.hetu = ps.hetu
             WHERE ps.kuollut
               AND ps.kuolinpv < v_cutoff
             ORDER BY ps.hetu
        LOOP
            IF vtj.remove_person(v_hetu) THEN
                n_deceased := n_deceased + 1;
            END IF;
        END LOOP;
        UPDATE vtj.retention_state SET deceased_cutoff = v_cutoff WHERE id = 1;
    END IF;

    RETURN pg_catalog.jsonb_build_object(
        'journal', n_journal, 'history', n_history, 'changes', n_changes,
        'runs', n_runs, 'admin_log', n_admin, 'deceased', n_deceased);
END
$$;
COMMENT ON FUNCTION vtj._apply_retention(timestamptz) IS
    'Retention of journal, ended history, change feed, runs, admin log and (when set) deceased persons; run by the run driver at the end of every run';
