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
-- Audit columns record session_user, never current_user.

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
        RAISE EXCEPTION 'purpose must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- Echo the name only when it looks like a purpose identifier.
    v_shown := CASE WHEN p_purpose ~ '^[a-z][a-z0-9_]{0,62}$'
                    THEN format('purpose "%s"', p_purpose)
                    ELSE 'the purpose given (not a purpose identifier)' END;
    IF p_purpose ~* 'ty[oö]ntekij' THEN
        RAISE EXCEPTION '% is not allowed: pg_vtj may not be used for employees'' data', v_shown
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'DVV''s ASREK product excludes employees; an employer keeps staff data current by other means.';
    END IF;
    SELECT p.enabled INTO v_enabled FROM vtj.purposes p WHERE p.purpose = p_purpose;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% does not exist', v_shown
            USING ERRCODE = 'undefined_object',
                  HINT = 'vtj.purposes lists the purposes; vtj.set_purpose() adds one.';
    END IF;
    IF p_for_add AND NOT v_enabled THEN
        RAISE EXCEPTION '% is disabled', v_shown
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Enable it with vtj.set_purpose(purpose, enabled => true) if the permit covers it.';
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
BEGIN
    IF p_purpose IS NULL THEN
        RAISE EXCEPTION 'purpose must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_purpose ~* 'ty[oö]ntekij' THEN
        RAISE EXCEPTION 'a purpose for employees is not allowed: pg_vtj may not be used for employees'' data'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'DVV''s ASREK product excludes employees; an employer keeps staff data current by other means.';
    END IF;
    IF p_purpose !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'a purpose name is 1 to 63 characters a-z, 0-9 and _, starting with a letter'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    UPDATE vtj.purposes p
       SET description = CASE WHEN p_description IS NULL THEN p.description
                              ELSE NULLIF(btrim(p_description), '') END,
           legal_basis = CASE WHEN p_legal_basis IS NULL THEN p.legal_basis
                              ELSE NULLIF(btrim(p_legal_basis), '') END,
           enabled     = COALESCE(p_enabled, p.enabled),
           -- seeded: the trigger purposes_unseed clears it when a value changes
           changed_at  = now(),
           changed_by  = session_user
     WHERE p.purpose = p_purpose;
    IF FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO vtj.purposes (purpose, description, legal_basis, enabled, seeded, changed_at, changed_by)
    VALUES (p_purpose, NULLIF(btrim(p_description), ''), NULLIF(btrim(p_legal_basis), ''),
            COALESCE(p_enabled, true), false, now(), session_user)
    ON CONFLICT ON CONSTRAINT purposes_pkey DO NOTHING;
    IF NOT FOUND THEN   -- added concurrently: retry as a change
        RETURN vtj.set_purpose(p_purpose, p_description, p_legal_basis, p_enabled);
    END IF;
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
BEGIN
    IF p_hetus IS NULL THEN
        RAISE EXCEPTION 'hetus must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM vtj._check_purpose(p_purpose, true);
    IF array_ndims(p_hetus) > 1 THEN
        RAISE EXCEPTION 'hetus must be a one-dimensional array'
            USING ERRCODE = 'array_subscript_error';
    END IF;
    IF p_refs IS NOT NULL
       AND (array_ndims(p_refs) > 1 OR cardinality(p_refs) <> cardinality(p_hetus)) THEN
        RAISE EXCEPTION 'customer_refs has % elements but hetus has %; give one customer_ref per hetu, or none',
                        cardinality(p_refs), cardinality(p_hetus)
            USING ERRCODE = 'invalid_parameter_value';
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
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s: %s of %s hetus are invalid (%s %s); nothing was added',
                             p_what, v_nbad, cardinality(p_hetus),
                             CASE WHEN v_nbad = 1 THEN 'position' ELSE 'positions' END, v_shown),
            HINT = CASE WHEN p_what = 'import_persons'
                        THEN 'Positions count your rows of vtj.import in line order; SELECT line FROM vtj.import WHERE NOT coalesce(vtj.hetu_valid(hetu), false) lists them.'
                        ELSE 'Positions count from 1; a NULL element is invalid; vtj.hetu_valid() tests one hetu.' END;
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
            RAISE EXCEPTION 'the hetu has been corrected: it is no longer in use'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Register the new hetu instead; vtj.hetu_history (vtj_admin) lists corrections.';
        END IF;
        v_shown := array_to_string(v_bad[1:20], ', ');
        IF v_nbad > 20 THEN
            v_shown := v_shown || format(' and %s more', v_nbad - 20);
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('%s: %s of %s hetus have been corrected and are no longer in use (%s %s); nothing was added',
                             p_what, v_nbad, cardinality(p_hetus),
                             CASE WHEN v_nbad = 1 THEN 'position' ELSE 'positions' END, v_shown),
            HINT = 'Register the new hetus instead; vtj.hetu_history (vtj_admin) lists corrections.';
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

    INSERT INTO vtj.registration (hetu, purpose, customer_ref, added_at, added_by)
    SELECT u.h, p_purpose, u.r, now(), session_user
      FROM unnest(v_h, v_r) AS u(h, r)
     ORDER BY u.h COLLATE "C"
    ON CONFLICT (hetu, purpose) DO NOTHING;
    GET DIAGNOSTICS v_new = ROW_COUNT;

    -- An existing pair keeps its row; a customer_ref given for it replaces
    -- the old one (NULL keeps it).
    IF p_refs IS NOT NULL THEN
        UPDATE vtj.registration g
           SET customer_ref = u.r, changed_at = now(), changed_by = session_user
          FROM unnest(v_h, v_r) AS u(h, r)
         WHERE g.hetu = u.h COLLATE "C" AND g.purpose = p_purpose
           AND u.r IS NOT NULL AND g.customer_ref IS DISTINCT FROM u.r;
    END IF;

    -- TODO(admin log): product §8 logs every register change (session user,
    -- action, purpose, count; hetu_hmac per person). Waits for vtj.admin_log.
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
        RAISE EXCEPTION 'hetu must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM vtj._check_purpose(add_person.purpose, true);
    v_problem := vtj._hetu_problem(add_person.hetu);
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'invalid hetu: %', v_problem
            USING ERRCODE = 'invalid_parameter_value';
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
    v_ended   bigint;
