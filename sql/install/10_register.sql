-- 10_register.sql — hetu validation, purposes, the register and its
-- management functions.
--
-- The register is two tables:
--   vtj.subject       one row per hetu that is sent to DVV (the person's
--                     "register row": merges, removals and adds serialise on
--                     it);
--   vtj.registration  one row per (hetu, purpose) with its own customer_ref.
-- A hetu is in vtj.subject exactly while it has at least one registration
-- (the storage layer may move rows on a hetu correction: ON UPDATE CASCADE).
--
-- Errors of the management functions (all SECURITY DEFINER, search_path
-- pinned, schema-qualified SQL, no dynamic SQL):
--   22004 null_value_not_allowed   a NULL hetu, purpose or hetu array
--   22023 invalid_parameter_value  an invalid hetu (the message names the rule
--                                  and echoes no part of the input); a bulk add
--                                  with invalid elements (count and first 20
--                                  positions, 1-based); the purpose tyontekija
--                                  (employees' data: not allowed by the
--                                  product); a disabled purpose; a customer_refs
--                                  array whose length differs; a malformed
--                                  purpose name in vtj.set_purpose
--   42704 undefined_object         an unknown purpose
-- A purpose name is echoed in a message only when it has the form of a
-- purpose identifier, so a hetu passed in the wrong argument is never echoed.
-- Every error of these functions is raised through vtj._raise (C, below):
-- marked errhidestmt, so the statement, which carries hetus, never reaches
-- the server log as a STATEMENT line (PL/pgSQL RAISE cannot mark it).
-- Audit columns record session_user, never current_user; every register
-- change and purpose change is written to vtj.admin_log (70_governance.sql).
--
-- Reader scoping (vtj.grant_reader, 70_governance.sql) is defined here, before
-- the views: vtj.reader_scope and the helper view vtj._reader_purposes that
-- every view of persons filters on.

-- ---------------------------------------------------------------------------
-- Hetu validation (C, src/pg/hetu_functions.cpp). STABLE, not IMMUTABLE: the
-- verdict depends on the setting vtj.allow_test_hetus.
-- ---------------------------------------------------------------------------

CREATE FUNCTION vtj.hetu_valid(hetu text) RETURNS boolean
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_hetu_valid';
COMMENT ON FUNCTION vtj.hetu_valid(text) IS
    'true when the text is a valid hetu (strict: format, century sign, real date, check character; test hetus only while vtj.allow_test_hetus is on)';

-- NULL when valid, else a fixed sentence naming the failing rule.
CREATE FUNCTION vtj._hetu_problem(hetu text) RETURNS text
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_hetu_problem';

-- 1-based positions of the invalid (or NULL) elements, in order.
CREATE FUNCTION vtj._hetu_invalid_positions(hetus text[]) RETURNS integer[]
    LANGUAGE C STRICT STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_hetu_invalid_positions';

-- Raises ERROR with the SQLSTATE, message and hint given, without DETAIL and
-- marked errhidestmt (src/pg/log_redact.cpp). Internal: no grants.
CREATE FUNCTION vtj._raise(sqlstate text, message text, hint text DEFAULT NULL) RETURNS void
    LANGUAGE C VOLATILE
    AS 'MODULE_PATHNAME', 'vtj_raise';

-- ---------------------------------------------------------------------------
-- Purposes
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.purposes (
    purpose     text COLLATE "C" PRIMARY KEY,
    description text,              -- as given in the permit application
    legal_basis text,
    enabled     boolean NOT NULL DEFAULT true,
    -- true for a row exactly as the install (or an upgrade) script seeded it;
    -- pg_dump carries only rows with seeded = false (added or changed here).
    seeded      boolean NOT NULL DEFAULT false,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    changed_by  name NOT NULL DEFAULT session_user,
    CONSTRAINT purposes_purpose_form CHECK (purpose ~ '^[a-z][a-z0-9_]{0,62}$'),
    -- The product may not be used for employees' data (ASREK product
    -- description §1; Laki yksityisyyden suojasta työelämässä 759/2004).
    CONSTRAINT purposes_no_employees CHECK (purpose !~ 'tyontekij')
);
COMMENT ON TABLE vtj.purposes IS
    'Purposes (käyttötarkoitukset) of the permit; change with vtj.set_purpose()';

