-- 90_grants.sql — the extension's privileges, last of the install script.
--
--   PUBLIC      nothing: no EXECUTE on any function of schema vtj (revoked
--               from every function, whichever file created it), no USAGE on
--               the schema or its types, nothing on tables.
--   vtj_reader  USAGE on the schema (00_schema.sql); SELECT on the masked
--               views and on the municipality code table; EXECUTE on
--               vtj.hetu_valid.
--   vtj_admin   member of vtj_reader (00_schema.sql), plus: EXECUTE on the
--               management and fetch functions; SELECT on vtj.purposes,
--               vtj.turvakielto_rule, vtj.hetu_history, vtj.guardianships,
--               vtj.admin_log; SELECT, INSERT, UPDATE, DELETE on vtj.import
--               (import_persons takes only the caller's rows).
--               (50_runs.sql also grants it vtj._unregistered_among.)
--   superuser   vtj.set_kirjausavain, vtj.adopt_instance and the turvakielto
--               rule function: no grant at all.
-- Storage tables: nothing to anyone (the views and SECURITY DEFINER functions
-- run as the extension owner).
--
-- Objects other files have not created yet are skipped (to_regclass /
-- to_regprocedure), so this file runs whatever is present; the privilege
-- tests (test/sql/90_privileges.sql) check the complete result.
-- Every upgrade script ends with the same REVOKE loop.

DO $pg_vtj$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'vtj'::regnamespace
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', f);
    END LOOP;
END
$pg_vtj$;

REVOKE ALL ON ALL TABLES IN SCHEMA vtj FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA vtj FROM PUBLIC;

-- Types and domains default to USAGE for PUBLIC (it only allows creating
-- objects that use them; revoked all the same). Row types of tables and
-- views and array types have no privileges of their own.
DO $pg_vtj$
DECLARE
    t regtype;
BEGIN
    FOR t IN
        SELECT y.oid::regtype FROM pg_catalog.pg_type y
          LEFT JOIN pg_catalog.pg_class c ON c.oid = y.typrelid
         WHERE y.typnamespace = 'vtj'::regnamespace
           AND (y.typrelid = 0 OR c.relkind = 'c')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = y.oid)
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON TYPE %s FROM PUBLIC', t);
    END LOOP;
END
$pg_vtj$;

DO $pg_vtj$
DECLARE
    g record;
BEGIN
    -- Functions: (signature, roles).
    FOR g IN
        SELECT pg_catalog.to_regprocedure(t.sig) AS f, t.roles
          FROM (VALUES
            ('vtj.hetu_valid(text)',                         'vtj_reader, vtj_admin'),
            ('vtj.add_person(text, text, text)',             'vtj_admin'),
            ('vtj.add_persons(text[], text, text[])',        'vtj_admin'),
            ('vtj.import_persons(text)',                     'vtj_admin'),
            ('vtj.remove_person(text, text)',                'vtj_admin'),
            ('vtj.set_purpose(text, text, text, boolean)',   'vtj_admin'),
            ('vtj.grant_reader(name, text[])',               'vtj_admin'),
            ('vtj.revoke_reader(name)',                      'vtj_admin'),
            ('vtj.sync()',                                   'vtj_admin'),
            ('vtj.sync_now()',                               'vtj_admin'),
            ('vtj.load_base(text[])',                        'vtj_admin'),
            ('vtj.refresh_person(text)',                     'vtj_admin'),
            ('vtj.rebaseline()',                             'vtj_admin'),
            ('vtj.admin_log_for(text)',                      'vtj_admin')
          ) AS t(sig, roles)
    LOOP
        IF g.f IS NOT NULL THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s', g.f, g.roles);
        END IF;
    END LOOP;

    -- Relations: (name, privileges, roles).
    FOR g IN
        SELECT pg_catalog.to_regclass(t.rel) AS r, t.privs, t.roles
          FROM (VALUES
            -- the masked read side
            ('vtj.persons',          'SELECT', 'vtj_reader'),
            ('vtj.addresses',        'SELECT', 'vtj_reader'),
            ('vtj.name_history',     'SELECT', 'vtj_reader'),
            ('vtj.changes',          'SELECT', 'vtj_reader'),
            ('vtj.sync_runs',        'SELECT', 'vtj_reader'),
            ('vtj.status',           'SELECT', 'vtj_reader'),
            ('vtj.register',         'SELECT', 'vtj_reader'),
            -- public facts, needed to name vtj.addresses.kuntakoodi
            ('vtj.kunta',            'SELECT', 'vtj_reader'),
            -- vtj_admin only
            ('vtj.hetu_history',     'SELECT', 'vtj_admin'),
            ('vtj.guardianships',    'SELECT', 'vtj_admin'),
            ('vtj.admin_log',        'SELECT', 'vtj_admin'),
            ('vtj.purposes',         'SELECT', 'vtj_admin'),
            ('vtj.turvakielto_rule', 'SELECT', 'vtj_admin'),
            ('vtj.import',           'SELECT, INSERT, UPDATE, DELETE', 'vtj_admin'),
            ('vtj.import_line_seq',  'USAGE', 'vtj_admin')
          ) AS t(rel, privs, roles)
    LOOP
        IF g.r IS NOT NULL THEN
            EXECUTE pg_catalog.format('GRANT %s ON %s TO %s', g.privs, g.r, g.roles);
        END IF;
    END LOOP;
END
$pg_vtj$;
