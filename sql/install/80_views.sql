-- 80_views.sql — the read side (product.md §3 "Read side", "Change feed",
-- §6 "Views enforce it too").
--
-- Every view is WITH (security_barrier), owned by the extension owner (so it
-- reads the owner-only storage tables for whoever may select from it), and
-- reads no setting and no session state: what it hides for a protected person
-- depends only on the stored flag vtj.person_state.turvakielto, which only the
-- merge changes, only from DVV data. "Today" is the Finnish date,
-- (now() AT TIME ZONE 'Europe/Helsinki')::date, spelled out in each view (as
-- vtj._today() does) so that a view calls no function of the extension and a
-- reader needs no EXECUTE privilege. An entry is current when alkupv is NULL
-- or <= today and loppupv is NULL or >= today: a future-dated move appears on
-- its day, an ended entry disappears the day after its loppupv.
--
-- Masking for a person whose prohibition is active: no row of the seven
-- TIEDOT_SENSUROIDAAN groups, nor of a group of any rule in
-- vtj.turvakielto_rule, in vtj.addresses (contact addresses, YHTEYSOSOITE,
-- stay visible: they exist so that such a person can be reached), NULL
-- kotikunta, kotikunta_nimi, kotikunta_nimi_sv and kuntaan_muuttopv in
-- vtj.persons, empty tiedot in vtj.guardianships, no feed row of a censored
-- group in vtj.changes — whatever the storage holds.
--
-- Reader scoping by purposes (vtj.grant_reader, 70_governance.sql): every
-- person-level view goes through the registration, and keeps only persons
-- registered for the reader's purposes (vtj._reader_purposes, 10_register.sql:
-- NULL for vtj_admin, superusers and unscoped readers, for whom any
-- registration will do; one sub-select evaluated once per query, so that the
-- check costs a point lookup one index probe of vtj.registration and a join
-- one pass over it); vtj.changes also shows rows under an earlier hetu that a
-- correction moved to such a person; vtj.status counts only such persons and
-- takes its purpose and copy warnings from vtj._purpose_warning and
-- vtj._instance_warning (70_governance.sql). The views come after the
-- governance layer in the install script for that reason.
--
-- Grants (90_grants.sql): vtj_reader gets SELECT on vtj.persons,
-- vtj.addresses, vtj.name_history, vtj.changes, vtj.sync_runs and
-- vtj.status; vtj.hetu_history and vtj.guardianships are for vtj_admin only
-- (and reader roles granted them explicitly).