INSERT INTO vtj.purposes (purpose, description, seeded, changed_by) VALUES
    ('asiakasrekisteri', 'Asiakasrekisterin henkilötietojen päivittäminen', true, 'pg_vtj'),
    ('laskutus',         'Laskutukseen liittyvät tehtävät', true, 'pg_vtj'),
    ('oppilasrekisteri', 'Vapaan sivistystyön oppilaitoksen oppilasrekisterin päivittäminen', true, 'pg_vtj'),
    ('vesilaitos',       'Vesilaitoksen asiakasrekisterin päivittäminen', true, 'pg_vtj'),
    -- "Jokin muu käyttötarkoitus; luvansaaja kuvaa hakemuksella": needs the
    -- description of the permit application (vtj.status warns until then).
    ('muu',              NULL, true, 'pg_vtj');

-- A changed seeded row is no longer "as seeded": it must be dumped.
-- (An upgrade script that changes seeded values on purpose disables this
-- trigger around its UPDATE.)
CREATE FUNCTION vtj._purposes_unseed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.seeded AND NEW.seeded
       AND (NEW.description, NEW.legal_basis, NEW.enabled)
           IS DISTINCT FROM (OLD.description, OLD.legal_basis, OLD.enabled) THEN
        NEW.seeded := false;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER purposes_unseed BEFORE UPDATE ON vtj.purposes
    FOR EACH ROW EXECUTE FUNCTION vtj._purposes_unseed();

-- pg_restore re-creates the extension (which seeds the rows) and then loads
-- the dumped rows: a dumped row whose purpose was seeded is a changed seeded
-- row, so it replaces the seeded values instead of failing on the key.
CREATE FUNCTION vtj._purposes_restore() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE vtj.purposes p
       SET description = NEW.description, legal_basis = NEW.legal_basis,
           enabled = NEW.enabled, seeded = NEW.seeded,
           changed_at = NEW.changed_at, changed_by = NEW.changed_by
     WHERE p.purpose = NEW.purpose AND p.seeded;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER purposes_restore BEFORE INSERT ON vtj.purposes
    FOR EACH ROW EXECUTE FUNCTION vtj._purposes_restore();

SELECT pg_catalog.pg_extension_config_dump('vtj.purposes', 'WHERE NOT seeded');

-- The purpose checks shared by the management functions. Internal: no grants.
-- p_for_add: the purpose must also be enabled (removal works for disabled
-- purposes, so registrations can always be ended).
CREATE FUNCTION vtj._check_purpose(p_purpose text, p_for_add boolean) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_enabled boolean;
    v_shown   text;
BEGIN
    IF p_purpose IS NULL THEN
        PERFORM vtj._raise('22004', 'purpose must not be NULL');
    END IF;
    -- Echo the name only when it looks like a purpose identifier.
    v_shown := CASE WHEN p_purpose ~ '^[a-z][a-z0-9_]{0,62}$'
                    THEN format('purpose "%s"', p_purpose)
                    ELSE 'the purpose given (not a purpose identifier)' END;
    IF p_purpose ~* 'ty[oö]ntekij' THEN
        PERFORM vtj._raise('22023', format('%s is not allowed: pg_vtj may not be used for employees'' data', v_shown),
            'DVV''s ASREK product excludes employees; an employer keeps staff data current by other means.');
    END IF;
    SELECT p.enabled INTO v_enabled FROM vtj.purposes p WHERE p.purpose = p_purpose;
    IF NOT FOUND THEN
        PERFORM vtj._raise('42704', format('%s does not exist', v_shown),
            'vtj.purposes lists the purposes; vtj.set_purpose() adds one.');
    END IF;
    IF p_for_add AND NOT v_enabled THEN
        PERFORM vtj._raise('22023', format('%s is disabled', v_shown),
            'Enable it with vtj.set_purpose(purpose, enabled => true) if the permit covers it.');
    END IF;
END
$$;

