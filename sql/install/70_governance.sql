-- 70_governance.sql — what the data-protection officer and DVV's permit ask
-- of the register beyond fetching and merging (product.md §3, §8, §9):
--
--   vtj.admin_log            who changed the register, the purposes, the key,
--                            the turvakielto rules and the readers, and who
--                            started which run; per-person entries carry an
--                            HMAC of the hetu, never the hetu;
--   vtj.admin_log_for(hetu)  a person's entries (DVV's log investigations);
--   vtj.register             the register as readers see it (scoped);
--   vtj.grant_reader / vtj.revoke_reader   reader roles and their purposes;
--   vtj.set_kirjausavain     moving the stored key by hand (superuser);
--   vtj.set_turvakielto_rule the groups a turvakielto rule censors (superuser);
--   vtj.instance, vtj._instance_ok, vtj.adopt_instance
--                            a copy of the database restored elsewhere does
--                            not fetch until a superuser adopts it;
--   vtj._purpose_warning, vtj._instance_warning
--                            one-row views with vtj.status's warnings about
--                            purposes and copies;
--   reader scoping, applied by the views of 80_views.sql.
--
-- Privileges (90_grants.sql): vtj_admin reads vtj.admin_log and executes
-- vtj.admin_log_for, vtj.grant_reader and vtj.revoke_reader; vtj_reader reads
-- vtj.register. The superuser functions are granted to nobody and check the
-- caller themselves. Internal functions (vtj._*) are granted to nobody: the
-- extension's SECURITY DEFINER functions and the run worker call them as the
-- extension owner.
--
-- The admin log's actions:
--   register        a (hetu, purpose) registration added (add_person,
--                   add_persons, import_persons: detail.via)
--   customer_ref    the customer_ref of an existing registration changed
--   unregister      a registration ended (vtj.remove_person)
--   purge           the last registration ended: every stored datum deleted
--   purpose_add, purpose_change   vtj.set_purpose (detail: before, after)
--   reader_grant, reader_revoke   vtj.grant_reader, vtj.revoke_reader
--   kirjausavain    vtj.set_kirjausavain (detail: before, after, force)
--   turvakielto_rule  vtj.set_turvakielto_rule (detail: before, after, erased)
--   run_start       a run began (run_id; detail.kind; logged_by = the run's
--                   started_by: the session user that started it, or 'worker')
--   instance_adopt  vtj.adopt_instance
--   admin_log_retention  entries older than vtj.admin_log_retention deleted
-- Per-person actions (register, customer_ref, unregister, purge) write one
-- entry per person with hetu_hmac when vtj.hmac_key_file is set; without it,
-- one entry per call with the count and no per-person data.

-- ---------------------------------------------------------------------------
-- The hetu HMAC (C: src/pg/admin_log.cpp)
-- ---------------------------------------------------------------------------

-- Lowercase hex HMAC-SHA256(key, hetu); NULL when vtj.hmac_key_file is not
-- set; an unusable key file is an ERROR (never silently unlogged).
CREATE FUNCTION vtj._hetu_hmac(hetu text) RETURNS text
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_hetu_hmac';

-- True when vtj.hmac_key_file is set (per-person admin log entries).
CREATE FUNCTION vtj._hmac_enabled() RETURNS boolean
    LANGUAGE C STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_hmac_enabled';

-- The server-log redaction of hetu-shaped tokens, as a function (tests).
CREATE FUNCTION vtj._log_redact(message text) RETURNS text
    LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_log_redact';

-- ---------------------------------------------------------------------------
-- The admin log
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.admin_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    logged_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    logged_by name NOT NULL DEFAULT session_user,    -- session user (never current_user)
    action    text COLLATE "C" NOT NULL,
    purpose   text COLLATE "C",
    count     bigint,
    hetu_hmac text COLLATE "C",
    run_id    bigint,
    detail    jsonb,
    CONSTRAINT admin_log_action CHECK (action ~ '^[a-z][a-z_]*$'),
    CONSTRAINT admin_log_hetu_hmac CHECK (hetu_hmac IS NULL OR hetu_hmac ~ '^[0-9a-f]{64}$')
);
CREATE INDEX admin_log_hetu_hmac ON vtj.admin_log (hetu_hmac) WHERE hetu_hmac IS NOT NULL;
CREATE INDEX admin_log_logged_at ON vtj.admin_log USING brin (logged_at);
COMMENT ON TABLE vtj.admin_log IS
    'Who changed the register, purposes, key, turvakielto rules and readers, and who started runs; per-person entries carry hetu_hmac, never a hetu';