-- ---------------------------------------------------------------------------
-- vtj.persons: one row per registered person whose base data is loaded.
-- Single-valued groups: the current entry with the latest alkupv (the
-- later-stored one on a tie) wins. Names from the …UTF8 fields when present.
--
-- Set-based, not per person: the current entries of the four groups are
-- picked in one sorted pass (DISTINCT ON) and folded into one row per hetu
-- (GROUP BY), the shape of a plain query on the storage tables. A view with
-- security_barrier is never flattened into the query that uses it, so a join
-- with it (customers JOIN vtj.persons ON hetu) evaluates the view for every
-- person; per-person LATERAL look-ups would then cost four index scans and
-- sorts per person of the register. A restriction on hetu (a point look-up)
-- still reaches the storage: texteq is leakproof, so hetu = $1 is pushed into
-- the view, and through the join on ps.hetu into the grouped subquery, whose
-- grouping column it is (an index scan of person_entry_pkey).
-- Masking: KOTIKUNTA is censored, so kotikunta and kuntaan_muuttopv are NULL
-- for a protected person and the municipality's names are not joined; the
-- CASE is part of the view's output, below anything the querying user adds
-- (security_barrier: a user's non-leakproof condition is evaluated above it).
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.persons WITH (security_barrier) AS
SELECT ps.hetu::text AS hetu,
       cur.etunimet,
       cur.sukunimi,
       cur.aidinkieli::text AS aidinkieli,
       cur.asiointikieli::text AS asiointikieli,
       ps.kuollut,
       ps.kuolinpv,
       ps.kuolinpv_tarkkuus::text AS kuolinpv_tarkkuus,
       ps.turvakielto,
       ps.turva_loppupv AS turvakielto_loppupv,
       CASE WHEN NOT ps.turvakielto THEN cur.kotikunta::text END AS kotikunta,
       k.nimi AS kotikunta_nimi,
       k.nimi_sv AS kotikunta_nimi_sv,
       CASE WHEN NOT ps.turvakielto THEN cur.kuntaan_muuttopv END AS kuntaan_muuttopv,
       ps.updated_at
  FROM vtj.person_state ps
  LEFT JOIN (
        -- one row per hetu: the winning current entry of each group
        SELECT c.hetu,
               max(c.etunimet) FILTER (WHERE c.tietoryhma = 'HENKILON_NIMI') AS etunimet,
               max(c.sukunimi) FILTER (WHERE c.tietoryhma = 'HENKILON_NIMI') AS sukunimi,
               max(c.kielikoodi) FILTER (WHERE c.tietoryhma = 'AIDINKIELI') AS aidinkieli,
               max(c.kielikoodi) FILTER (WHERE c.tietoryhma = 'ASIOINTIKIELI') AS asiointikieli,
               max(c.kuntakoodi) FILTER (WHERE c.tietoryhma = 'KOTIKUNTA') AS kotikunta,
               max(c.alkupv) FILTER (WHERE c.tietoryhma = 'KOTIKUNTA') AS kuntaan_muuttopv
          FROM (SELECT DISTINCT ON (e.hetu, e.tietoryhma)
                       e.hetu,
                       e.tietoryhma,
                       COALESCE(e.etunimi_utf8, e.etunimi) AS etunimet,
                       COALESCE(e.sukunimi_utf8, e.sukunimi) AS sukunimi,
                       e.kielikoodi,
                       e.kuntakoodi,
                       e.alkupv
                  FROM vtj.person_entry e
                 CROSS JOIN LATERAL (SELECT (pg_catalog.now() AT TIME ZONE 'Europe/Helsinki')::date AS today) d
                 WHERE e.tietoryhma IN ('HENKILON_NIMI', 'AIDINKIELI', 'ASIOINTIKIELI', 'KOTIKUNTA')
                   AND (e.alkupv IS NULL OR e.alkupv <= d.today)
                   AND (e.loppupv IS NULL OR e.loppupv >= d.today)
                 ORDER BY e.hetu, e.tietoryhma, e.alkupv DESC NULLS LAST, e.id DESC) c
         GROUP BY c.hetu) cur ON cur.hetu = ps.hetu
  LEFT JOIN vtj.kunta k ON k.kuntakoodi = cur.kotikunta AND NOT ps.turvakielto
 WHERE ps.base_loaded_at IS NOT NULL
   AND EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = ps.hetu
                  AND (g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[])) IS NOT FALSE);
COMMENT ON VIEW vtj.persons IS
    'One row per registered, loaded person: current names, languages, death, turvakielto and home municipality (masked under turvakielto)';