BEGIN
    IF p_hetu IS NULL THEN
        RAISE EXCEPTION 'hetu must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_purpose IS NOT NULL THEN
        PERFORM vtj._check_purpose(p_purpose, false);
    END IF;

    -- Serialise with merges, adds and other removals on the register row.
    PERFORM 1 FROM vtj.subject s WHERE s.hetu = p_hetu FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    DELETE FROM vtj.registration g
     WHERE g.hetu = p_hetu AND (p_purpose IS NULL OR g.purpose = p_purpose);
    GET DIAGNOSTICS v_ended = ROW_COUNT;

    IF NOT EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = p_hetu) THEN
        -- Current data, history, journal and change-feed rows (storage layer).
        PERFORM vtj._purge_person(p_hetu);
        DELETE FROM vtj.subject s WHERE s.hetu = p_hetu;
    END IF;

    -- TODO(admin log): see vtj._register_many.
    RETURN v_ended > 0;
END
$$;
COMMENT ON FUNCTION vtj.remove_person(text, text) IS
    'Ends a registration (all when purpose is NULL); the last one deletes every stored datum of the person';

-- The register as readers see it.
-- TODO(base_loaded_at, lead): vtj.person_state (20_storage.sql) is created
-- after this file, so base_loaded_at is NULL here. Connect it where
-- person_state exists (e.g. CREATE OR REPLACE VIEW in 40_views.sql):
--   SELECT g.hetu, g.purpose, g.customer_ref, g.added_at, ps.base_loaded_at
--     FROM vtj.registration g
--     LEFT JOIN vtj.person_state ps ON ps.hetu = g.hetu;
-- TODO(grant_reader): restrict rows to the reader's purposes once
-- vtj.grant_reader's purpose table exists.
CREATE VIEW vtj.register WITH (security_barrier) AS
SELECT g.hetu, g.purpose, g.customer_ref, g.added_at,
       NULL::timestamptz AS base_loaded_at
  FROM vtj.registration g;
COMMENT ON VIEW vtj.register IS
    'One row per (hetu, purpose) registration';