SELECT pg_catalog.pg_extension_config_dump('vtj.admin_log', '');
SELECT pg_catalog.pg_extension_config_dump('vtj.admin_log_id_seq', '');

-- One entry.
CREATE FUNCTION vtj._admin_log_write(p_action text, p_purpose text, p_count bigint, p_detail jsonb DEFAULT NULL)
    RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO vtj.admin_log (action, purpose, count, detail)
    VALUES (p_action, p_purpose, p_count, p_detail)
$$;

-- Per-person entries: one per hetu with hetu_hmac when vtj.hmac_key_file is
-- set, else one entry with the count. Nothing for an empty or NULL array.
-- Returns the number of persons.
CREATE FUNCTION vtj._admin_log_persons(p_action text, p_purpose text, p_hetus text[], p_detail jsonb DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_n bigint := COALESCE(cardinality(p_hetus), 0);
BEGIN
    IF v_n = 0 THEN
        RETURN 0;
    END IF;
    IF vtj._hmac_enabled() THEN
        INSERT INTO vtj.admin_log (action, purpose, count, hetu_hmac, detail)
        SELECT p_action, p_purpose, 1, vtj._hetu_hmac(h), p_detail
          FROM unnest(p_hetus) AS h;
    ELSE
        INSERT INTO vtj.admin_log (action, purpose, count, detail)
        VALUES (p_action, p_purpose, v_n, p_detail);
    END IF;
    RETURN v_n;
END
$$;

-- Run starts: the run driver inserts the run's row through vtj._run_start
-- (30_merge.sql) in the run worker. Only a live insert is logged (status
-- running, started now): pg_restore's COPY of vtj.run fires this trigger too,
-- with the rows' original start times, and those runs' entries come back
-- with vtj.admin_log itself.
CREATE FUNCTION vtj._admin_log_run_start() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.status = 'running' AND NEW.started_at = now() THEN
        INSERT INTO vtj.admin_log (logged_by, action, run_id, detail)
        VALUES (NEW.started_by::name, 'run_start', NEW.id, jsonb_build_object('kind', NEW.kind));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER run_admin_log AFTER INSERT ON vtj.run
    FOR EACH ROW EXECUTE FUNCTION vtj._admin_log_run_start();

-- DVV's log investigation: a person's entries, given the hetu.
CREATE FUNCTION vtj.admin_log_for(hetu text) RETURNS SETOF vtj.admin_log
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_mac text;
BEGIN
    IF admin_log_for.hetu IS NULL THEN
        PERFORM vtj._raise('22004', 'hetu must not be NULL');
    END IF;
    IF NOT vtj._hmac_enabled() THEN
        PERFORM vtj._raise('55000', 'vtj.hmac_key_file is not set, so the admin log holds no per-person entries',
            'A superuser sets vtj.hmac_key_file (postgresql.conf); entries written without it cannot be found by hetu.');
    END IF;
    v_mac := vtj._hetu_hmac(admin_log_for.hetu);
    RETURN QUERY SELECT l.* FROM vtj.admin_log l WHERE l.hetu_hmac = v_mac ORDER BY l.id;
END
$$;
COMMENT ON FUNCTION vtj.admin_log_for(text) IS
    'The admin log entries of a person (by the HMAC of the hetu; needs vtj.hmac_key_file)';

-- Retention: deletes entries older than p_older_than, by default the setting
-- vtj.admin_log_retention (5 years; 0 keeps everything); the deletion itself
-- is logged. Returns the entries deleted. For the retention step at the end
-- of every run (60_operations.sql).
CREATE FUNCTION vtj._admin_log_retention(p_older_than interval DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_keep interval := p_older_than;
    v_min  bigint;
    v_n    bigint;
BEGIN
    IF v_keep IS NULL THEN
        SELECT s.setting::bigint INTO v_min FROM pg_catalog.pg_settings s WHERE s.name = 'vtj.admin_log_retention';
        IF v_min IS NULL OR v_min <= 0 THEN
            RETURN 0;
        END IF;
        v_keep := make_interval(mins => LEAST(v_min, 2147483647)::integer);
    END IF;
    DELETE FROM vtj.admin_log l WHERE l.logged_at < now() - v_keep;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        PERFORM vtj._admin_log_write('admin_log_retention', NULL, v_n,
                                     jsonb_build_object('older_than', justify_hours(v_keep)::text));
    END IF;
    RETURN v_n;
END
$$;

-- ---------------------------------------------------------------------------
-- vtj.register: one row per (hetu, purpose) registration; a reader limited to
-- purposes (vtj.grant_reader) sees only its purposes' registrations.
-- ---------------------------------------------------------------------------

CREATE VIEW vtj.register WITH (security_barrier) AS
SELECT g.hetu, g.purpose, g.customer_ref, g.added_at, ps.base_loaded_at
  FROM vtj.registration g
  LEFT JOIN vtj.person_state ps ON ps.hetu = g.hetu
 WHERE (SELECT x.purposes FROM vtj._reader_purposes x) IS NULL
    OR g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[]);
COMMENT ON VIEW vtj.register IS
    'One row per (hetu, purpose) registration (a reader limited to purposes sees only those)';

-- ---------------------------------------------------------------------------
-- Readers
-- ---------------------------------------------------------------------------

-- Grants vtj_reader to a role and, with purposes, limits the role in this
-- database to persons registered for those purposes (NULL: lifts a limit;
-- the role sees every purpose). The GRANT is the one piece of dynamic SQL:
-- the role name comes from pg_roles and is quoted with %I.
CREATE FUNCTION vtj.grant_reader(role name, purposes text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p_role     name   := grant_reader.role;
    p_purposes text[] := grant_reader.purposes;
    r          record;
    v_unknown  text;
    v_sorted   text[];
BEGIN
    IF p_role IS NULL THEN
        PERFORM vtj._raise('22004', 'role must not be NULL');
    END IF;
    SELECT a.oid, a.rolname, a.rolsuper INTO r FROM pg_catalog.pg_roles a WHERE a.rolname = p_role;
    IF NOT FOUND THEN
        PERFORM vtj._raise('42704', format('role %s does not exist', quote_ident(p_role)));
    END IF;
    IF r.rolname IN ('vtj_reader', 'vtj_admin', 'public') OR r.rolname LIKE 'pg\_%' THEN
        PERFORM vtj._raise('22023', format('vtj.grant_reader does not grant to %s', quote_ident(r.rolname)),
            'Grant vtj_reader to the role of the application or person that reads the register.');
    END IF;
    IF p_purposes IS NOT NULL THEN
        IF cardinality(p_purposes) = 0 OR array_position(p_purposes, NULL) IS NOT NULL THEN
            PERFORM vtj._raise('22023', 'purposes must list at least one purpose and no NULL',
                'Pass NULL to let the role see every purpose.');
        END IF;
        SELECT string_agg(CASE WHEN u.p ~ '^[a-z][a-z0-9_]{0,62}$' THEN u.p ELSE '(not a purpose identifier)' END,
                          ', ' ORDER BY u.p)
          INTO v_unknown
          FROM (SELECT DISTINCT x AS p FROM unnest(p_purposes) x) u
         WHERE NOT EXISTS (SELECT 1 FROM vtj.purposes q WHERE q.purpose = u.p COLLATE "C");
        IF v_unknown IS NOT NULL THEN
            PERFORM vtj._raise('42704', format('purpose %s does not exist', v_unknown),
                'vtj.purposes lists the purposes.');
        END IF;
        IF r.rolsuper OR pg_has_role(r.oid, 'vtj_admin', 'USAGE') THEN
            PERFORM vtj._raise('22023',
                format('role %s is a superuser or a member of vtj_admin: purpose limits do not apply to it', quote_ident(r.rolname)),
                'Limit a role that only reads the register.');
        END IF;
        SELECT array_agg(DISTINCT x COLLATE "C" ORDER BY x COLLATE "C") INTO v_sorted FROM unnest(p_purposes) x;
    END IF;

    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                    WHERE m.roleid = 'vtj_reader'::regrole AND m.member = r.oid) THEN
        EXECUTE format('GRANT vtj_reader TO %I', r.rolname);
    END IF;
    IF v_sorted IS NULL THEN
        DELETE FROM vtj.reader_scope s WHERE s.role = r.oid::regrole;
    ELSE
        INSERT INTO vtj.reader_scope AS s (role, purposes, granted_at, granted_by)
        VALUES (r.oid::regrole, v_sorted, now(), session_user)
        ON CONFLICT (role) DO UPDATE
           SET purposes = EXCLUDED.purposes, granted_at = EXCLUDED.granted_at, granted_by = EXCLUDED.granted_by;
    END IF;
    PERFORM vtj._admin_log_write('reader_grant', NULL, NULL,
                                 jsonb_build_object('role', r.rolname, 'purposes', v_sorted));
END
$$;
COMMENT ON FUNCTION vtj.grant_reader(name, text[]) IS
    'Grants vtj_reader to a role; with purposes, the role sees in this database only persons registered for them';

-- Ends what vtj.grant_reader gave: the direct membership in vtj_reader and
-- the role's purpose limit in this database.
CREATE FUNCTION vtj.revoke_reader(role name) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p_role name := revoke_reader.role;
    r      record;
BEGIN
    IF p_role IS NULL THEN
        PERFORM vtj._raise('22004', 'role must not be NULL');
    END IF;
    SELECT a.oid, a.rolname INTO r FROM pg_catalog.pg_roles a WHERE a.rolname = p_role;
    IF NOT FOUND THEN
        PERFORM vtj._raise('42704', format('role %s does not exist', quote_ident(p_role)));
    END IF;
    IF r.rolname IN ('vtj_reader', 'vtj_admin') THEN
        PERFORM vtj._raise('22023', format('vtj.revoke_reader does not revoke from %s', quote_ident(r.rolname)));
    END IF;
    DELETE FROM vtj.reader_scope s WHERE s.role = r.oid::regrole;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                WHERE m.roleid = 'vtj_reader'::regrole AND m.member = r.oid) THEN
        EXECUTE format('REVOKE vtj_reader FROM %I', r.rolname);
    END IF;
    PERFORM vtj._admin_log_write('reader_revoke', NULL, NULL, jsonb_build_object('role', r.rolname));
    IF pg_has_role(r.oid, 'vtj_reader', 'USAGE') THEN
        RAISE NOTICE 'role % still has the privileges of vtj_reader through another role', quote_ident(r.rolname);
    END IF;