-- ---------------------------------------------------------------------------
-- vtj.addresses: one row per current entry of the 6 address groups and the 2
-- contact address groups.
-- katuosoite, the first line as printed on mail:
--   street addresses  katunimi katunumero huoneistokirjain huoneistonumero,
--                     the apartment number without leading zeros and with
--                     the division letter appended ('Mikkolantie 30 F 28');
--                     katunimi in Finnish, Swedish when the Finnish one is
--                     absent (katuosoite_sv: the other way round);
--   postal and contact addresses: postiosoite;
--   foreign addresses: lahiosoite.
-- The reader's persons are decided once per person, in a subquery grouped by
-- hetu: person_state and registration are merged in hetu order and the
-- entries joined to the result by one hash, instead of two hash joins over
-- every entry (which spill to disk on a large register). GROUP BY ps.hetu
-- (the key: one row per person whatever it is grouped by) keeps the planner
-- from flattening the subquery, yet a restriction on hetu still reaches it (a
-- grouping column), so a point lookup stays three index scans. The groups of
-- vtj.turvakielto_rule are read once per query (an ARRAY sub-select).
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.addresses WITH (security_barrier) AS
SELECT e.hetu::text AS hetu,
       e.tietoryhma::text AS tietoryhma,
       CASE WHEN e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE')
                THEN st.fi
            WHEN e.tietoryhma IN ('VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE')
                THEN COALESCE(e.lahiosoite, e.postiosoite_fi, e.postiosoite_sv)
            ELSE COALESCE(e.postiosoite_fi, e.postiosoite_sv, st.fi, e.lahiosoite)
       END AS katuosoite,
       CASE WHEN e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE')
                THEN st.sv
            WHEN e.tietoryhma IN ('VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE')
                THEN COALESCE(e.lahiosoite, e.postiosoite_sv, e.postiosoite_fi)
            ELSE COALESCE(e.postiosoite_sv, e.postiosoite_fi, st.sv, e.lahiosoite)
       END AS katuosoite_sv,
       e.katunimi_fi,
       e.katunimi_sv,
       e.katunumero,
       e.huoneistokirjain,
       e.huoneistonumero,
       e.jakokirjain,
       e.postinumero::text AS postinumero,
       e.postitoimipaikka_fi,
       e.postitoimipaikka_sv,
       e.postiosoite_fi,
       e.postiosoite_sv,
       e.postiosoite_lisarivi,
       e.lahiosoite,
       e.paikkakunta,
       e.valtiokoodi::text AS valtiokoodi,
       e.valtionimi,
       e.kuntakoodi::text AS kuntakoodi,
       e.alkupv,
       e.loppupv
  FROM vtj.person_entry e
  -- the persons the reader may see, each once: loaded, and registered for
  -- one of the reader's purposes
  JOIN (SELECT ps.hetu, ps.turvakielto
          FROM vtj.person_state ps
         WHERE ps.base_loaded_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = ps.hetu
                          AND (g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[])) IS NOT FALSE)
         GROUP BY ps.hetu) ps ON ps.hetu = e.hetu
 CROSS JOIN LATERAL (SELECT (pg_catalog.now() AT TIME ZONE 'Europe/Helsinki')::date AS today) d
 CROSS JOIN LATERAL (
        SELECT NULLIF(pg_catalog.concat(NULLIF(pg_catalog.ltrim(e.huoneistonumero, '0'), ''), e.jakokirjain), '')
                   AS huoneisto) h
 CROSS JOIN LATERAL (
        SELECT NULLIF(pg_catalog.concat_ws(' ', COALESCE(e.katunimi_fi, e.katunimi_sv), e.katunumero,
                                           e.huoneistokirjain, h.huoneisto), '') AS fi,
               NULLIF(pg_catalog.concat_ws(' ', COALESCE(e.katunimi_sv, e.katunimi_fi), e.katunumero,
                                           e.huoneistokirjain, h.huoneisto), '') AS sv) st
 WHERE e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE',
                        'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE',
                        'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                        'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE')
   AND (e.alkupv IS NULL OR e.alkupv <= d.today)
   AND (e.loppupv IS NULL OR e.loppupv >= d.today)
   AND NOT (ps.turvakielto
            AND (e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE',
                                  'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE',
                                  'TILAPAINEN_ULKOMAINEN_OSOITE', 'KOTIKUNTA', 'ULKOMAINEN_POSTIOSOITE')
                 OR e.tietoryhma = ANY (ARRAY(SELECT r.tietoryhma FROM vtj.turvakielto_rule r))));
COMMENT ON VIEW vtj.addresses IS
    'One row per current address of a registered person (censored groups hidden under turvakielto; contact addresses stay)';

-- ---------------------------------------------------------------------------
-- vtj.name_history: the NIMENMUUTOS entries, current and ended.
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.name_history WITH (security_barrier) AS
SELECT e.hetu::text AS hetu,
       e.nimilaji::text AS nimilaji,
       COALESCE(e.nimi_utf8, e.nimi) AS nimi,
       e.alkupv,
       e.loppupv
  FROM vtj.person_entry e
  JOIN vtj.person_state ps ON ps.hetu = e.hetu
 WHERE e.tietoryhma = 'NIMENMUUTOS'
   AND ps.base_loaded_at IS NOT NULL
   AND EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = e.hetu
                  AND (g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[])) IS NOT FALSE);
COMMENT ON VIEW vtj.name_history IS
    'Name history (NIMENMUUTOS) of registered persons';

