-- 00_schema.sql — preconditions, the schema and the two group roles.
--
-- The control file names no schema: this script creates schema vtj itself, so
-- the schema is a member of the extension (DROP EXTENSION drops it, pg_dump
-- does not re-create it) and CREATE EXTENSION fails when a schema vtj already
-- exists ('schema "vtj" already exists'): nothing of someone else's is ever
-- adopted.
--
-- Roles (cluster-wide, so they outlive DROP EXTENSION and are shared by every
-- database of the cluster that installs pg_vtj):
--   vtj_reader  reads the masked views.
--   vtj_admin   manages the register (purposes, add/remove persons, import)
--               and runs fetches. vtj_admin IS a member of vtj_reader (with
--               INHERIT): whoever manages the register has to be able to read
--               what it holds, and readers' purpose limits (vtj.grant_reader)
--               do not apply to it. The reverse never holds: the script
--               refuses a vtj_reader that is a member of vtj_admin.
-- Both are created NOLOGIN (group roles: grant them to login roles). When they
-- already exist (another database of the cluster, or a previous install) they
-- are re-used only if they carry no dangerous attribute; otherwise
-- CREATE EXTENSION fails and says which role and which attribute. The check
-- also refuses a role that is a member of a superuser role (it could act as
-- the owner of every object of the extension through SET ROLE) or of
-- pg_read_all_data, pg_write_all_data, pg_read_server_files,
-- pg_write_server_files or pg_execute_server_program (they bypass the masked
-- views or reach the server's files).
--
-- Every check raises SQLSTATE 55000 (object_not_in_prerequisite_state).

-- 1. The database encoding, first thing: hetus, names and the municipality
--    code table need UTF8, and nothing is created in a database that cannot
--    hold them.
DO $pg_vtj$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION 'pg_vtj requires a database with encoding UTF8, this database has encoding %',
                        pg_catalog.getdatabaseencoding()
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Create the database with ENCODING ''UTF8'' TEMPLATE template0 and install pg_vtj there.';
    END IF;
END
$pg_vtj$;

-- 2. The roles: refuse dangerous pre-existing ones, create missing ones.
DO $pg_vtj$
DECLARE
    r record;
    bad text[];
BEGIN
    -- Attributes first, then memberships (vtj_admin inherits from
    -- vtj_reader, so a problem of vtj_reader is reported as its own).
    FOR r IN
        SELECT a.rolname, a.rolcanlogin, a.rolsuper, a.rolcreaterole, a.rolbypassrls, a.rolreplication
          FROM pg_catalog.pg_roles a
         WHERE a.rolname = ANY (ARRAY['vtj_reader', 'vtj_admin']::name[])
         ORDER BY a.rolname DESC
    LOOP
        bad := ARRAY[]::text[];
        IF r.rolcanlogin    THEN bad := bad || 'LOGIN'::text;       END IF;
        IF r.rolsuper       THEN bad := bad || 'SUPERUSER'::text;   END IF;
        IF r.rolcreaterole  THEN bad := bad || 'CREATEROLE'::text;  END IF;
        IF r.rolbypassrls   THEN bad := bad || 'BYPASSRLS'::text;   END IF;
        IF r.rolreplication THEN bad := bad || 'REPLICATION'::text; END IF;
        IF pg_catalog.cardinality(bad) > 0 THEN
            RAISE EXCEPTION 'role "%" already exists with %; pg_vtj needs it as a group role without these attributes',
                            r.rolname, pg_catalog.array_to_string(bad, ', ')
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = pg_catalog.format(
                          'Remove them (ALTER ROLE %I NOLOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS NOREPLICATION) and grant %I to the login roles that need it, then run CREATE EXTENSION again.',
                          r.rolname, r.rolname);
        END IF;
    END LOOP;
    FOR r IN
        SELECT a.rolname,
               (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(s.rolname), ', ' ORDER BY s.rolname)
                  FROM pg_catalog.pg_roles s
                 WHERE (s.rolsuper
                        OR s.rolname = ANY (ARRAY['pg_read_all_data', 'pg_write_all_data',
                                                  'pg_read_server_files', 'pg_write_server_files',
                                                  'pg_execute_server_program']::name[]))
                   AND s.rolname <> a.rolname
                   AND pg_catalog.pg_has_role(a.rolname, s.oid, 'MEMBER')) AS powerful
          FROM pg_catalog.pg_roles a
         WHERE a.rolname = ANY (ARRAY['vtj_reader', 'vtj_admin']::name[])
         ORDER BY a.rolname DESC
    LOOP
        -- A superuser role would let SET ROLE act as the owner of everything
        -- the extension creates; pg_read_all_data and its kind bypass the
        -- masked views or reach the server's files.
        IF r.powerful IS NOT NULL THEN
            RAISE EXCEPTION 'role "%" already exists and is a member of %', r.rolname, r.powerful
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Revoke that membership, then run CREATE EXTENSION again.';
        END IF;
    END LOOP;

    IF pg_catalog.to_regrole('vtj_reader') IS NULL THEN
        CREATE ROLE vtj_reader NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
    END IF;
    IF pg_catalog.to_regrole('vtj_admin') IS NULL THEN
        CREATE ROLE vtj_admin NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
    END IF;

    IF pg_catalog.pg_has_role('vtj_reader', 'vtj_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'role "vtj_reader" is a member of role "vtj_admin"; readers must not manage the register'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'REVOKE vtj_admin FROM vtj_reader, then run CREATE EXTENSION again.';
    END IF;
    -- vtj_admin reads what it manages (see the header).
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members m
                    WHERE m.roleid = 'vtj_reader'::regrole
                      AND m.member = 'vtj_admin'::regrole) THEN
        GRANT vtj_reader TO vtj_admin;
    END IF;
END
$pg_vtj$;

-- 3. The schema. Fails, and with it CREATE EXTENSION, if vtj exists.
CREATE SCHEMA vtj;
COMMENT ON SCHEMA vtj IS 'pg_vtj: municipal person register kept current from DVV''s VTJ-muutosrajapinta';

-- PUBLIC gets nothing (a new schema grants PUBLIC nothing; said explicitly).
REVOKE ALL ON SCHEMA vtj FROM PUBLIC;
GRANT USAGE ON SCHEMA vtj TO vtj_reader, vtj_admin;