END
$$;
COMMENT ON FUNCTION vtj.revoke_reader(name) IS
    'Revokes vtj_reader from a role and removes its purpose limit';

-- ---------------------------------------------------------------------------
-- The kirjausavain by hand (superuser)
-- ---------------------------------------------------------------------------

-- Sets the stored key of the key chain (chain 1). Moving it forward skips
-- changes that are then never applied: that needs force. Moving it back (or
-- setting it where it is) only re-applies pages, which is harmless. Refused
-- while a run of the chain is in progress (its advisory lock). The key's
-- timestamps stay: vtj.status keeps counting from the last key obtained from
-- DVV or advanced by a merge.
CREATE FUNCTION vtj.set_kirjausavain(key bigint, force boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p_key   bigint  := set_kirjausavain.key;
    p_force boolean := COALESCE(set_kirjausavain.force, false);
    v_old   bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = current_user AND a.rolsuper) THEN
        RAISE EXCEPTION 'only a superuser may set the kirjausavain'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_key IS NULL THEN
        RAISE EXCEPTION 'key must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_key < 0 THEN
        RAISE EXCEPTION 'a kirjausavain is not negative' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- 1448364593: pg_vtj's advisory lock class (50_runs.sql); chain 1.
    IF NOT pg_try_advisory_xact_lock(1448364593, 1) THEN
        RAISE EXCEPTION 'a pg_vtj run of this register is in progress'
            USING ERRCODE = 'object_in_use', HINT = 'Wait for it to end (vtj.sync_runs), then try again.';
    END IF;
    SELECT c.kirjausavain INTO v_old FROM vtj.chain c WHERE c.chain_id = 1 FOR UPDATE;
    IF FOUND AND p_key > v_old AND NOT p_force THEN
        RAISE EXCEPTION 'moving the kirjausavain forward from % to % skips the changes in between', v_old, p_key
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass force => true if that is intended; vtj.rebaseline() re-fetches every person instead.';
    END IF;
    IF FOUND THEN
        UPDATE vtj.chain c SET kirjausavain = p_key WHERE c.chain_id = 1;
    ELSE
        INSERT INTO vtj.chain (chain_id, kirjausavain, key_obtained_at) VALUES (1, p_key, now());
    END IF;
    PERFORM vtj._admin_log_write('kirjausavain', NULL, NULL,
                                 jsonb_build_object('chain_id', 1, 'before', v_old, 'after', p_key, 'force', p_force));