-- ---------------------------------------------------------------------------
-- vtj.guardianships (vtj_admin): current EDUNVALVONTA and
-- EDUNVALVONTAVALTUUTUS entries; tiedot holds only allow-listed keys (the
-- merge filtered them) and is empty for a protected person.
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.guardianships WITH (security_barrier) AS
SELECT e.hetu::text AS hetu,
       e.tietoryhma::text AS tietoryhma,
       e.alkupv,
       e.loppupv,
       CASE WHEN ps.turvakielto THEN '{}'::jsonb ELSE COALESCE(e.tiedot, '{}'::jsonb) END AS tiedot
  FROM vtj.person_entry e
  JOIN vtj.person_state ps ON ps.hetu = e.hetu
 CROSS JOIN LATERAL (SELECT (pg_catalog.now() AT TIME ZONE 'Europe/Helsinki')::date AS today) d
 WHERE e.tietoryhma IN ('EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS')
   AND (e.alkupv IS NULL OR e.alkupv <= d.today)
   AND (e.loppupv IS NULL OR e.loppupv >= d.today)
   AND ps.base_loaded_at IS NOT NULL
   AND EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = e.hetu
                  AND (g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[])) IS NOT FALSE);
COMMENT ON VIEW vtj.guardianships IS
    'Current guardianships (EDUNVALVONTA, EDUNVALVONTAVALTUUTUS) of registered persons; tiedot empty under turvakielto';

-- ---------------------------------------------------------------------------
-- vtj.hetu_history (vtj_admin only: a correction can reveal a legal gender
-- change or undo a protective change).
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.hetu_history WITH (security_barrier) AS
SELECT c.vanha_hetu::text AS vanha_hetu,
       c.uusi_hetu::text AS uusi_hetu,
       c.muutettu_at
  FROM vtj.hetu_correction c
 WHERE (SELECT x.purposes FROM vtj._reader_purposes x) IS NULL
    OR EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = c.uusi_hetu
                  AND g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[]));
COMMENT ON VIEW vtj.hetu_history IS
    'Hetu corrections: the person''s data and registrations moved from vanha_hetu to uusi_hetu';

-- ---------------------------------------------------------------------------
-- vtj.changes: the change feed. Read it by id (WHERE id > last seen ORDER BY
-- id): ids become visible in increasing order. A hetu correction has a row
-- under both hetus (the old one is no longer registered, so the feed is not
-- joined to the register; purpose scoping will follow the hetu history).
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.changes WITH (security_barrier) AS
SELECT c.id,
       c.hetu::text AS hetu,
       c.tietoryhma::text AS tietoryhma,
       c.muutosattribuutti::text AS muutosattribuutti,
       c.run_id,
       c.applied_at
  FROM vtj.change_feed c
 WHERE NOT EXISTS (
        SELECT 1 FROM vtj.person_state ps
         WHERE ps.hetu = c.hetu AND ps.turvakielto
           AND (c.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE',
                                 'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE',
                                 'TILAPAINEN_ULKOMAINEN_OSOITE', 'KOTIKUNTA', 'ULKOMAINEN_POSTIOSOITE')
                OR c.tietoryhma IN (SELECT r.tietoryhma FROM vtj.turvakielto_rule r)))
   AND ((SELECT x.purposes FROM vtj._reader_purposes x) IS NULL
        OR EXISTS (SELECT 1 FROM vtj.registration g
                    WHERE g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[])
                      AND (g.hetu = c.hetu
                           OR g.hetu IN (SELECT h.uusi_hetu FROM vtj.hetu_correction h
                                          WHERE h.vanha_hetu = c.hetu))));
COMMENT ON VIEW vtj.changes IS
    'Change feed: one row per visible change of a person; read by increasing id';

-- ---------------------------------------------------------------------------
-- vtj.sync_runs
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.sync_runs WITH (security_barrier) AS
SELECT x.id,
       x.kind::text AS kind,
       x.started_at,
       x.finished_at,
       x.status::text AS status,
       x.started_by,
       x.http_requests,
       x.records,
       x.persons,
       x.billed_persons,
       x.unregistered,
       x.not_found,
       x.error
  FROM vtj.run x;
COMMENT ON VIEW vtj.sync_runs IS
    'Run history with counts (a running run shows its counts as it goes)';