-- vtj.set_purpose: adds a purpose or changes one. NULL arguments keep the
-- current value (for a new purpose: no description, no legal basis,
-- enabled); an empty or blank description or legal basis clears it.
-- Returns true when the purpose was added.
CREATE FUNCTION vtj.set_purpose(purpose text, description text DEFAULT NULL,
                                legal_basis text DEFAULT NULL, enabled boolean DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p_purpose     text    := set_purpose.purpose;
    p_description text    := set_purpose.description;
    p_legal_basis text    := set_purpose.legal_basis;
    p_enabled     boolean := set_purpose.enabled;
    v_before      jsonb;
    v_after       jsonb;
BEGIN
    IF p_purpose IS NULL THEN
        PERFORM vtj._raise('22004', 'purpose must not be NULL');
    END IF;
    IF p_purpose ~* 'ty[oö]ntekij' THEN
        PERFORM vtj._raise('22023', 'a purpose for employees is not allowed: pg_vtj may not be used for employees'' data',
            'DVV''s ASREK product excludes employees; an employer keeps staff data current by other means.');
    END IF;
    IF p_purpose !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        PERFORM vtj._raise('22023', 'a purpose name is 1 to 63 characters a-z, 0-9 and _, starting with a letter');
    END IF;

    SELECT jsonb_build_object('description', p.description, 'legal_basis', p.legal_basis, 'enabled', p.enabled)
      INTO v_before
      FROM vtj.purposes p WHERE p.purpose = p_purpose FOR UPDATE;

    UPDATE vtj.purposes p
       SET description = CASE WHEN p_description IS NULL THEN p.description
                              ELSE NULLIF(btrim(p_description), '') END,
           legal_basis = CASE WHEN p_legal_basis IS NULL THEN p.legal_basis
                              ELSE NULLIF(btrim(p_legal_basis), '') END,
           enabled     = COALESCE(p_enabled, p.enabled),
           -- seeded: the trigger purposes_unseed clears it when a value changes
           changed_at  = now(),
           changed_by  = session_user
     WHERE p.purpose = p_purpose
    RETURNING jsonb_build_object('description', p.description, 'legal_basis', p.legal_basis, 'enabled', p.enabled)
         INTO v_after;
    IF FOUND THEN
        PERFORM vtj._admin_log_write('purpose_change', p_purpose, NULL,
                                     jsonb_build_object('before', v_before, 'after', v_after));
        RETURN false;
    END IF;
    INSERT INTO vtj.purposes AS p (purpose, description, legal_basis, enabled, seeded, changed_at, changed_by)
    VALUES (p_purpose, NULLIF(btrim(p_description), ''), NULLIF(btrim(p_legal_basis), ''),
            COALESCE(p_enabled, true), false, now(), session_user)
    ON CONFLICT ON CONSTRAINT purposes_pkey DO NOTHING
    RETURNING jsonb_build_object('description', p.description, 'legal_basis', p.legal_basis, 'enabled', p.enabled)
         INTO v_after;
    IF NOT FOUND THEN   -- added concurrently: retry as a change
        RETURN vtj.set_purpose(p_purpose, p_description, p_legal_basis, p_enabled);
    END IF;
    PERFORM vtj._admin_log_write('purpose_add', p_purpose, NULL, jsonb_build_object('after', v_after));
    RETURN true;
END
$$;
COMMENT ON FUNCTION vtj.set_purpose(text, text, text, boolean) IS
    'Adds or changes a purpose; NULL keeps a value, '''' clears it; true when added';

-- ---------------------------------------------------------------------------
-- The register
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.subject (
    hetu          text COLLATE "C" PRIMARY KEY,
    registered_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE vtj.subject IS
    'One row per hetu sent to DVV (registered for at least one purpose); the person''s register row';
SELECT pg_catalog.pg_extension_config_dump('vtj.subject', '');

CREATE TABLE vtj.registration (
    hetu         text COLLATE "C" NOT NULL REFERENCES vtj.subject (hetu) ON UPDATE CASCADE,
    purpose      text COLLATE "C" NOT NULL REFERENCES vtj.purposes (purpose),
    customer_ref text,
    added_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    added_by     name NOT NULL DEFAULT session_user,
    changed_at   timestamptz,      -- last change of customer_ref
    changed_by   name,
    PRIMARY KEY (hetu, purpose)
);
CREATE INDEX registration_purpose ON vtj.registration (purpose);
COMMENT ON TABLE vtj.registration IS
    'One row per (hetu, purpose): the register of the municipality''s own persons';
SELECT pg_catalog.pg_extension_config_dump('vtj.registration', '');

-- The COPY path (product §8: hetus stay out of statement text):
--   \copy vtj.import (hetu, customer_ref) FROM 'asiakkaat.csv' CSV
--   SELECT vtj.import_persons('laskutus');
-- Each row belongs to the user who added it (imported_by is forced to
-- session_user for everyone but superusers, so pg_restore keeps it);
-- vtj.import_persons takes only the caller's rows. `line` keeps the order rows
-- arrived in, so errors can point at them. (No row-level security: COPY FROM
-- refuses tables with RLS, and vtj_admin members may read the register anyway.)
CREATE TABLE vtj.import (
    hetu         text COLLATE "C",
    customer_ref text,
    imported_by  name NOT NULL DEFAULT session_user,
    imported_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    line         bigserial NOT NULL
);
COMMENT ON TABLE vtj.import IS
    'COPY (hetu, customer_ref) rows here, then SELECT vtj.import_persons(purpose)';

CREATE FUNCTION vtj._import_owner() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname = session_user AND r.rolsuper) THEN
        IF TG_OP = 'INSERT' THEN
            NEW.imported_by := session_user;
        ELSE
            NEW.imported_by := OLD.imported_by;
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER import_owner BEFORE INSERT OR UPDATE ON vtj.import
    FOR EACH ROW EXECUTE FUNCTION vtj._import_owner();
SELECT pg_catalog.pg_extension_config_dump('vtj.import', '');
SELECT pg_catalog.pg_extension_config_dump('vtj.import_line_seq', '');

-- The core of every add: validates, then registers the hetus for the purpose
-- set-based (no per-element loop). p_what names the caller in messages.
-- Returns the number of (hetu, purpose) pairs that are new. Internal.
CREATE FUNCTION vtj._register_many(p_hetus text[], p_purpose text, p_refs text[], p_what text)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bad   integer[];
    v_nbad  integer;
    v_shown text;
    v_h     text[];
    v_r     text[];
    v_new   bigint;
    v_added text[];
    v_refs  text[];
BEGIN
    IF p_hetus IS NULL THEN
        PERFORM vtj._raise('22004', 'hetus must not be NULL');
    END IF;
    PERFORM vtj._check_purpose(p_purpose, true);
    IF array_ndims(p_hetus) > 1 THEN
        PERFORM vtj._raise('2202E', 'hetus must be a one-dimensional array');
    END IF;
    IF p_refs IS NOT NULL
       AND (array_ndims(p_refs) > 1 OR cardinality(p_refs) <> cardinality(p_hetus)) THEN
        PERFORM vtj._raise('22023', format('customer_refs has %s elements but hetus has %s; give one customer_ref per hetu, or none',
                                           cardinality(p_refs), cardinality(p_hetus)));
    END IF;
    IF cardinality(p_hetus) = 0 THEN
        RETURN 0;
    END IF;

    -- All or nothing: one invalid element and nothing is added.
    v_bad := vtj._hetu_invalid_positions(p_hetus);
    v_nbad := cardinality(v_bad);
    IF v_nbad > 0 THEN
        v_shown := array_to_string(v_bad[1:20], ', ');
        IF v_nbad > 20 THEN
            v_shown := v_shown || format(' and %s more', v_nbad - 20);
        END IF;
        PERFORM vtj._raise('22023',
            format('%s: %s of %s hetus are invalid (%s %s); nothing was added',
                   p_what, v_nbad, cardinality(p_hetus),
                   CASE WHEN v_nbad = 1 THEN 'position' ELSE 'positions' END, v_shown),
            CASE WHEN p_what = 'import_persons'
                 THEN 'Positions count your rows of vtj.import in line order; SELECT line FROM vtj.import WHERE NOT coalesce(vtj.hetu_valid(hetu), false) lists them.'
                 ELSE 'Positions count from 1; a NULL element is invalid; vtj.hetu_valid() tests one hetu.' END);
    END IF;

    -- A corrected hetu is no longer in use (product §3): refuse any hetu
    -- that a correction moved away from (vtj.hetu_correction, 20_storage.sql,
    -- behind vtj.hetu_history) unless a later correction moved a person back
    -- to it. Same all-or-nothing rule and the same kind of message.
    SELECT array_agg(u.n ORDER BY u.n) INTO v_bad
      FROM unnest(p_hetus) WITH ORDINALITY AS u(h, n)
     WHERE EXISTS (SELECT 1 FROM vtj.hetu_correction c
                    WHERE c.vanha_hetu = u.h COLLATE "C"
                      AND NOT EXISTS (SELECT 1 FROM vtj.hetu_correction b
                                       WHERE b.uusi_hetu = u.h COLLATE "C" AND b.muutettu_at >= c.muutettu_at));
    v_nbad := coalesce(cardinality(v_bad), 0);
    IF v_nbad > 0 THEN
        IF p_what = 'add_person' THEN
            PERFORM vtj._raise('22023', 'the hetu has been corrected: it is no longer in use',
                'Register the new hetu instead; vtj.hetu_history (vtj_admin) lists corrections.');
        END IF;
        v_shown := array_to_string(v_bad[1:20], ', ');
        IF v_nbad > 20 THEN
            v_shown := v_shown || format(' and %s more', v_nbad - 20);
        END IF;
        PERFORM vtj._raise('22023',
            format('%s: %s of %s hetus have been corrected and are no longer in use (%s %s); nothing was added',
                   p_what, v_nbad, cardinality(p_hetus),
                   CASE WHEN v_nbad = 1 THEN 'position' ELSE 'positions' END, v_shown),
            'Register the new hetus instead; vtj.hetu_history (vtj_admin) lists corrections.');
    END IF;

    -- One row per hetu; a repeated hetu takes its last non-NULL customer_ref
    -- (what adding the elements one by one would leave). Hetus compare and
    -- sort COLLATE "C", as stored (and as the merge locks them).
    SELECT array_agg(d.h ORDER BY d.h), array_agg(d.r ORDER BY d.h)
      INTO v_h, v_r
      FROM (SELECT DISTINCT ON (u.h COLLATE "C") u.h COLLATE "C" AS h, u.r
              FROM unnest(p_hetus, COALESCE(p_refs, '{}'::text[])) WITH ORDINALITY AS u(h, r, n)
             ORDER BY u.h COLLATE "C", u.r IS NULL, u.n DESC) d;

    -- The register rows, inserted or locked (in hetu order, against
    -- deadlocks): a concurrent removal cannot delete a subject row between
    -- here and the registration insert, and a removal in progress is waited
    -- for (its row is then inserted anew).
    INSERT INTO vtj.subject AS s (hetu)
    SELECT u.h FROM unnest(v_h) AS u(h) ORDER BY u.h COLLATE "C"
    ON CONFLICT (hetu) DO UPDATE SET registered_at = s.registered_at WHERE false;

    WITH added AS (
        INSERT INTO vtj.registration (hetu, purpose, customer_ref, added_at, added_by)
        SELECT u.h, p_purpose, u.r, now(), session_user
          FROM unnest(v_h, v_r) AS u(h, r)
         ORDER BY u.h COLLATE "C"
        ON CONFLICT (hetu, purpose) DO NOTHING
        RETURNING hetu)
    SELECT count(*), array_agg(a.hetu) INTO v_new, v_added FROM added a;

    -- An existing pair keeps its row; a customer_ref given for it replaces
    -- the old one (NULL keeps it).
    IF p_refs IS NOT NULL THEN
        WITH changed AS (
            UPDATE vtj.registration g
               SET customer_ref = u.r, changed_at = now(), changed_by = session_user
              FROM unnest(v_h, v_r) AS u(h, r)
             WHERE g.hetu = u.h COLLATE "C" AND g.purpose = p_purpose
               AND u.r IS NOT NULL AND g.customer_ref IS DISTINCT FROM u.r
            RETURNING g.hetu)
        SELECT array_agg(c.hetu) INTO v_refs FROM changed c;
    END IF;

    -- The admin log (product §8): one entry per person with hetu_hmac when
    -- vtj.hmac_key_file is set, else one entry with the count.
    PERFORM vtj._admin_log_persons('register', p_purpose, v_added, jsonb_build_object('via', p_what));
    PERFORM vtj._admin_log_persons('customer_ref', p_purpose, v_refs, jsonb_build_object('via', p_what));
    RETURN v_new;
END
$$;

CREATE FUNCTION vtj.add_person(hetu text, purpose text, customer_ref text DEFAULT NULL)
    RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_problem text;
BEGIN
    IF add_person.hetu IS NULL THEN
        PERFORM vtj._raise('22004', 'hetu must not be NULL');
    END IF;
    PERFORM vtj._check_purpose(add_person.purpose, true);
    v_problem := vtj._hetu_problem(add_person.hetu);
    IF v_problem IS NOT NULL THEN
        PERFORM vtj._raise('22023', 'invalid hetu: ' || v_problem);
    END IF;
    RETURN vtj._register_many(ARRAY[add_person.hetu], add_person.purpose,
                              ARRAY[add_person.customer_ref], 'add_person') > 0;
END
$$;
COMMENT ON FUNCTION vtj.add_person(text, text, text) IS
    'Registers a hetu for a purpose; true if the (hetu, purpose) pair is new';

CREATE FUNCTION vtj.add_persons(hetus text[], purpose text, customer_refs text[] DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN vtj._register_many(add_persons.hetus, add_persons.purpose,
                              add_persons.customer_refs, 'add_persons');
END
$$;
COMMENT ON FUNCTION vtj.add_persons(text[], text, text[]) IS
    'Registers hetus for a purpose, all or nothing; returns the number of new (hetu, purpose) pairs';

CREATE FUNCTION vtj.import_persons(purpose text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    v_h text[];
    v_r text[];
BEGIN
    PERFORM vtj._check_purpose(import_persons.purpose, true);
    -- Taken out first; an error below rolls the DELETE back with the rest,
    -- so on failure the rows stay to be fixed.
    WITH taken AS (
        DELETE FROM vtj.import i WHERE i.imported_by = session_user
        RETURNING i.hetu, i.customer_ref, i.line)
    SELECT COALESCE(array_agg(t.hetu ORDER BY t.line), '{}'),
           COALESCE(array_agg(t.customer_ref ORDER BY t.line), '{}')
      INTO v_h, v_r
      FROM taken t;
    RETURN vtj._register_many(v_h, import_persons.purpose, v_r, 'import_persons');
END
$$;
COMMENT ON FUNCTION vtj.import_persons(text) IS
    'Registers the calling user''s rows of vtj.import for a purpose, all or nothing, and deletes them';

-- Ends a registration (all of the hetu's registrations when purpose is NULL);
-- true if one ended. When the last one ends, every stored datum of the person
-- is deleted in this transaction and the hetu leaves the list sent to DVV.
CREATE FUNCTION vtj.remove_person(hetu text, purpose text DEFAULT NULL) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p_hetu    text := remove_person.hetu;
    p_purpose text := remove_person.purpose;
    v_ended   text[];
    v_purged  boolean := false;
    v_p       text;
BEGIN
    IF p_hetu IS NULL THEN
        PERFORM vtj._raise('22004', 'hetu must not be NULL');
    END IF;
    IF p_purpose IS NOT NULL THEN
        PERFORM vtj._check_purpose(p_purpose, false);
    END IF;

    -- Serialise with merges, adds and other removals on the register row.
    PERFORM 1 FROM vtj.subject s WHERE s.hetu = p_hetu FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    WITH ended AS (
        DELETE FROM vtj.registration g
         WHERE g.hetu = p_hetu AND (p_purpose IS NULL OR g.purpose = p_purpose)
        RETURNING g.purpose)
    SELECT array_agg(e.purpose ORDER BY e.purpose) INTO v_ended FROM ended e;

    IF NOT EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = p_hetu) THEN
        -- Current data, history, journal and change-feed rows (storage layer).
        PERFORM vtj._purge_person(p_hetu);
        DELETE FROM vtj.subject s WHERE s.hetu = p_hetu;
        v_purged := true;
    END IF;

    -- The admin log: one entry per ended registration, and one for the purge
    -- (per person with hetu_hmac when vtj.hmac_key_file is set).
    FOREACH v_p IN ARRAY COALESCE(v_ended, '{}') LOOP
        PERFORM vtj._admin_log_persons('unregister', v_p, ARRAY[p_hetu]);
    END LOOP;
    IF v_purged THEN
        PERFORM vtj._admin_log_persons('purge', NULL, ARRAY[p_hetu]);
    END IF;
    RETURN COALESCE(cardinality(v_ended), 0) > 0;
END
$$;
COMMENT ON FUNCTION vtj.remove_person(text, text) IS
    'Ends a registration (all when purpose is NULL); the last one deletes every stored datum of the person';

-- ---------------------------------------------------------------------------
-- Reader scoping (product.md §3: purpose limitation)
-- ---------------------------------------------------------------------------

-- One row per reader role limited to purposes (vtj.grant_reader with
-- purposes; 70_governance.sql). regrole: stored as the role's OID (a renamed
-- role keeps its limit), dumped as its name (a restore into another cluster
-- finds the role by name; pg_upgrade keeps role OIDs).
CREATE TABLE vtj.reader_scope (
    role       regrole PRIMARY KEY,
    purposes   text[] COLLATE "C" NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    granted_by name NOT NULL DEFAULT session_user,
    CONSTRAINT reader_scope_purposes CHECK (pg_catalog.cardinality(purposes) > 0
                                            AND pg_catalog.array_position(purposes, NULL) IS NULL)
);
COMMENT ON TABLE vtj.reader_scope IS
    'Reader roles limited to the persons registered for some purposes; change with vtj.grant_reader()/vtj.revoke_reader()';
SELECT pg_catalog.pg_extension_config_dump('vtj.reader_scope', '');

-- The purposes the querying role may see, for the views (one row):
--   NULL            everything: a member of vtj_admin (or a superuser), or a
--                   role that has the privileges of no scoped role;
--   an array        the union of the purposes of every scoped role whose
--                   privileges the querying role has (pg_has_role ... USAGE:
--                   direct or inherited membership, or SET ROLE to it).
-- It tests current_user, which inside a view is the role running the query
-- (the view's owner is used only for privilege checks on what the view
-- reads): a session that SETs ROLE to a scoped role is scoped, and the
-- scope follows the identity whose privileges let it read the view.
-- pg_has_role is given the scoped role's OID: a row left by a dropped role
-- names no role anybody is a member of, so it is ignored (pg_has_role by
-- OID does not fail for it; superusers, who have the privileges of any OID,
-- are answered by the first branch). Every scope has at least one purpose
-- and no NULL one (reader_scope_purposes), so the union is empty exactly
-- when the role has the privileges of no scoped role: NULL then. The array
-- is only ever searched (= ANY), so it is neither sorted nor deduplicated.
-- Views of persons filter with
--   (<the person's registration>.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[])) IS NOT FALSE
-- (one uncorrelated sub-select, evaluated once per query: = ANY (NULL) is
-- NULL, not false, so NULL lets every registration through; an array holds
-- no NULL and purpose is NOT NULL, so otherwise it is true or false), or with
--   (SELECT x.purposes FROM vtj._reader_purposes x) IS NULL OR EXISTS (...)
-- where the OR spares the sub-select for unscoped readers. The helper is
-- kept small: every query of a view initializes it (a point lookup by hetu
-- pays for it). Nobody is granted anything on this view; the views that read
-- it run as its owner.
CREATE VIEW vtj._reader_purposes WITH (security_barrier) AS
SELECT CASE
         WHEN pg_catalog.pg_has_role('vtj_admin', 'USAGE') THEN NULL::text[]
         ELSE NULLIF(ARRAY(SELECT pg_catalog.unnest(s.purposes)
                             FROM vtj.reader_scope s
                            WHERE pg_catalog.pg_has_role(s.role::oid, 'USAGE')), '{}'::text[])
       END AS purposes;
COMMENT ON VIEW vtj._reader_purposes IS
    'Purposes the querying role may see (NULL = all); for the views'' reader scoping';

-- The register as readers see it, vtj.register, is created in
-- 70_governance.sql (it joins vtj.person_state, created by 20_storage.sql,
-- for base_loaded_at).