END
$$;
COMMENT ON FUNCTION vtj.set_kirjausavain(bigint, boolean) IS
    'Superuser: sets the stored kirjausavain; moving it forward (skipping changes) needs force; recorded in the admin log';

-- ---------------------------------------------------------------------------
-- Turvakielto rules (superuser; the table vtj.turvakielto_rule is in
-- 20_storage.sql, product.md §6)
-- ---------------------------------------------------------------------------

-- Sets the groups a rule censors (replacing its list; an empty list removes
-- the rule). Groups are checked against the product's 18: contact addresses
-- are never censored (they exist so a protected person can be reached), and
-- TURVAKIELTO, HENKILOTUNNUS_KORJAUS and KUOLINPAIVA cannot be (they decide
-- who is protected, who the person is, and whether the person lives; none is
-- whereabouts). TIEDOT_SENSUROIDAAN keeps at least its seven groups. Every
-- stored trace of a newly censored group of a person whose prohibition is
-- active (entries, journal and feed rows) is erased at once, as a merge does
-- when a prohibition starts; the views hide the groups of every rule anyway.
CREATE FUNCTION vtj.set_turvakielto_rule(rule text, groups text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p_rule   text   := set_turvakielto_rule.rule;
    p_groups text[] := set_turvakielto_rule.groups;
    v_known  text[] := ARRAY['HENKILOTUNNUS_KORJAUS', 'HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI',
                             'ASIOINTIKIELI', 'KUOLINPAIVA', 'TURVAKIELTO', 'EDUNVALVONTA',
                             'EDUNVALVONTAVALTUUTUS', 'VAKINAINEN_KOTIMAINEN_OSOITE',
                             'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                             'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE',
                             'ULKOMAINEN_POSTIOSOITE', 'KOTIMAINEN_YHTEYSOSOITE',
                             'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA'];
    v_groups text[];
    v_bad    text;
    v_before text[];
    v_erased bigint := 0;
    v_n      bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = current_user AND a.rolsuper) THEN
        RAISE EXCEPTION 'only a superuser may change a turvakielto rule'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF p_rule IS NULL OR p_groups IS NULL THEN
        RAISE EXCEPTION 'rule and groups must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_rule !~ '^[A-Z][A-Z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'a rule name is 1 to 63 characters A-Z, 0-9 and _, starting with a letter'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF array_position(p_groups, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'groups must not contain NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT array_agg(DISTINCT g COLLATE "C" ORDER BY g COLLATE "C") INTO v_groups FROM unnest(p_groups) g;
    v_groups := COALESCE(v_groups, '{}');

    SELECT string_agg(CASE WHEN g ~ '^[A-Z][A-Z0-9_]{0,62}$' THEN g ELSE '(not a group name)' END, ', ')
      INTO v_bad FROM unnest(v_groups) g WHERE g <> ALL (v_known);
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'unknown group %: a rule names groups of the product''s 18', v_bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(g, ', ') INTO v_bad FROM unnest(v_groups) g WHERE g LIKE '%YHTEYSOSOITE';
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'contact addresses are never censored (%): they exist so that a protected person can be reached', v_bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(g, ', ') INTO v_bad FROM unnest(v_groups) g
     WHERE g IN ('TURVAKIELTO', 'HENKILOTUNNUS_KORJAUS', 'KUOLINPAIVA');
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'group % cannot be censored by a rule', v_bad
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'TURVAKIELTO decides who is protected, HENKILOTUNNUS_KORJAUS who the person is, KUOLINPAIVA whether the person lives; none is whereabouts.';
    END IF;
    IF p_rule = 'TIEDOT_SENSUROIDAAN' AND NOT (v_groups @> vtj._censored_groups()::text[]) THEN
        RAISE EXCEPTION 'rule TIEDOT_SENSUROIDAAN censors at least its seven groups: %',
                        array_to_string(vtj._censored_groups(), ', ')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    SELECT COALESCE(array_agg(t.tietoryhma ORDER BY t.tietoryhma), '{}') INTO v_before
      FROM vtj.turvakielto_rule t WHERE t.rule = p_rule;
    DELETE FROM vtj.turvakielto_rule t WHERE t.rule = p_rule AND t.tietoryhma <> ALL (v_groups);
    INSERT INTO vtj.turvakielto_rule (rule, tietoryhma, seeded)
    SELECT p_rule, g, false FROM unnest(v_groups) g
    ON CONFLICT (rule, tietoryhma) DO NOTHING;

    -- Erase what a merge would not have stored (product.md §6 "Erased").
    IF cardinality(v_groups) > 0 THEN
        PERFORM 1 FROM vtj.merge_lock l WHERE l.id = 1 FOR UPDATE;   -- one merge at a time
        DELETE FROM vtj.person_entry e USING vtj.person_state ps
         WHERE ps.hetu = e.hetu AND ps.turvakielto AND e.tietoryhma = ANY (v_groups);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_erased := v_erased + v_n;
        DELETE FROM vtj.journal j USING vtj.person_state ps
         WHERE ps.hetu = j.hetu AND ps.turvakielto AND j.tietoryhma = ANY (v_groups);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_erased := v_erased + v_n;
        DELETE FROM vtj.change_feed c USING vtj.person_state ps
         WHERE ps.hetu = c.hetu AND ps.turvakielto AND c.tietoryhma = ANY (v_groups);
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_erased := v_erased + v_n;
    END IF;

    PERFORM vtj._admin_log_write('turvakielto_rule', NULL, NULL,
        jsonb_build_object('rule', p_rule, 'before', to_jsonb(v_before), 'after', to_jsonb(v_groups),
                           'erased', v_erased));
END
$$;
COMMENT ON FUNCTION vtj.set_turvakielto_rule(text, text[]) IS
    'Superuser: sets the groups a turvakielto rule censors (validated; contact addresses never); recorded in the admin log';

-- ---------------------------------------------------------------------------
-- The instance a register was loaded in (product.md §9)
-- ---------------------------------------------------------------------------

-- Empty until the first run of the database records where it runs; dumped
-- whole, so a restore elsewhere carries the original identity and refuses to
-- fetch until vtj.adopt_instance(). A copy made with CREATE DATABASE ...
-- TEMPLATE is elsewhere too (another database OID); a promoted streaming
-- standby is not (same system identifier and OID). pg_upgrade keeps database
-- OIDs but creates a new system identifier: adopt after an upgrade.
CREATE TABLE vtj.instance (
    id                integer PRIMARY KEY DEFAULT 1,
    system_identifier bigint NOT NULL,
    database_oid      oid NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    recorded_by       name NOT NULL DEFAULT session_user,
    how               text COLLATE "C" NOT NULL,
    CONSTRAINT instance_one_row CHECK (id = 1),
    CONSTRAINT instance_how CHECK (how IN ('first run', 'adopted'))
);
COMMENT ON TABLE vtj.instance IS
    'The cluster (system identifier) and database OID this register was loaded in; see vtj.adopt_instance()';
SELECT pg_catalog.pg_extension_config_dump('vtj.instance', '');

-- For the run driver, before a run's first request (as the extension owner,
-- in a transaction of its own): true when this is the database the register
-- was loaded in, recording it at the first run; otherwise ERROR 55000.
CREATE FUNCTION vtj._instance_ok() RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sys bigint := (pg_control_system()).system_identifier;
    v_db  oid    := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    r     vtj.instance;
BEGIN
    SELECT * INTO r FROM vtj.instance i WHERE i.id = 1;
    IF NOT FOUND THEN
        INSERT INTO vtj.instance (id, system_identifier, database_oid, how)
        VALUES (1, v_sys, v_db, 'first run')
        ON CONFLICT (id) DO NOTHING;
        SELECT * INTO r FROM vtj.instance i WHERE i.id = 1;
    END IF;
    IF r.system_identifier = v_sys AND r.database_oid = v_db THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'pg_vtj does not fetch in a copy: this register was loaded in another % and restored or copied here',
                    CASE WHEN r.system_identifier <> v_sys THEN 'cluster' ELSE 'database' END
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = 'If this database is to carry on fetching from DVV (it replaces the original), a superuser runs SELECT vtj.adopt_instance(); a test copy must not fetch.';
END
$$;

-- Makes this database the one the register runs in (superuser).
CREATE FUNCTION vtj.adopt_instance() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_sys    bigint := (pg_control_system()).system_identifier;
    v_db     oid    := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    v_before jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles a WHERE a.rolname = current_user AND a.rolsuper) THEN
        RAISE EXCEPTION 'only a superuser may adopt a copied register'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT jsonb_build_object('system_identifier', i.system_identifier::text, 'database_oid', i.database_oid::bigint)
      INTO v_before FROM vtj.instance i WHERE i.id = 1 FOR UPDATE;
    INSERT INTO vtj.instance AS i (id, system_identifier, database_oid, recorded_at, recorded_by, how)
    VALUES (1, v_sys, v_db, now(), session_user, 'adopted')
    ON CONFLICT (id) DO UPDATE
       SET system_identifier = EXCLUDED.system_identifier, database_oid = EXCLUDED.database_oid,
           recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by, how = EXCLUDED.how;
    PERFORM vtj._admin_log_write('instance_adopt', NULL, NULL,
        jsonb_build_object('before', v_before,
                           'after', jsonb_build_object('system_identifier', v_sys::text, 'database_oid', v_db::bigint)));
