-- Storage layer (sql/install/20_storage.sql): tables, privileges, dump marks,
-- collations, indexes, the staging types' contract, "today".
BEGIN;
SELECT plan(24);

SELECT has_table('vtj', t, 'table vtj.' || t || ' exists')
  FROM unnest(ARRAY['person_state', 'person_entry', 'hetu_correction', 'journal', 'change_feed',
                    'chain', 'run', 'turvakielto_rule', 'merge_lock']) AS t;

-- Nobody but the owner has any privilege on a storage table.
SELECT is_empty($$
    SELECT c.relname, a.grantee::regrole::text, a.privilege_type
      FROM pg_class c, aclexplode(COALESCE(c.relacl, acldefault('r', c.relowner))) a
     WHERE c.relnamespace = 'vtj'::regnamespace
       AND c.relname IN ('person_state', 'person_entry', 'hetu_correction', 'journal', 'change_feed',
                         'chain', 'run', 'turvakielto_rule', 'merge_lock')
       AND a.grantee <> c.relowner
       AND NOT (c.relname = 'turvakielto_rule' AND a.grantee = 'vtj_admin'::regrole AND a.privilege_type = 'SELECT') $$,
    'storage tables grant nothing to anyone but their owner (vtj_admin may read the rule table, product.md §6)');
SELECT ok(NOT has_table_privilege('vtj_reader', 'vtj.person_entry', 'SELECT')
          AND NOT has_table_privilege('vtj_admin', 'vtj.person_state', 'SELECT')
          AND NOT has_table_privilege('vtj_admin', 'vtj.change_feed', 'SELECT'),
          'readers and admins cannot read the storage tables directly');

-- pg_dump carries every table and sequence of the storage layer.
SELECT is_empty($$
    SELECT c.oid::regclass FROM pg_class c
     WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind IN ('r', 'S')
       AND c.relname IN ('person_state', 'person_entry', 'person_entry_id_seq', 'hetu_correction',
                         'journal', 'journal_id_seq', 'change_feed', 'change_feed_id_seq', 'chain',
                         'run', 'run_id_seq', 'turvakielto_rule', 'merge_lock')
       AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'pg_vtj')::oid[]) $$,
    'every storage table and sequence is marked with pg_extension_config_dump');

-- Hetus, group names and codes are COLLATE "C".
SELECT is_empty($$
    SELECT a.attrelid::regclass, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'vtj'::regnamespace AND c.relkind = 'r' AND NOT a.attisdropped
       AND c.relname IN ('person_state', 'person_entry', 'hetu_correction', 'journal', 'change_feed', 'turvakielto_rule')
       AND a.attname IN ('hetu', 'vanha_hetu', 'uusi_hetu', 'tietoryhma', 'muutosattribuutti', 'kuntakoodi',
                         'kielikoodi', 'kielikoodi_iso6392', 'nimilaji', 'postinumero', 'valtiokoodi',
                         'rakennustunnus', 'rule', 'kind', 'outcome', 'stale_reason')
       AND a.attcollation <> 'pg_catalog."C"'::regcollation $$,
    'hetu, group and code columns are COLLATE "C"');

-- Few indexes on the bulk tables, no foreign keys (product.md §10).
SELECT is((SELECT string_agg(c.relname || '=' || (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid), ' '
                             ORDER BY c.relname)
             FROM pg_class c
            WHERE c.oid IN ('vtj.person_entry'::regclass, 'vtj.journal'::regclass, 'vtj.change_feed'::regclass,
                            'vtj.person_state'::regclass)),
          'change_feed=3 journal=2 person_entry=1 person_state=4',
          'index counts of the bulk tables (btree key + hetu, BRIN for retention; partial work-list indexes)');
SELECT is_empty($$
    SELECT conname FROM pg_constraint
     WHERE contype = 'f' AND conrelid IN ('vtj.person_entry'::regclass, 'vtj.journal'::regclass,
                                          'vtj.change_feed'::regclass, 'vtj.person_state'::regclass) $$,
    'no foreign keys on the bulk tables');

-- The feed's identity hands out ids in order across sessions.
SELECT is((SELECT cache_size FROM pg_sequences WHERE schemaname = 'vtj' AND sequencename = 'change_feed_id_seq'),
          1::bigint, 'change_feed ids are drawn without a per-session cache');

SELECT is((SELECT count(*)::int FROM vtj.merge_lock), 1, 'the merge lock table has its one row');
SELECT set_eq($$ SELECT tietoryhma::text FROM vtj.turvakielto_rule WHERE rule = 'TIEDOT_SENSUROIDAAN' $$,
              $$ SELECT unnest(vtj._censored_groups())::text $$,
              'TIEDOT_SENSUROIDAAN is seeded with the seven censored groups');
SELECT throws_ok($$ INSERT INTO vtj.turvakielto_rule (rule, tietoryhma) VALUES ('X', 'KOTIMAINEN_YHTEYSOSOITE') $$,
                 '23514', NULL, 'a rule cannot censor a contact address');

-- The staging types are the C++ glue's contract: their attributes in order.
SELECT is((SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'vtj._in_record'::regclass AND attnum > 0),
          'seq,position,hetu,muutospv,error', 'vtj._in_record attributes');
SELECT is((SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'vtj._in_entry'::regclass AND attnum > 0),
          'seq,record_seq,hetu,tietoryhma,muutosattribuutti,censored,voimassa_of,voimassa_present,'
          'voimassaolo,muutettu_hetu,aktiivinen_hetu,etunimi,sukunimi,etunimi_utf8,sukunimi_utf8,'
          'nimilaji,nimi,nimi_utf8,kielikoodi,kielikoodi_iso6392,kielinimi,kuollut,kuolinpv,kuolinpv_tarkkuus,'
          'turvakielto_aktiivinen,turva_loppupv,turva_loppupv_tarkkuus,kuntakoodi,kuntaan_muuttopv,'
          'kuntaan_muuttopv_tarkkuus,katunimi_fi,katunimi_sv,katunumero,huoneistokirjain,huoneistonumero,'
          'jakokirjain,postinumero,postitoimipaikka_fi,postitoimipaikka_sv,rakennustunnus,osoitenumero,'
          'postiosoite_fi,postiosoite_sv,postiosoite_lisarivi,lahiosoite,paikkakunta,valtiokoodi,valtionimi,'
          'tiedot,paatymispv,paatymispv_tarkkuus,alkupv,alkupv_tarkkuus,loppupv,loppupv_tarkkuus',
          'vtj._in_entry attributes');
SELECT ok((SELECT prosecdef AND proconfig @> ARRAY['search_path=pg_catalog, pg_temp']
             FROM pg_proc WHERE oid = 'vtj._merge_page(bigint,text,integer,bigint,bigint,vtj._in_record[],vtj._in_entry[],text[])'::regprocedure),
          'vtj._merge_page is SECURITY DEFINER with a pinned search_path');

-- "Today" is the Finnish date whatever the session's TimeZone.
SET LOCAL TimeZone = 'Pacific/Kiritimati';
SELECT is(vtj._today(), (now() AT TIME ZONE 'Europe/Helsinki')::date, 'vtj._today() at UTC+14');
SET LOCAL TimeZone = 'Pacific/Pago_Pago';
SELECT is(vtj._today(), (now() AT TIME ZONE 'Europe/Helsinki')::date, 'vtj._today() at UTC-11');

SELECT * FROM finish();
ROLLBACK;