-- ---------------------------------------------------------------------------
-- vtj.status: one row.
-- warning (NULL when all is well), each part separated by '; ':
--   the last successful run is older than 36 hours (DVV asks for daily
--   polling), or there is none while persons are registered;
--   the key has not been obtained, or not obtained or advanced for 10 days
--   (days left to DVV's 14-day limit; past it: vtj.rebaseline());
--   a purpose in use lacks the description of the permit application.
-- (A restore into another instance, product.md §9, adds its own part when
-- that check exists.)
-- ---------------------------------------------------------------------------
CREATE VIEW vtj.status WITH (security_barrier) AS
WITH last_ok AS (
    SELECT max(x.finished_at) AS at FROM vtj.run x WHERE x.status = 'ok'
), ch AS (
    -- the chain whose key is oldest
    SELECT c.kirjausavain, c.key_advanced_at,
           GREATEST(c.key_obtained_at, c.key_advanced_at) AS fresh_at
      FROM vtj.chain c
     ORDER BY GREATEST(c.key_obtained_at, c.key_advanced_at), c.chain_id
     LIMIT 1
), cnt AS (
    SELECT count(*) AS registered,
           count(*) FILTER (WHERE ps.base_loaded_at IS NULL) AS not_loaded,
           count(*) FILTER (WHERE ps.not_found_count > 0) AS not_found,
           count(*) FILTER (WHERE ps.stale) AS stale,
           count(*) FILTER (WHERE ps.kuollut) AS deceased
      FROM vtj.subject s
      LEFT JOIN vtj.person_state ps ON ps.hetu = s.hetu
     WHERE (SELECT x.purposes FROM vtj._reader_purposes x) IS NULL
        OR EXISTS (SELECT 1 FROM vtj.registration g WHERE g.hetu = s.hetu
                      AND g.purpose = ANY ((SELECT x.purposes FROM vtj._reader_purposes x)::text[]))
), failed AS (
    SELECT count(*) AS n FROM vtj.run x
     WHERE x.status = 'failed' AND x.started_at > pg_catalog.now() - interval '24 hours'
), undescribed AS (
    SELECT pg_catalog.string_agg(p.purpose, ', ' ORDER BY p.purpose) AS purposes
      FROM vtj.purposes p
     WHERE (p.description IS NULL OR pg_catalog.btrim(p.description) = '')
       AND EXISTS (SELECT 1 FROM vtj.registration g WHERE g.purpose = p.purpose)
)
SELECT l.at AS last_success_at,
       pg_catalog.now() - l.at AS last_success_age,
       ch.kirjausavain,
       ch.key_advanced_at,
       cnt.registered,
       cnt.not_loaded,
       cnt.not_found,
       cnt.stale,
       cnt.deceased,
       failed.n AS failed_last_24h,
       NULLIF(pg_catalog.concat_ws('; ',
           CASE WHEN l.at IS NULL AND cnt.registered > 0
                    THEN 'no successful run yet'
                WHEN l.at < pg_catalog.now() - interval '36 hours'
                    THEN pg_catalog.format('the last successful run was %s hours ago; DVV asks for polling at least daily',
                                           (EXTRACT(epoch FROM pg_catalog.now() - l.at) / 3600)::bigint)
           END,
           CASE WHEN ch.fresh_at IS NULL AND cnt.registered > 0
                    THEN 'no kirjausavain has been obtained yet'
                WHEN ch.fresh_at < pg_catalog.now() - interval '14 days'
                    THEN pg_catalog.format('the kirjausavain has not advanced for %s days, past DVV''s 14-day limit: run vtj.rebaseline()',
                                           EXTRACT(day FROM pg_catalog.now() - ch.fresh_at)::bigint)
                WHEN ch.fresh_at < pg_catalog.now() - interval '10 days'
                    THEN pg_catalog.format('the kirjausavain has not advanced for %s days; %s days left of DVV''s 14-day limit',
                                           EXTRACT(day FROM pg_catalog.now() - ch.fresh_at)::bigint,
                                           14 - EXTRACT(day FROM pg_catalog.now() - ch.fresh_at)::bigint)
           END,
           (SELECT w.warning FROM vtj._purpose_warning w),
           (SELECT w.warning FROM vtj._instance_warning w)), '') AS warning
  FROM cnt
 CROSS JOIN failed
 CROSS JOIN undescribed u
  LEFT JOIN last_ok l ON true
  LEFT JOIN ch ON true;
COMMENT ON VIEW vtj.status IS
    'One row: last success, key chain state, register counts and warnings';