END
$$;
COMMENT ON FUNCTION vtj.adopt_instance() IS
    'Superuser: lets a register restored or copied into this database fetch from DVV again';

-- ---------------------------------------------------------------------------
-- vtj.status's warnings about purposes and copies: one-row views (a view
-- calls no function of the extension; vtj.status reads these as its owner).
-- ---------------------------------------------------------------------------

-- A purpose lacking the description of the permit application (product.md
-- §3): one that has registrations, or that was added or changed here and is
-- enabled (muu as seeded and unused does not warn).
CREATE VIEW vtj._purpose_warning WITH (security_barrier) AS
SELECT CASE WHEN u.purposes IS NOT NULL
            THEN pg_catalog.format('purpose %s lacks the description given in the permit application: set it with vtj.set_purpose()',
                                   u.purposes)
       END AS warning
  FROM (SELECT pg_catalog.string_agg(p.purpose, ', ' ORDER BY p.purpose) AS purposes
          FROM vtj.purposes p
         WHERE (p.description IS NULL OR pg_catalog.btrim(p.description) = '')
           AND (EXISTS (SELECT 1 FROM vtj.registration g WHERE g.purpose = p.purpose)
                OR (p.enabled AND NOT p.seeded))) u;
COMMENT ON VIEW vtj._purpose_warning IS
    'One row: the vtj.status warning about purposes without their permit description (NULL when none)';

-- A register restored or copied from elsewhere (product.md §9).
CREATE VIEW vtj._instance_warning WITH (security_barrier) AS
SELECT CASE WHEN i.system_identifier <> (pg_catalog.pg_control_system()).system_identifier
              OR i.database_oid <> (SELECT d.oid FROM pg_catalog.pg_database d
                                     WHERE d.datname = pg_catalog.current_database())
            THEN 'this database was restored or copied from another database or cluster: no run starts until a superuser calls vtj.adopt_instance()'
       END AS warning
  FROM (SELECT 1) one
  LEFT JOIN vtj.instance i ON i.id = 1;
COMMENT ON VIEW vtj._instance_warning IS
    'One row: the vtj.status warning about a register restored or copied from elsewhere (NULL when none)';

