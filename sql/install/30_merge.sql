-- 30_merge.sql — the set-based merge of one page into the register.
--
-- ===========================================================================
-- CONTRACT of vtj._merge_page (for the C++ glue, src/pg/)
-- ===========================================================================
--
--   vtj._merge_page(p_run_id    bigint,
--                   p_kind      text,      -- 'base' | 'refresh' | 'changes'
--                   p_chain_id  integer,   -- 'changes': the key chain; else ignored
--                   p_from_key  bigint,    -- 'changes': the key the page was requested with
--                   p_to_key    bigint,    -- 'changes': viimeisinKirjausavain of the response;
--                                          -- 'base'/'refresh': the key obtained BEFORE the
--                                          --   /perustiedot request (stored as the persons'
--                                          --   base key)
--                   p_records   vtj._in_record[],
--                   p_entries   vtj._in_entry[],
--                   p_not_found text[] DEFAULT NULL)  -- base/refresh: hetus asked but
--                                          -- not returned (only when ajanTasalla = true)
--     RETURNS vtj._merge_result
--
-- Call it once per page, in the page's own short transaction (no HTTP in
-- flight), at isolation level READ COMMITTED (it raises otherwise: it relies
-- on each statement seeing what concurrent removals committed), as the
-- extension owner (it is SECURITY DEFINER; EXECUTE is granted to nobody by
-- the install script: the glue runs it as the owner or 90_grants grants
-- it), then commit. The row of p_run_id must exist with status 'running'.
-- Locks, in this order, held to the end of the transaction: the one row of
-- vtj.merge_lock (page merges of every chain run one at a time, so feed ids
-- become visible in order), the chain row (compare-and-set), the register
-- rows (vtj.subject) of the page's hetus FOR KEY SHARE in hetu order (a
-- removal, which locks its row FOR UPDATE, waits for the page or the page
-- sees the removal), and for a hetu correction both register rows FOR
-- UPDATE. The caller should hold no lock on vtj.subject rows before the call.
--
-- Input (built by the glue from the decoded page; page order = the order of
-- the response's array, and within a record the order of its tietoryhmat):
--   vtj._in_record  one per person record of the page, malformed ones too:
--     seq       its position in the array, 1, 2, ... (page order);
--     position  0-based index of the record in the response array (journal);
--     hetu      the record's henkilotunnus (NULL only for a malformed record
--               whose hetu could not be read);
--     muutospv  /muutokset only; NULL for base data;
--     error     NULL, or the decoder's content-free reason: the record is
--               malformed (its entries, if any were sent, are ignored).
--   vtj._in_entry   one per group entry, unknown groups and censored stubs
--     included, plus one per element of voimassaolevatTiedot:
--     seq         its position in the array, 1, 2, ... (page order); an element of
--                 voimassaolevatTiedot comes after its POISTETTU entry;
--     record_seq  the seq of its record; hetu the record's hetu (checked);
--     tietoryhma  DVV's group name (any name: groups outside the 18 are
--                 journalled by name, never stored);
--     muutosattribuutti  LISATTY, MUUTETTU, POISTETTU, KORJATTAVA, KORJATTU,
--                 LISATIETO; NULL for base data and voimassaolevatTiedot;
--     censored    true for a censored stub (turvakiellonAlaisetKentat):
--                 then no values; an unknown group may be a stub too;
--     voimassa_of NULL, or the seq of the POISTETTU entry whose
--                 voimassaolevatTiedot this entry is an element of;
--     voimassa_present  on a POISTETTU entry: voimassaolevatTiedot was present
--                 (an empty array then means "no valid entries left");
--     then the fields (NULL when absent): bilingual texts split into _fi/_sv
--     (a plain string goes to _fi), dates as date + tarkkuus ('PAIVA',
--     'KUUKAUSI', 'VUOSI'; partial dates already normalised to the first
--     day), KOTIKUNTA's kuntaanMuuttopv in kuntaan_muuttopv, EDUNVALVONTA's
--     paatymispv in paatymispv, guardianship details as compact jsonb in
--     tiedot (the SQL filters it through the same allow-list again).
--   The glue censors before the transfer (product.md §6: values of censored
--   groups of a person protected at the end of the page never reach SQL);
--   the merge does not depend on it: it drops such values again.
--
-- Result (vtj._merge_result):
--   discarded       true when the stored key of p_chain_id was not
--                   p_from_key (another run merged the page): nothing was
--                   merged, every count is 0; roll back or commit, same thing.
--   records         change records (or base records) applied
--   persons         distinct persons they belonged to
--   unregistered    records of hetus not registered when merged (not stored,
--                   not journalled)
--   superseded      records of persons whose base data is newer (a 'changes'
--                   page ending at or before the person's base key, or a
--                   person not base-loaded yet: its base load will fetch the
--                   current state), or an older base batch, or a duplicate
--                   record of a person in one base batch
--   unmatched       MUUTETTU/KORJATTU stored as new + POISTETTU/KORJATTAVA
--                   that matched no stored entry (product.md §5)
--   malformed       records with error (journalled by position and reason,
--                   the person marked stale)
--   feed_rows       rows added to vtj.change_feed (NOTIFY vtj_changes sent
--                   with the run id as payload when > 0 and the notification
--                   queue is less than half full; otherwise counted in
--                   vtj.run.notify_skipped)
--   unknown_groups  entries of groups outside the 18
--   censored        entries dropped because their group is censored for the
--                   person at that point of the page
--   not_found       hetus of p_not_found that are registered (retry times set)
--   hetu_corrections  hetu corrections carried out (data and registrations
--                   moved)
--   hetu_errors     HENKILOTUNNUS_KORJAUS records without aktiivinenHenkilotunnus
--                   (journalled, nothing moved)
--   refetch         hetus to re-fetch with /perustiedot in this run: their
--                   prohibition ended in this page (product.md §6 "Revealed"),
--                   or a hetu correction merged them into an already loaded
--                   hetu. They are also marked stale in vtj.person_state,
--                   so a failed re-fetch is retried by later runs
--                   (vtj._refetch_due lists them).
-- The counts are also added to the run's row in vtj.run (http_requests and
-- billed_persons are the run driver's: vtj._run_progress).
--
-- Errors (all roll the page back): 22023 for a bad p_kind, keys, or arrays
-- that break the rules above (a glue bug; the message names no datum);
-- 55000 for a run that is not running, or an isolation level other than
-- READ COMMITTED.
--
-- ===========================================================================
-- HOW ORDER SEMANTICS ARE ACHIEVED (product.md §5: "the same as applying the
-- records one at a time in key/page order")
-- ===========================================================================
-- Records of different persons, and entries of different (person, group)
-- "streams", do not interact, except through the cross-group effects, which
-- are resolved first, per person:
--   1. hetu corrections (few; a loop over them in page order): the person's
--      data and registrations move; every entry of the page is then applied
--      under the person's final hetu;
--   2. turvakielto: per person, the TURVAKIELTO entries and censored stubs in
--      page order give the state at the end of the page (window over seq);
--      a censored group's entries before the last moment the prohibition was
--      active are dropped, and if it was active at any moment the stored
--      traces of the censored groups are erased first;
--   3. KUOLINPAIVA and TURVAKIELTO are single-valued: the last entry wins.
-- Within one stream the entries are numbered 1, 2, ... in page order (row_number
-- over (hetu, group) order by seq) and applied in ROUNDS: round k applies the
-- k-th entry of every stream at once, in one set-based statement (match,
-- delete, update, insert as data-modifying CTEs over disjoint rows). Round
-- k+1 sees the result of round k, so an entry is matched against exactly the
-- state the earlier entries of its stream left: the result equals the
-- one-at-a-time application. The number of rounds is the largest number of
-- entries of one stream in the page (typically 1-3), independent of the page
-- size: no loop over the page's rows.
-- (The entries of round k are slices of arrays sorted by round, so that each
-- statement is planned with exact row counts.)
-- Base data (kinds base/refresh) replaces the person's whole stored state
-- (every group, delivered or not); a person whose stored state already
-- equals the delivered one is not rewritten (EXCEPT ALL comparison), so a
-- repeated base batch changes nothing and writes no feed row.
--
-- Details of product.md §5 as implemented:
--   * "the same alkupv (value and precision)" includes both absent, so a
--     MUUTETTU of an undated single entry (a name, a surname in NIMENMUUTOS)
--     replaces it; among several candidates: an exact match first, then a
--     current one (no loppupv), then the oldest.
--   * LISATTY of an entry whose fields other than loppupv equal a stored
--     one's (ended or not) adds nothing: a replayed page leaves the same
--     state, even when a later page already ended the entry.
--   * POISTETTU with voimassaolevatTiedot: the matched entry goes, every other
--     entry still valid on the merge's Finnish date (no loppupv, or not before
--     it) that is not among voimassaolevatTiedot goes, and those not stored
--     are added; ended entries (history) stay.
--   * A censored stub of any group deletes the person's entries of that group
--     (and says that a prohibition is active).
--   * KUOLINPAIVA, TURVAKIELTO: LISATTY/MUUTETTU/KORJATTU and base data set
--     the value, POISTETTU/KORJATTAVA clear it (an element of
--     voimassaolevatTiedot sets it again), LISATIETO changes nothing.
--   * Single-valued presentation (names, languages, home municipality): the
--     views show the current entry with the latest alkupv (the later-stored
--     one on a tie), so an unmatched MUUTETTU with a new alkupv supersedes.
-- Change feed: one row per (person, group, muutosattribuutti) of the entries
-- that changed stored content, written only when the group's content at the
-- end of the page differs from its start (a delete and a re-insert of the
-- same entry is no change); KUOLINPAIVA/TURVAKIELTO rows when the person's
-- values change; a base load: PERUSTIEDOT on the first load or when entries
-- or death changed, TURVAKIELTO when the prohibition or its end changed; a
-- hetu correction: HENKILOTUNNUS_KORJAUS under the old hetu (MUUTETTU) and
-- the new one (LISATTY). Nothing for censored groups of a protected person.
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Input and result types (filled / read by the glue)
-- ---------------------------------------------------------------------------

-- vtj._in_record and vtj._in_entry are defined in 20_storage.sql (the journal
-- keeps change entries as vtj._in_entry values).

CREATE TYPE vtj._merge_result AS (
    discarded        boolean,
    records          integer,
    persons          integer,
    unregistered     integer,
    superseded       integer,
    unmatched        integer,
    malformed        integer,
    feed_rows        integer,
    unknown_groups   integer,
    censored         integer,
    not_found        integer,
    hetu_corrections integer,
    hetu_errors      integer,
    refetch          text[]
);

-- Working types of the merge (internal).
CREATE TYPE vtj._rec AS (            -- a classified record
    seq        integer,
    position   integer,
    hetu       text COLLATE "C",     -- as delivered
    eff        text COLLATE "C",     -- after the page's hetu corrections
    muutospv   timestamptz,
    error      text,
    registered boolean,
    first_load boolean,              -- base kinds: no base data stored before
    status     text COLLATE "C",     -- apply | unregistered | superseded | malformed
    -- the person's stored state before the page (read once, here)
    ps_tk      boolean,
    ps_tk_loppupv   date,
    ps_tk_loppupv_t text COLLATE "C",
    ps_kuollut boolean,
    ps_kuolinpv     date,
    ps_kuolinpv_t   text COLLATE "C"
);
CREATE TYPE vtj._op AS (             -- an entry of a list-shaped group to apply
    seq       integer,
    rec_seq   integer,
    hetu      text COLLATE "C",
    grp       text COLLATE "C",
    attr      text COLLATE "C",
    parent    integer,               -- voimassa_of
    vpresent  boolean,
    stub      boolean,
    rnk       integer,               -- round: position in its (hetu, grp) stream
    v         vtj._entry_value,
    loppupv   date,
    loppupv_t text COLLATE "C"
);
CREATE TYPE vtj._feed AS (hetu text COLLATE "C", grp text COLLATE "C", attr text COLLATE "C", seq integer);
CREATE TYPE vtj._stream AS (hetu text COLLATE "C", grp text COLLATE "C", sig text);

CREATE TYPE vtj._tk AS (             -- turvakielto of a person over the page
    hetu          text COLLATE "C",
    stored        boolean,           -- stored flag before the page
    final         boolean,           -- at the end of the page
    any_true      boolean,           -- active at some moment of the page
    cutoff        integer,           -- censored-group entries with seq <= cutoff are dropped
    tk_seen       boolean,           -- a TURVAKIELTO entry (not a stub) decided it
    loppupv       date,
    loppupv_t     text COLLATE "C",
    attr          text COLLATE "C"   -- muutosattribuutti of the last TURVAKIELTO entry
);

-- ---------------------------------------------------------------------------
-- Small helpers
-- ---------------------------------------------------------------------------

-- Keeps only allow-listed keys of guardianship details, at any depth: the
-- guardian's or attorney's hetu, names, role and dates (product.md §3). In
-- C++ (src/pg/guardian_functions.cpp) with the decoder's own list, so the
-- decoder's filter and this second one cannot drift apart. Never an address.
CREATE FUNCTION vtj._guardian_tiedot(j jsonb) RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'vtj_guardian_tiedot';

-- An entry as journalled: as delivered, guardianship details allow-listed;
-- NULL for a censored stub. (SQL-standard body: parsed at creation, so no
-- search_path is needed; STABLE like jsonb_populate_record, so the planner
-- inlines it.)
CREATE FUNCTION vtj._journal_entry(e vtj._in_entry) RETURNS vtj._in_entry
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN CASE WHEN COALESCE(e.censored, false) THEN NULL
                WHEN e.tiedot IS NOT NULL
                    THEN jsonb_populate_record(e, jsonb_build_object('tiedot', vtj._guardian_tiedot(e.tiedot)))
                ELSE e END;

-- The address groups and the language groups (equality lists, not LIKE
-- patterns: the merge tests them for every field of every entry; inlined).
CREATE FUNCTION vtj._address_group(g text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN g IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                 'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                 'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE');
CREATE FUNCTION vtj._language_group(g text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN g IN ('AIDINKIELI', 'ASIOINTIKIELI');

-- The value part of an input entry of a list-shaped group, normalised per
-- group: a field the group does not carry is dropped (data minimisation,
-- whatever the glue sent), KOTIKUNTA's kuntaanMuuttopv is its alkupv, the
-- guardianship details are allow-listed. Inlined by the planner: (f(e)).*
-- flattens to plain column expressions (the COLLATE clauses match the
-- type's; without them it would not, and f would run once per field). A
-- field is tested for NULL before its group (most fields of an entry are
-- NULL: the group test then costs nothing), and the group tests are equality
-- lists, not LIKE patterns (this function runs for every entry of a page).
CREATE FUNCTION vtj._in_value(e vtj._in_entry) RETURNS vtj._entry_value
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ROW(
        CASE WHEN e.etunimi IS NOT NULL AND e.tietoryhma = 'HENKILON_NIMI' THEN e.etunimi END,
        CASE WHEN e.sukunimi IS NOT NULL AND e.tietoryhma = 'HENKILON_NIMI' THEN e.sukunimi END,
        CASE WHEN e.etunimi_utf8 IS NOT NULL AND e.tietoryhma = 'HENKILON_NIMI' THEN e.etunimi_utf8 END,
        CASE WHEN e.sukunimi_utf8 IS NOT NULL AND e.tietoryhma = 'HENKILON_NIMI' THEN e.sukunimi_utf8 END,
        CASE WHEN e.nimilaji IS NOT NULL AND e.tietoryhma = 'NIMENMUUTOS' THEN e.nimilaji END COLLATE "C",
        CASE WHEN e.nimi IS NOT NULL AND e.tietoryhma = 'NIMENMUUTOS' THEN e.nimi END,
        CASE WHEN e.nimi_utf8 IS NOT NULL AND e.tietoryhma = 'NIMENMUUTOS' THEN e.nimi_utf8 END,
        CASE WHEN e.kielikoodi IS NOT NULL AND vtj._language_group(e.tietoryhma) THEN e.kielikoodi END COLLATE "C",
        CASE WHEN e.kielikoodi_iso6392 IS NOT NULL AND vtj._language_group(e.tietoryhma) THEN e.kielikoodi_iso6392 END COLLATE "C",
        CASE WHEN e.kielinimi IS NOT NULL AND vtj._language_group(e.tietoryhma) THEN e.kielinimi END,
        CASE WHEN e.kuntakoodi IS NOT NULL AND (e.tietoryhma = 'KOTIKUNTA' OR vtj._address_group(e.tietoryhma)) THEN e.kuntakoodi END COLLATE "C",
        CASE WHEN e.katunimi_fi IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.katunimi_fi END,
        CASE WHEN e.katunimi_sv IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.katunimi_sv END,
        CASE WHEN e.katunumero IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.katunumero END,
        CASE WHEN e.huoneistokirjain IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.huoneistokirjain END,
        CASE WHEN e.huoneistonumero IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.huoneistonumero END,
        CASE WHEN e.jakokirjain IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.jakokirjain END,
        CASE WHEN e.postinumero IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.postinumero END COLLATE "C",
        CASE WHEN e.postitoimipaikka_fi IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.postitoimipaikka_fi END,
        CASE WHEN e.postitoimipaikka_sv IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.postitoimipaikka_sv END,
        CASE WHEN e.rakennustunnus IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.rakennustunnus END COLLATE "C",
        CASE WHEN e.osoitenumero IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.osoitenumero END,
        CASE WHEN e.postiosoite_fi IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.postiosoite_fi END,
        CASE WHEN e.postiosoite_sv IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.postiosoite_sv END,
        CASE WHEN e.postiosoite_lisarivi IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.postiosoite_lisarivi END,
        CASE WHEN e.lahiosoite IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.lahiosoite END,
        CASE WHEN e.paikkakunta IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.paikkakunta END,
        CASE WHEN e.valtiokoodi IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.valtiokoodi END COLLATE "C",
        CASE WHEN e.valtionimi IS NOT NULL AND vtj._address_group(e.tietoryhma) THEN e.valtionimi END,
        CASE WHEN e.tietoryhma IN ('EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS') THEN vtj._guardian_tiedot(COALESCE(e.tiedot, '{}')) END,
        CASE WHEN e.tietoryhma = 'KOTIKUNTA' AND e.kuntaan_muuttopv IS NOT NULL THEN e.kuntaan_muuttopv
             ELSE e.alkupv END,
        CASE WHEN e.tietoryhma = 'KOTIKUNTA' AND e.kuntaan_muuttopv IS NOT NULL THEN e.kuntaan_muuttopv_tarkkuus
             ELSE e.alkupv_tarkkuus END COLLATE "C"
    )::vtj._entry_value;

-- Its end: EDUNVALVONTA's paatymispv when it has no loppupv.
CREATE FUNCTION vtj._in_loppupv(e vtj._in_entry) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN e.loppupv IS NULL AND e.paatymispv IS NOT NULL AND e.tietoryhma IN ('EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS') THEN e.paatymispv ELSE e.loppupv END;
CREATE FUNCTION vtj._in_loppupv_t(e vtj._in_entry) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN e.loppupv IS NULL AND e.paatymispv IS NOT NULL AND e.tietoryhma IN ('EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS') THEN e.paatymispv_tarkkuus
                ELSE e.loppupv_tarkkuus END;

-- The entries of a page's first loads, inserted straight from the page (the
-- bulk of a base load): one scan of the entries in page order. p_recflag is
-- indexed by record seq: 0 = not a first load, 1 = insert its list-shaped
-- groups, 2 = the same without the censored groups p_censored (a person
-- protected at the end of the page). p_map_from/p_map_to: the page's hetu
-- corrections. A separate function so that this statement is planned once
-- per session (a generic plan: one scan, no join; the inlined per-group
-- normalisation costs ~6 ms to plan, more than the insert of 1,000 persons'
-- entries takes to run).
CREATE FUNCTION vtj._insert_first_loads(p_entries vtj._in_entry[], p_recflag integer[], p_censored text[],
                                        p_map_from text[], p_map_to text[])
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET jit = off
AS $$
BEGIN
    INSERT INTO vtj.person_entry (hetu, tietoryhma,
        etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
        kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
        katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
        postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
        postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
        valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
    SELECT COALESCE(p_map_to[array_position(p_map_from, e.hetu)], e.hetu) COLLATE "C", e.tietoryhma,
           (vtj._in_value(e)).*, vtj._in_loppupv(e), vtj._in_loppupv_t(e)
      FROM unnest(p_entries) e
     WHERE p_recflag[e.record_seq] > 0
       AND NOT COALESCE(e.censored, false)
       AND e.tietoryhma IN ('HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI', 'ASIOINTIKIELI',
           'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
           'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
           'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
           'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA')
       AND NOT (p_recflag[e.record_seq] = 2 AND e.tietoryhma = ANY (p_censored));
END
$$;

-- One round of the change merge (see "HOW ORDER SEMANTICS ARE ACHIEVED"):
-- the k-th entry of every (person, group) stream, p_ops, with the elements
-- of voimassaolevatTiedot of its POISTETTU entries, p_kids. Returns the seqs
-- of the ops that changed stored entries and of those that found the entry
-- they refer to. A separate function so that this statement (the largest of
-- the merge) is planned once per session: its plan does not depend on the
-- number of ops (every access to vtj.person_entry is an index look-up per
-- op), and planning it for every round of every page cost more than running
-- the later, small rounds.
CREATE FUNCTION vtj._merge_round(p_ops vtj._op[], p_kids vtj._op[], p_today date,
                                 OUT changed integer[], OUT matched integer[])
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan
    SET jit = off
AS $$
BEGIN
    WITH op AS (
        -- the k-th entry of every stream, with the stored entry a
        -- MUUTETTU/KORJATTU/POISTETTU/KORJATTAVA refers to: all fields
        -- but loppupv equal, else the same alkupv (value and
        -- precision); the first such (a current one first, then the
        -- oldest)
        SELECT o.*,
               CASE WHEN o.attr IN ('MUUTETTU', 'KORJATTU', 'POISTETTU', 'KORJATTAVA') AND NOT o.stub THEN
                   (SELECT e.id
                      FROM vtj.person_entry e
                     WHERE e.hetu = o.hetu AND e.tietoryhma = o.grp
                       AND (vtj._ev(e) = o.v
                            OR (e.alkupv IS NOT DISTINCT FROM (o.v).alkupv
                                AND e.alkupv_tarkkuus::text IS NOT DISTINCT FROM (o.v).alkupv_tarkkuus))
                     ORDER BY vtj._ev(e) = o.v DESC, e.loppupv IS NULL DESC, e.id
                     LIMIT 1)
               END AS mid
          FROM unnest(p_ops) o
    ), kid AS (
        SELECT k.* FROM unnest(p_kids) k
    ), del AS (
        -- POISTETTU/KORJATTAVA: the matched entry; a censored stub: the
        -- whole group; POISTETTU with voimassaolevatTiedot: also every
        -- other entry still valid today that is not among them
        DELETE FROM vtj.person_entry e
         USING op
         WHERE e.hetu = op.hetu AND e.tietoryhma = op.grp
           AND (op.stub
                OR (op.attr IN ('POISTETTU', 'KORJATTAVA') AND e.id = op.mid)
                OR (op.attr = 'POISTETTU' AND op.vpresent
                    AND e.id IS DISTINCT FROM op.mid
                    AND (e.loppupv IS NULL OR e.loppupv >= p_today)
                    AND NOT EXISTS (SELECT 1 FROM kid
                                     WHERE kid.parent = op.seq AND vtj._ev(e) = kid.v
                                       AND e.loppupv IS NOT DISTINCT FROM kid.loppupv
                                       AND e.loppupv_tarkkuus::text IS NOT DISTINCT FROM kid.loppupv_t)))
        RETURNING op.seq
    ), upd AS (
        -- MUUTETTU/KORJATTU: the matched entry takes the delivered values
        UPDATE vtj.person_entry e
           SET (etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
                kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
                katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
                postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
                postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
                valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
             = ROW((op.v).*, op.loppupv, op.loppupv_t)
          FROM op
         WHERE e.hetu = op.hetu AND e.tietoryhma = op.grp AND e.id = op.mid
           AND op.attr IN ('MUUTETTU', 'KORJATTU')
           AND NOT (vtj._ev(e) = op.v
                    AND e.loppupv IS NOT DISTINCT FROM op.loppupv
                    AND e.loppupv_tarkkuus::text IS NOT DISTINCT FROM op.loppupv_t)
        RETURNING op.seq
    ), ad AS (
        -- LISATTY (unless the very same entry is stored), an unmatched
        -- MUUTETTU/KORJATTU, and the voimassaolevatTiedot not stored
        SELECT op.seq AS op_seq, op.hetu, op.grp, op.v, op.loppupv, op.loppupv_t, op.seq AS ord
          FROM op
         WHERE NOT op.stub
           AND ((op.attr = 'LISATTY'
                 -- the same entry already stored (ended or not): a replayed
                 -- page must not store it twice
                 AND NOT EXISTS (SELECT 1 FROM vtj.person_entry e
                                  WHERE e.hetu = op.hetu AND e.tietoryhma = op.grp
                                    AND vtj._ev(e) = op.v))
                OR (op.attr IN ('MUUTETTU', 'KORJATTU') AND op.mid IS NULL))
        UNION ALL
        SELECT op.seq, op.hetu, op.grp, kid.v, kid.loppupv, kid.loppupv_t, kid.seq
          FROM kid JOIN op ON op.seq = kid.parent
         WHERE op.attr = 'POISTETTU' AND op.vpresent AND NOT op.stub AND NOT kid.stub
           AND NOT EXISTS (SELECT 1 FROM vtj.person_entry e
                            WHERE e.hetu = op.hetu AND e.tietoryhma = op.grp
                              AND e.id IS DISTINCT FROM op.mid
                              AND vtj._ev(e) = kid.v
                              AND e.loppupv IS NOT DISTINCT FROM kid.loppupv
                              AND e.loppupv_tarkkuus::text IS NOT DISTINCT FROM kid.loppupv_t)
    ), ins AS (
        INSERT INTO vtj.person_entry (hetu, tietoryhma,
            etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
            kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
            katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
            postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
            postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
            valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
        SELECT a.hetu, a.grp, (a.v).*, a.loppupv, a.loppupv_t FROM ad a ORDER BY a.ord
    )
    SELECT COALESCE((SELECT array_agg(DISTINCT c.seq)
                       FROM (SELECT del.seq FROM del UNION ALL SELECT upd.seq FROM upd
                             UNION ALL SELECT ad.op_seq FROM ad) c), '{}'),
           COALESCE((SELECT array_agg(op.seq) FROM op WHERE op.mid IS NOT NULL), '{}')
      INTO changed, matched;
END
$$;

-- ---------------------------------------------------------------------------
-- The merge
-- ---------------------------------------------------------------------------

CREATE FUNCTION vtj._merge_page(
    p_run_id    bigint,
    p_kind      text,
    p_chain_id  integer,
    p_from_key  bigint,
    p_to_key    bigint,
    p_records   vtj._in_record[],
    p_entries   vtj._in_entry[],
    p_not_found text[] DEFAULT NULL)
    RETURNS vtj._merge_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- The statements join the page arrays; their sizes are known only per
    -- call, so every statement is planned for the call (a cached generic
    -- plan guesses 100 rows per array and picks nested loops: seconds per
    -- page). LLVM compilation (hundreds of ms) must never be paid in a page.
    SET plan_cache_mode = force_custom_plan
    SET jit = off
    -- A page touches at most a page of persons; the register tables grow
    -- to millions of rows and their statistics lag behind a base load. A
    -- scan of a whole register table per page makes a load quadratic in
    -- the register's size, so index access is forced (joins between the
    -- page's arrays are not table scans and stay free to hash), and index
    -- probes into hot tables are costed as what they are.
    SET enable_seqscan = off
    SET random_page_cost = 1.1
    -- A change page's journal and ops are sorted by page order: tens of
    -- thousands of wide rows, which spill to disk at the default work_mem.
    SET work_mem = '32MB'
AS $$
DECLARE
    r            vtj._merge_result;
    v_base       boolean := p_kind IN ('base', 'refresh');
    v_today      date := vtj._today();
    v_censored   text[];
    v_status     text;
    v_hetus      text[];      -- hetus of the page (records and not-found); later: of the feed
    v_erase      text[];      -- hetus whose censored groups are erased
    v_notify     boolean;
    v_map_from   text[] := '{}';   -- hetu corrections of this page: from -> to
    v_map_to     text[] := '{}';
    v_moved_recs integer[] := '{}';  -- records whose correction was carried out
    v_feed       vtj._feed[] := '{}';  -- feed rows decided outside the rounds
    v_mv         record;
    v_src        text;
    v_dst        text;
    v_dst_loaded boolean;
    v_recs       vtj._rec[];
    v_tk         vtj._tk[];
    v_ops        vtj._op[];
    v_tops       vtj._op[];           -- top-level ops sorted by round
    v_kids       vtj._op[];           -- voimassaolevatTiedot elements sorted by round
    v_top_n      integer[];           -- per round: how many of each
    v_kid_n      integer[];
    v_a          integer;             -- slice starts
    v_b          integer;
    v_changed_seqs integer[] := '{}'; -- ops that changed stored entries
    v_matched_seqs integer[] := '{}'; -- ops that found the entry they refer to
    v_max_rank   integer;
    v_k          integer;
    v_changed    text[];      -- base: reloaded persons whose entries differ
    v_unmatched  integer[] := '{}';   -- seqs of unmatched entries
    v_before     vtj._stream[];       -- content signature of streams before the rounds
    v_unchanged_streams vtj._stream[];  -- streams the page left as they were
    v_n          integer;
    v_registered text[];              -- register rows locked for the page
    v_apply_seqs integer[];           -- records to apply
    v_first_seqs integer[];           -- base kinds: records of first loads
    v_reloads    boolean;             -- base kinds: a person with base data stored before
    -- the top-level ops' scalar fields as plain arrays (v_tops order): the
    -- statements after the rounds read these instead of taking the wide ops
    -- apart again
    v_t_seq      integer[];
    v_t_rec      integer[];
    v_t_hetu     text[];
    v_t_grp      text[];
    v_t_attr     text[];
    v_t_stub     boolean[];
    v_t_vpres    boolean[];
    v_t_rnk      integer[];
    v_corr       boolean;             -- a HENKILOTUNNUS_KORJAUS naming another hetu
    v_corr_null  boolean;             -- a HENKILOTUNNUS_KORJAUS without aktiivinenHenkilotunnus
BEGIN
    r := ROW(false, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}'::text[])::vtj._merge_result;

    -- 0. Preconditions -------------------------------------------------------
    IF p_kind IS NULL OR p_kind NOT IN ('base', 'refresh', 'changes') THEN
        RAISE EXCEPTION 'vtj._merge_page: kind must be base, refresh or changes'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_to_key IS NULL OR p_to_key < 0
       OR (NOT v_base AND (p_chain_id IS NULL OR p_from_key IS NULL OR p_to_key < p_from_key)) THEN
        RAISE EXCEPTION 'vtj._merge_page: missing or inconsistent chain id or keys'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'vtj._merge_page must run at isolation level READ COMMITTED'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT x.status INTO v_status FROM vtj.run x WHERE x.id = p_run_id;
    IF v_status IS DISTINCT FROM 'running' THEN
        RAISE EXCEPTION 'vtj._merge_page: run % is not running', p_run_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    p_records := COALESCE(p_records, '{}');
    p_entries := COALESCE(p_entries, '{}');
    -- (counts, not EXISTS: an EXISTS is planned for its first row and
    -- would join the arrays by nested loops). A seq is its element's
    -- position in the array, so array order is page order (one pass each).
    SELECT (SELECT count(*) FILTER (WHERE x.seq IS DISTINCT FROM x.ordinality)
              FROM unnest(p_records) WITH ORDINALITY x)
         + e.bad, e.kids, e.corr, e.corr_null
      INTO v_n, v_k, v_corr, v_corr_null
      FROM (SELECT count(*) FILTER (WHERE e.seq IS DISTINCT FROM e.ordinality OR x.seq IS NULL
                                      OR e.hetu IS DISTINCT FROM x.hetu OR e.tietoryhma IS NULL
                                      OR (x.error IS NULL AND x.hetu IS NULL)) AS bad,
                   count(*) FILTER (WHERE e.voimassa_of IS NOT NULL) AS kids,
                   -- (flags for later steps, from the same pass)
                   COALESCE(bool_or(e.tietoryhma = 'HENKILOTUNNUS_KORJAUS' AND e.aktiivinen_hetu <> e.hetu), false) AS corr,
                   COALESCE(bool_or(e.tietoryhma = 'HENKILOTUNNUS_KORJAUS' AND e.aktiivinen_hetu IS NULL), false) AS corr_null
              FROM unnest(p_entries) WITH ORDINALITY e
              LEFT JOIN unnest(p_records) x ON x.seq = e.record_seq) e;
    IF v_n = 0 AND v_k > 0 THEN
        SELECT count(*) INTO v_n
          FROM (SELECT e.* FROM unnest(p_entries) e WHERE e.voimassa_of IS NOT NULL) e
          LEFT JOIN unnest(p_entries) p ON p.seq = e.voimassa_of
         WHERE p.seq IS NULL OR p.seq >= e.seq OR p.record_seq <> e.record_seq
            OR p.muutosattribuutti IS DISTINCT FROM 'POISTETTU' OR p.voimassa_of IS NOT NULL;
    END IF;
    IF v_n > 0 THEN
        RAISE EXCEPTION 'vtj._merge_page: page arrays break the contract (seq, record_seq, hetu or voimassa_of)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- 1. One page merge at a time (feed ids in commit order; see 20_storage).
    PERFORM 1 FROM vtj.merge_lock FOR UPDATE;

    -- 2. Compare-and-set of the chain key: a page merges only from the key it
    --    was fetched with.
    IF NOT v_base THEN
        UPDATE vtj.chain c
           SET kirjausavain = p_to_key,
               key_advanced_at = CASE WHEN p_to_key <> p_from_key THEN now() ELSE c.key_advanced_at END
         WHERE c.chain_id = p_chain_id AND c.kirjausavain = p_from_key;
        IF NOT FOUND THEN
            r.discarded := true;
            RETURN r;
        END IF;
    END IF;

    -- The groups censored for a protected person: the seven, plus the rule's.
    SELECT array_agg(DISTINCT g) INTO v_censored
      FROM (SELECT unnest(vtj._censored_groups()) AS g
            UNION ALL
            SELECT t.tietoryhma FROM vtj.turvakielto_rule t
             WHERE t.rule = COALESCE(NULLIF(current_setting('vtj.turvakielto_rule', true), ''),
                                     'TIEDOT_SENSUROIDAAN')) s;

    -- 3. Serialise with removals and adds on the register rows (vtj.subject,
    --    10_register.sql), in hetu order. A row a concurrent removal deleted
    --    is not returned: from here on, vtj.subject says who is registered.
    SELECT COALESCE(array_agg(l.hetu), '{}') INTO v_registered
      FROM (SELECT s.hetu FROM vtj.subject s
             WHERE s.hetu = ANY (ARRAY(SELECT x.hetu FROM unnest(p_records) x WHERE x.hetu IS NOT NULL
                                       UNION ALL
                                       SELECT n FROM unnest(p_not_found) n WHERE n IS NOT NULL))
             ORDER BY s.hetu FOR KEY SHARE) l;

    -- 4. Hetu corrections, in page order (few: a loop over them). Applied to
    --    registered persons whether or not their base data is loaded or newer
    --    (the registrations must follow the person in any case).
    IF v_corr THEN
    FOR v_mv IN
        SELECT DISTINCT ON (x.seq) x.seq AS rec_seq, x.hetu, e.seq AS entry_seq,
               e.aktiivinen_hetu, x.muutospv
          FROM unnest(p_records) x
          JOIN unnest(p_entries) e ON e.record_seq = x.seq
         WHERE x.error IS NULL
           AND e.tietoryhma = 'HENKILOTUNNUS_KORJAUS'
           AND NOT COALESCE(e.censored, false)
           AND e.voimassa_of IS NULL
           AND e.aktiivinen_hetu IS NOT NULL
           AND e.aktiivinen_hetu <> x.hetu
         ORDER BY x.seq, e.seq
    LOOP
        v_src := COALESCE(v_map_to[array_position(v_map_from, v_mv.hetu)], v_mv.hetu);
        v_dst := v_mv.aktiivinen_hetu;
        CONTINUE WHEN v_src = v_dst;
        PERFORM 1 FROM vtj.subject s WHERE s.hetu = v_src FOR UPDATE;
        CONTINUE WHEN NOT FOUND;          -- not registered: nothing to move

        -- the destination's register row, if it is registered
        PERFORM 1 FROM vtj.subject s WHERE s.hetu = v_dst FOR UPDATE;
        IF FOUND THEN
            -- union of purposes; for a purpose in both, the older row wins
            DELETE FROM vtj.registration d USING vtj.registration s
             WHERE d.hetu = v_dst AND s.hetu = v_src AND s.purpose = d.purpose
               AND s.added_at < d.added_at;
            DELETE FROM vtj.registration s USING vtj.registration d
             WHERE s.hetu = v_src AND d.hetu = v_dst AND d.purpose = s.purpose;
            UPDATE vtj.registration g SET hetu = v_dst WHERE g.hetu = v_src;
            UPDATE vtj.subject d SET registered_at = LEAST(d.registered_at, s.registered_at)
              FROM vtj.subject s WHERE d.hetu = v_dst AND s.hetu = v_src;
            DELETE FROM vtj.subject s WHERE s.hetu = v_src;
        ELSE
            -- registration rows follow (ON UPDATE CASCADE)
            UPDATE vtj.subject s SET hetu = v_dst WHERE s.hetu = v_src;
        END IF;

        -- the person's data: moves, unless the destination has base data of
        -- its own (then that is kept, the source's dropped, and the
        -- destination re-fetched)
        SELECT ps.base_loaded_at IS NOT NULL INTO v_dst_loaded
          FROM vtj.person_state ps WHERE ps.hetu = v_dst;
        IF COALESCE(v_dst_loaded, false) THEN
            DELETE FROM vtj.person_entry e WHERE e.hetu = v_src;
            DELETE FROM vtj.person_state ps WHERE ps.hetu = v_src;
            UPDATE vtj.person_state ps
               SET stale = true, stale_reason = COALESCE(ps.stale_reason, 'hetu_merged'),
                   stale_since = COALESCE(ps.stale_since, now())
             WHERE ps.hetu = v_dst;
            r.refetch := r.refetch || v_dst;
        ELSE
            DELETE FROM vtj.person_state ps WHERE ps.hetu = v_dst;
            UPDATE vtj.person_state ps SET hetu = v_dst WHERE ps.hetu = v_src;
            UPDATE vtj.person_entry e SET hetu = v_dst WHERE e.hetu = v_src;
        END IF;

        INSERT INTO vtj.hetu_correction (vanha_hetu, uusi_hetu, muutettu_at, run_id)
        VALUES (v_src, v_dst, COALESCE(v_mv.muutospv, now()), p_run_id)
        ON CONFLICT (vanha_hetu, uusi_hetu) DO NOTHING;

        -- where the page's records of either hetu now belong
        v_map_to := ARRAY(SELECT CASE WHEN t = v_src THEN v_dst ELSE t END
                            FROM unnest(v_map_to) WITH ORDINALITY AS u(t, n) ORDER BY n);
        v_map_from := v_map_from || v_src;
        v_map_to := v_map_to || v_dst;
        v_moved_recs := v_moved_recs || v_mv.rec_seq;
        -- a feed row under both hetus
        v_feed := v_feed || ROW(v_src, 'HENKILOTUNNUS_KORJAUS', 'MUUTETTU', v_mv.entry_seq)::vtj._feed
                         || ROW(v_dst, 'HENKILOTUNNUS_KORJAUS', 'LISATTY', v_mv.entry_seq)::vtj._feed;
        r.hetu_corrections := r.hetu_corrections + 1;
    END LOOP;
    END IF;

    -- 5. Classify the records.
    --    Registered: the register rows locked above, unless a correction of
    --    this page moved registrations (then vtj.subject is read again).
    v_recs := ARRAY(
        SELECT ROW(x.seq, x.position, x.hetu, m.eff, x.muutospv, x.error,
                   m.registered,
                   ps.base_loaded_at IS NULL,
                   CASE
                       WHEN x.error IS NOT NULL THEN 'malformed'
                       WHEN NOT m.registered THEN 'unregistered'
                       WHEN v_base AND ps.base_key > p_to_key THEN 'superseded'
                       WHEN v_base AND row_number() OVER (PARTITION BY m.eff, x.error IS NULL
                                                              ORDER BY x.seq DESC) > 1 THEN 'superseded'
                       WHEN NOT v_base AND (ps.base_loaded_at IS NULL OR ps.base_key >= p_to_key)
                           THEN 'superseded'
                       ELSE 'apply'
                   END,
                   ps.turvakielto, ps.turva_loppupv, ps.turva_loppupv_tarkkuus,
                   ps.kuollut, ps.kuolinpv, ps.kuolinpv_tarkkuus)::vtj._rec
          FROM unnest(p_records) x
         CROSS JOIN LATERAL (SELECT COALESCE(v_map_to[array_position(v_map_from, x.hetu)], x.hetu)
                                        COLLATE "C" AS eff) m0
         CROSS JOIN LATERAL (SELECT m0.eff,
                                    CASE WHEN cardinality(v_map_from) = 0 THEN m0.eff = ANY (v_registered)
                                         ELSE EXISTS (SELECT 1 FROM vtj.subject s WHERE s.hetu = m0.eff) END
                                        AS registered
                              OFFSET 0) m   -- (evaluated once per record, not once per use)
          LEFT JOIN vtj.person_state ps ON ps.hetu = m.eff
         ORDER BY x.seq);

    SELECT count(*) FILTER (WHERE x.status = 'apply'),
           count(DISTINCT x.eff) FILTER (WHERE x.status = 'apply'),
           count(*) FILTER (WHERE x.status = 'unregistered'),
           count(*) FILTER (WHERE x.status = 'superseded'),
           count(*) FILTER (WHERE x.status = 'malformed'),
           COALESCE(array_agg(x.seq) FILTER (WHERE x.status = 'apply'), '{}'),
           COALESCE(array_agg(x.seq) FILTER (WHERE x.status = 'apply' AND x.first_load), '{}'),
           COALESCE(bool_or(NOT x.first_load) FILTER (WHERE x.status = 'apply'), false)
      INTO r.records, r.persons, r.unregistered, r.superseded, r.malformed,
           v_apply_seqs, v_first_seqs, v_reloads
      FROM unnest(v_recs) x;

    -- 6. Turvakielto over the page, per person (product.md §6): the state at
    --    the end of the page decides before anything is written.
    --    Events in page order: a censored stub (any group) says active; a
    --    TURVAKIELTO entry says turvakieltoAktiivinen (POISTETTU and
    --    KORJATTAVA: not active; LISATIETO: nothing). Base data: active iff
    --    any event says so (no TURVAKIELTO group = no prohibition).
    v_tk := ARRAY(
        WITH ev AS (
            SELECT x.eff AS hetu, e.seq,
                   CASE WHEN COALESCE(e.censored, false) THEN true
                        WHEN e.voimassa_of IS NOT NULL OR e.muutosattribuutti IS NULL
                             OR e.muutosattribuutti IN ('LISATTY', 'MUUTETTU', 'KORJATTU')
                            THEN e.turvakielto_aktiivinen
                        WHEN e.muutosattribuutti IN ('POISTETTU', 'KORJATTAVA') THEN false
                   END AS val,
                   e.tietoryhma = 'TURVAKIELTO' AND NOT COALESCE(e.censored, false) AS is_tk,
                   CASE WHEN e.voimassa_of IS NOT NULL
                          OR COALESCE(e.muutosattribuutti, '') NOT IN ('POISTETTU', 'KORJATTAVA')
                        THEN e.turva_loppupv END AS turva_loppupv,
                   CASE WHEN e.voimassa_of IS NOT NULL
                          OR COALESCE(e.muutosattribuutti, '') NOT IN ('POISTETTU', 'KORJATTAVA')
                        THEN e.turva_loppupv_tarkkuus END AS turva_loppupv_tarkkuus,
                   COALESCE(e.muutosattribuutti, CASE WHEN e.voimassa_of IS NOT NULL THEN 'POISTETTU' END) AS attr
              FROM unnest(p_entries) e
              JOIN unnest(v_recs) x ON x.seq = e.record_seq
             WHERE (COALESCE(e.censored, false) OR e.tietoryhma = 'TURVAKIELTO')
               AND e.record_seq = ANY (v_apply_seqs)
        ), agg AS (
            SELECT ev.hetu,
                   (array_agg(ev.val ORDER BY ev.seq DESC) FILTER (WHERE ev.val IS NOT NULL))[1] AS last_val,
                   COALESCE(bool_or(ev.val), false) AS any_true,
                   max(ev.seq) FILTER (WHERE ev.val) AS last_true_seq,
                   bool_or(ev.is_tk AND ev.val IS NOT NULL) AS tk_seen,
                   (array_agg(ev.turva_loppupv ORDER BY ev.seq DESC) FILTER (WHERE ev.is_tk AND ev.val IS NOT NULL))[1] AS loppupv,
                   (array_agg(ev.turva_loppupv_tarkkuus ORDER BY ev.seq DESC) FILTER (WHERE ev.is_tk AND ev.val IS NOT NULL))[1] AS loppupv_t,
                   (array_agg(ev.attr ORDER BY ev.seq DESC) FILTER (WHERE ev.is_tk AND ev.val IS NOT NULL))[1] AS attr
              FROM ev GROUP BY ev.hetu
        ), p AS (
            -- persons with an event, or with a prohibition stored (every
            -- other person: no prohibition before, during or after the page)
            SELECT DISTINCT x.eff AS hetu, x.ps_tk, x.ps_tk_loppupv, x.ps_tk_loppupv_t
              FROM unnest(v_recs) x
             WHERE x.status = 'apply' AND (x.ps_tk OR x.eff IN (SELECT agg.hetu FROM agg))
        )
        SELECT ROW(p.hetu, COALESCE(p.ps_tk, false), f.final, COALESCE(a.any_true, false),
                   CASE WHEN f.final THEN 2147483647 ELSE COALESCE(a.last_true_seq, 0) END,
                   COALESCE(a.tk_seen, false),
                   CASE WHEN v_base OR a.tk_seen THEN a.loppupv ELSE p.ps_tk_loppupv END,
                   CASE WHEN v_base OR a.tk_seen THEN a.loppupv_t ELSE p.ps_tk_loppupv_t END,
                   a.attr)::vtj._tk
          FROM p
          LEFT JOIN agg a ON a.hetu = p.hetu
         CROSS JOIN LATERAL (SELECT CASE WHEN v_base THEN COALESCE(a.any_true, false)
                                         ELSE COALESCE(a.last_val, p.ps_tk, false) END AS final) f
         ORDER BY p.hetu);

    -- 7. Erase every stored trace of the censored groups of a person whose
    --    prohibition is (or was at some moment of this page) active: current
    --    and ended entries, journal rows and feed rows naming those groups,
    --    under the person's hetu and under its corrected predecessors.
    IF EXISTS (SELECT 1 FROM unnest(v_tk) t WHERE t.any_true OR t.final) THEN
        -- (one statement: a protected person is on almost every page)
        WITH RECURSIVE h(hetu) AS (
            SELECT t.hetu FROM unnest(v_tk) t WHERE t.any_true OR t.final
            UNION
            SELECT c.vanha_hetu FROM vtj.hetu_correction c JOIN h ON c.uusi_hetu = h.hetu
        ), er AS (
            SELECT array_agg(h.hetu) AS hs FROM h
        ), pe AS (
            DELETE FROM vtj.person_entry e
             WHERE e.hetu = ANY ((SELECT er.hs FROM er)::text[]) AND e.tietoryhma = ANY (v_censored)
        ), jd AS (
            DELETE FROM vtj.journal j
             WHERE j.hetu = ANY ((SELECT er.hs FROM er)::text[]) AND j.tietoryhma = ANY (v_censored)
        ), ju AS (
            -- (base rows: no tietoryhma, so never the rows jd deletes)
            UPDATE vtj.journal j
               SET groups = ARRAY(SELECT g FROM unnest(j.groups) g WHERE g <> ALL (v_censored))
             WHERE j.hetu = ANY ((SELECT er.hs FROM er)::text[]) AND j.kind = 'base' AND j.groups && v_censored
        ), cf AS (
            DELETE FROM vtj.change_feed c
             WHERE c.hetu = ANY ((SELECT er.hs FROM er)::text[]) AND c.tietoryhma = ANY (v_censored)
        )
        SELECT er.hs INTO v_erase FROM er;
    END IF;

    -- 8. The entries of the list-shaped groups to apply, normalised per group
    --    (a field a group does not carry is dropped), censored groups dropped
    --    up to the person's cutoff; each numbered within its (hetu, group)
    --    stream (an element of voimassaolevatTiedot rides with its POISTETTU).
    --    (The value is built from the scan's columns: a whole entry carried
    --    through the CTE would be taken apart again for every field.)
    --    Base kinds: only for reloads (a first load inserts straight from
    --    p_entries, 9b).
    IF NOT v_base OR v_reloads THEN
    v_ops := ARRAY(
        WITH e AS (
            SELECT e.seq, e.record_seq, e.tietoryhma, e.muutosattribuutti, e.voimassa_of,
                   e.voimassa_present, COALESCE(e.censored, false) AS stub, x.eff,
                   CASE WHEN NOT COALESCE(e.censored, false) THEN vtj._in_value(e) END AS v,
                   CASE WHEN NOT COALESCE(e.censored, false) THEN vtj._in_loppupv(e) END AS loppupv,
                   CASE WHEN NOT COALESCE(e.censored, false) THEN vtj._in_loppupv_t(e) END AS loppupv_t
              FROM unnest(v_recs) x
              JOIN unnest(p_entries) e ON e.record_seq = x.seq
              LEFT JOIN unnest(v_tk) t ON t.hetu = x.eff
             WHERE x.status = 'apply'
               AND NOT (v_base AND x.first_load)   -- a first load inserts straight from p_entries (9b)
               AND e.tietoryhma IN ('HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI', 'ASIOINTIKIELI',
                   'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
                   'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                   'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                   'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA')
               AND NOT (e.tietoryhma = ANY (v_censored) AND e.seq <= COALESCE(t.cutoff, 0))
        ), top AS (
            SELECT e.seq, row_number() OVER (PARTITION BY e.eff, e.tietoryhma ORDER BY e.seq) AS rnk
              FROM e WHERE e.voimassa_of IS NULL
        )
        SELECT ROW(e.seq, e.record_seq, e.eff,
                   COALESCE(pe.tietoryhma, e.tietoryhma),
                   CASE WHEN v_base THEN NULL ELSE e.muutosattribuutti END,
                   e.voimassa_of, COALESCE(e.voimassa_present, false), e.stub,
                   tp.rnk, e.v, e.loppupv, e.loppupv_t
               )::vtj._op
          FROM e
          LEFT JOIN e AS pe ON pe.seq = e.voimassa_of
          JOIN top AS tp ON tp.seq = COALESCE(e.voimassa_of, e.seq)
         ORDER BY e.seq);
    ELSE
        v_ops := '{}';
    END IF;

    -- Counts in one pass over the applied entries: entries dropped as
    -- censored (stubs of censored groups included), unknown groups, and
    -- whether a correction lacks its active hetu (counted below).
    SELECT count(*) FILTER (WHERE e.tietoryhma = ANY (v_censored) AND e.seq <= COALESCE(t.cutoff, 0)),
           count(*) FILTER (WHERE e.voimassa_of IS NULL
               AND e.tietoryhma NOT IN ('HENKILOTUNNUS_KORJAUS', 'HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI',
                   'ASIOINTIKIELI', 'KUOLINPAIVA', 'TURVAKIELTO', 'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
                   'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                   'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                   'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA'))
      INTO r.censored, r.unknown_groups
      FROM unnest(p_entries) e
      LEFT JOIN unnest(v_tk) t ON t.hetu = COALESCE(v_map_to[array_position(v_map_from, e.hetu)], e.hetu)
     WHERE e.record_seq = ANY (v_apply_seqs);

    IF v_corr_null THEN
    SELECT count(DISTINCT x.seq) INTO r.hetu_errors
      FROM unnest(v_recs) x
      JOIN unnest(p_entries) e ON e.record_seq = x.seq
     WHERE x.registered AND x.error IS NULL
       AND e.tietoryhma = 'HENKILOTUNNUS_KORJAUS' AND NOT COALESCE(e.censored, false)
       AND e.voimassa_of IS NULL AND e.aktiivinen_hetu IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(p_entries) o
                        WHERE o.record_seq = x.seq AND o.tietoryhma = 'HENKILOTUNNUS_KORJAUS'
                          AND o.aktiivinen_hetu IS NOT NULL);
    END IF;

    IF v_base THEN
        -- 9b. Base data replaces the person's stored state. A reloaded person
        --     whose stored entries equal the delivered ones is left alone.
        v_changed := '{}';
        IF v_reloads THEN
        SELECT COALESCE(array_agg(DISTINCT d.hetu), '{}') INTO v_changed
          FROM ((SELECT e.hetu, e.tietoryhma, vtj._ev(e) AS v, e.loppupv, e.loppupv_tarkkuus::text AS lt
                   FROM vtj.person_entry e
                  WHERE e.hetu = ANY (ARRAY(SELECT x.eff FROM unnest(v_recs) x
                                             WHERE x.status = 'apply' AND NOT x.first_load))
                 EXCEPT ALL
                 SELECT o.hetu, o.grp, o.v, o.loppupv, o.loppupv_t
                   FROM unnest(v_ops) o JOIN unnest(v_recs) x ON x.seq = o.rec_seq
                  WHERE NOT x.first_load AND NOT o.stub)
                UNION ALL
                (SELECT o.hetu, o.grp, o.v, o.loppupv, o.loppupv_t
                   FROM unnest(v_ops) o JOIN unnest(v_recs) x ON x.seq = o.rec_seq
                  WHERE NOT x.first_load AND NOT o.stub
                 EXCEPT ALL
                 SELECT e.hetu, e.tietoryhma, vtj._ev(e), e.loppupv, e.loppupv_tarkkuus::text
                   FROM vtj.person_entry e
                  WHERE e.hetu = ANY (ARRAY(SELECT x.eff FROM unnest(v_recs) x
                                             WHERE x.status = 'apply' AND NOT x.first_load)))) d;

        IF cardinality(v_changed) > 0 THEN
            DELETE FROM vtj.person_entry e WHERE e.hetu = ANY (v_changed);
        END IF;
        -- a reloaded person whose entries changed: from the ops
        IF cardinality(v_changed) > 0 THEN
            INSERT INTO vtj.person_entry (hetu, tietoryhma,
            etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
            kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
            katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
            postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
            postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
            valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
            SELECT o.hetu, o.grp, (o.v).*, o.loppupv, o.loppupv_t
              FROM unnest(v_ops) o
              JOIN unnest(v_changed) c(h) ON c.h = o.hetu
             WHERE NOT o.stub
             ORDER BY o.seq;
        END IF;
        END IF;
        -- a first load: straight from the page (the bulk of a base load),
        -- in page order; the censored groups of a person protected at the
        -- end of the page are dropped (for base data protected at the end =
        -- at some moment, so the cutoff is all or nothing)
        IF cardinality(v_first_seqs) > 0 THEN
            PERFORM vtj._insert_first_loads(p_entries,
                ARRAY(SELECT CASE WHEN x.status = 'apply' AND x.first_load
                                  THEN CASE WHEN t.cutoff > 0 THEN 2 ELSE 1 END ELSE 0 END
                        FROM unnest(v_recs) x LEFT JOIN unnest(v_tk) t ON t.hetu = x.eff
                       ORDER BY x.seq),
                v_censored, v_map_from, v_map_to);
        END IF;

        -- person state, journal (one row per person: the groups delivered)
        -- and feed (PERUSTIEDOT on a first load or when entries or death
        -- changed; TURVAKIELTO when the prohibition or its end date changed
        -- on a reload)
        WITH d AS (   -- the record's KUOLINPAIVA (the last one)
            SELECT DISTINCT ON (e.record_seq) e.record_seq,
                   COALESCE(e.kuollut, e.kuolinpv IS NOT NULL) AS kuollut, e.kuolinpv, e.kuolinpv_tarkkuus
              FROM unnest(p_entries) e
             WHERE e.tietoryhma = 'KUOLINPAIVA' AND NOT COALESCE(e.censored, false)
             ORDER BY e.record_seq, e.seq DESC
        ), g AS (     -- the names of the groups the record delivered, sorted
            -- (one sort of the page, not one per record as array_agg(DISTINCT) does)
            SELECT u.record_seq, array_agg(u.tietoryhma) AS all_groups
              FROM (SELECT DISTINCT e.record_seq, e.tietoryhma COLLATE "C" AS tietoryhma
                      FROM unnest(p_entries) e
                     WHERE e.record_seq = ANY (v_apply_seqs)
                     ORDER BY 1, 2) u
             GROUP BY u.record_seq
        ), p AS (
            -- (no prohibition event and none stored: not in v_tk, not protected)
            SELECT x.seq, x.position, x.eff AS hetu, x.first_load, COALESCE(t.final, false) AS tk,
                   t.loppupv AS tk_loppupv, t.loppupv_t AS tk_loppupv_t,
                   COALESCE(d.kuollut, false) AS kuollut,
                   CASE WHEN COALESCE(d.kuollut, false) THEN d.kuolinpv END AS kuolinpv,
                   CASE WHEN COALESCE(d.kuollut, false) AND d.kuolinpv IS NOT NULL THEN d.kuolinpv_tarkkuus END AS kuolinpv_t,
                   c.h IS NOT NULL AS entries_changed,
                   COALESCE(CASE WHEN t.final
                                 THEN ARRAY(SELECT n FROM unnest(g.all_groups) n WHERE n <> ALL (v_censored))
                                 ELSE g.all_groups END, '{}') AS groups,
                   x.ps_kuollut, x.ps_kuolinpv, x.ps_kuolinpv_t, x.ps_tk, x.ps_tk_loppupv, x.ps_tk_loppupv_t
              FROM unnest(v_recs) x
              LEFT JOIN unnest(v_tk) t ON t.hetu = x.eff
              LEFT JOIN unnest(v_changed) c(h) ON c.h = x.eff
              LEFT JOIN d ON d.record_seq = x.seq
              LEFT JOIN g ON g.record_seq = x.seq
             WHERE x.status = 'apply'
        ), cmp AS (
            -- (the stored values were read when the records were classified)
            SELECT p.*,
                   p.first_load
                   OR p.entries_changed
                   OR (p.kuollut, p.kuolinpv, p.kuolinpv_t)
                      IS DISTINCT FROM (p.ps_kuollut, p.ps_kuolinpv, p.ps_kuolinpv_t::text) AS perus_row,
                   NOT p.first_load
                   AND (p.tk, p.tk_loppupv, p.tk_loppupv_t)
                       IS DISTINCT FROM (p.ps_tk, p.ps_tk_loppupv, p.ps_tk_loppupv_t::text) AS tk_row
              FROM p
        ), up AS (
            INSERT INTO vtj.person_state AS ps
                   (hetu, base_loaded_at, base_key, base_run_id, turvakielto, turva_loppupv,
                    turva_loppupv_tarkkuus, kuollut, kuolinpv, kuolinpv_tarkkuus, updated_at)
            SELECT c.hetu, now(), p_to_key, p_run_id, c.tk, c.tk_loppupv, c.tk_loppupv_t,
                   c.kuollut, c.kuolinpv, c.kuolinpv_t,
                   CASE WHEN c.perus_row OR c.tk_row THEN now() END
              FROM cmp c
             ORDER BY c.hetu
            ON CONFLICT (hetu) DO UPDATE
               SET base_loaded_at = EXCLUDED.base_loaded_at, base_key = EXCLUDED.base_key,
                   base_run_id = EXCLUDED.base_run_id,
                   not_found_count = 0, not_found_at = NULL, next_retry_at = NULL,
                   stale = false, stale_reason = NULL, stale_since = NULL,
                   turvakielto = EXCLUDED.turvakielto, turva_loppupv = EXCLUDED.turva_loppupv,
                   turva_loppupv_tarkkuus = EXCLUDED.turva_loppupv_tarkkuus,
                   kuollut = EXCLUDED.kuollut, kuolinpv = EXCLUDED.kuolinpv,
                   kuolinpv_tarkkuus = EXCLUDED.kuolinpv_tarkkuus,
                   updated_at = COALESCE(EXCLUDED.updated_at, ps.updated_at)
        ), jn AS (
            INSERT INTO vtj.journal (run_id, kind, hetu, position, groups)
            SELECT p_run_id, 'base', c.hetu, c.position, c.groups
              FROM cmp c
             ORDER BY c.seq
        ), fd AS (
            INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
            SELECT f.hetu, f.grp, NULL, p_run_id
              FROM (SELECT c.seq, c.hetu, 'PERUSTIEDOT' AS grp, 1 AS o FROM cmp c WHERE c.perus_row
                    UNION ALL
                    SELECT c.seq, c.hetu, 'TURVAKIELTO', 2 FROM cmp c WHERE c.tk_row) f
             ORDER BY f.seq, f.o
            RETURNING 1
        )
        SELECT count(*) INTO r.feed_rows FROM fd;

        -- corrections carried out while base-loading write their feed rows too
        IF cardinality(v_feed) > 0 THEN
            INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
            SELECT f.hetu, f.grp, f.attr, p_run_id FROM unnest(v_feed) WITH ORDINALITY AS f ORDER BY f.ordinality;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            r.feed_rows := r.feed_rows + v_n;
        END IF;
    ELSE
        -- 9c. Change records: rounds (see the header). The entries of round k
        --     are slices of arrays sorted by round, so that every scan of the
        --     page has an exact row count when the statement is planned.
        v_tops := ARRAY(SELECT o FROM unnest(v_ops) o WHERE o.parent IS NULL ORDER BY o.rnk, o.seq);
        v_kids := ARRAY(SELECT o FROM unnest(v_ops) o WHERE o.parent IS NOT NULL ORDER BY o.rnk, o.seq);
        SELECT COALESCE(array_agg(o.seq), '{}'), COALESCE(array_agg(o.rec_seq), '{}'),
               COALESCE(array_agg(o.hetu), '{}'), COALESCE(array_agg(o.grp), '{}'),
               COALESCE(array_agg(o.attr), '{}'), COALESCE(array_agg(o.stub), '{}'),
               COALESCE(array_agg(o.vpresent), '{}'), COALESCE(array_agg(o.rnk), '{}'), COALESCE(max(o.rnk), 0)
          INTO v_t_seq, v_t_rec, v_t_hetu, v_t_grp, v_t_attr, v_t_stub, v_t_vpres, v_t_rnk, v_max_rank
          FROM unnest(v_tops) o;
        SELECT COALESCE(array_agg(COALESCE(t.n, 0) ORDER BY g.rk), '{}'),
               COALESCE(array_agg(COALESCE(k.n, 0) ORDER BY g.rk), '{}')
          INTO v_top_n, v_kid_n
          FROM generate_series(1, v_max_rank) g(rk)
          LEFT JOIN (SELECT o.rk, count(*)::integer AS n FROM unnest(v_t_rnk) o(rk) GROUP BY o.rk) t ON t.rk = g.rk
          LEFT JOIN (SELECT o.rnk AS rk, count(*)::integer AS n FROM unnest(v_kids) o GROUP BY o.rnk) k ON k.rk = g.rk;

        -- Streams whose entries can cancel each other out: a removal (or a
        -- stub) with an addition or change, two changes (one may undo the
        -- other), or a POISTETTU with voimassaolevatTiedot. Their content is
        -- compared before and after, so that a page that leaves a group as
        -- it was writes no feed row (a replayed KORJATTAVA + KORJATTU).
        -- Additions and one change alone always change the content (an
        -- addition of a stored entry and a change to equal values are no
        -- changes already): a move (MUUTETTU + LISATTY) is not compared.
        v_before := ARRAY(
            SELECT ROW(s.hetu, s.grp,
                       (SELECT count(*)::text || ':' || COALESCE(sum(hash_record_extended(
                                   ROW(vtj._ev(e), e.loppupv, e.loppupv_tarkkuus::text), 0)::numeric), 0)::text
                          FROM vtj.person_entry e WHERE e.hetu = s.hetu AND e.tietoryhma = s.grp))::vtj._stream
              FROM (SELECT o.hetu, o.grp
                      FROM unnest(v_t_hetu, v_t_grp, v_t_attr, v_t_stub, v_t_vpres) o(hetu, grp, attr, stub, vpresent)
                     GROUP BY o.hetu, o.grp
                    HAVING (bool_or(o.stub OR o.attr IN ('POISTETTU', 'KORJATTAVA'))
                            AND bool_or(NOT o.stub AND o.attr IN ('LISATTY', 'MUUTETTU', 'KORJATTU')))
                        OR count(*) FILTER (WHERE NOT o.stub AND o.attr IN ('MUUTETTU', 'KORJATTU')) > 1
                        OR bool_or(o.attr = 'POISTETTU' AND o.vpresent)) s);

        v_a := 1;
        v_b := 1;
        FOR v_k IN 1 .. v_max_rank LOOP
            SELECT v_changed_seqs || rr.changed, v_matched_seqs || rr.matched
              INTO v_changed_seqs, v_matched_seqs
              FROM vtj._merge_round(v_tops[v_a : v_a + v_top_n[v_k] - 1],
                                    v_kids[v_b : v_b + v_kid_n[v_k] - 1], v_today) rr;
            v_a := v_a + v_top_n[v_k];
            v_b := v_b + v_kid_n[v_k];
        END LOOP;

        -- streams whose content the page left as it was
        v_unchanged_streams := ARRAY(
            SELECT ROW(b.hetu, b.grp, NULL)::vtj._stream
              FROM unnest(v_before) b
             WHERE b.sig = (SELECT count(*)::text || ':' || COALESCE(sum(hash_record_extended(
                                       ROW(vtj._ev(e), e.loppupv, e.loppupv_tarkkuus::text), 0)::numeric), 0)::text
                              FROM vtj.person_entry e WHERE e.hetu = b.hetu AND e.tietoryhma = b.grp));

        -- unmatched: a MUUTETTU/KORJATTU stored as new, a POISTETTU/KORJATTAVA
        -- that removed nothing (a KORJATTU that follows a KORJATTAVA of its
        -- record and group replaces what that one removed: not counted)
        v_unmatched := ARRAY(
            SELECT o.seq
              FROM (SELECT o.*, bool_or(o.attr = 'KORJATTAVA')
                                    OVER (PARTITION BY o.rec_seq, o.grp ORDER BY o.seq
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS after_korjattava
                      FROM unnest(v_t_seq, v_t_rec, v_t_grp, v_t_attr, v_t_stub) o(seq, rec_seq, grp, attr, stub)) o
             WHERE NOT o.seq = ANY (v_matched_seqs) AND NOT o.stub
               AND o.attr IN ('MUUTETTU', 'KORJATTU', 'POISTETTU', 'KORJATTAVA')
               AND NOT (o.attr = 'KORJATTU' AND COALESCE(o.after_korjattava, false)));
        r.unmatched := cardinality(v_unmatched);

        -- 10c. KUOLINPAIVA and TURVAKIELTO: the last entry wins (separate
        --      statements: one statement must not update a row twice).
        WITH dev AS (
            SELECT DISTINCT ON (x.eff) x.eff AS hetu, e.seq,
                   COALESCE(e.muutosattribuutti, 'POISTETTU') AS attr,
                   CASE WHEN e.muutosattribuutti IN ('POISTETTU', 'KORJATTAVA') THEN false
                        ELSE COALESCE(e.kuollut, e.kuolinpv IS NOT NULL) END AS kuollut,
                   e.kuolinpv, e.kuolinpv_tarkkuus
              FROM unnest(v_recs) x
              JOIN unnest(p_entries) e ON e.record_seq = x.seq
             WHERE x.status = 'apply' AND e.tietoryhma = 'KUOLINPAIVA' AND NOT COALESCE(e.censored, false)
               AND e.muutosattribuutti IS DISTINCT FROM 'LISATIETO'
             ORDER BY x.eff, e.seq DESC
        ), dup AS (
            UPDATE vtj.person_state ps
               SET kuollut = d.kuollut,
                   kuolinpv = CASE WHEN d.kuollut THEN d.kuolinpv END,
                   kuolinpv_tarkkuus = CASE WHEN d.kuollut AND d.kuolinpv IS NOT NULL THEN d.kuolinpv_tarkkuus END
              FROM dev d
             WHERE ps.hetu = d.hetu
               AND (ps.kuollut, ps.kuolinpv, ps.kuolinpv_tarkkuus::text)
                   IS DISTINCT FROM (d.kuollut, CASE WHEN d.kuollut THEN d.kuolinpv END,
                                     CASE WHEN d.kuollut AND d.kuolinpv IS NOT NULL THEN d.kuolinpv_tarkkuus END)
            RETURNING d.hetu, d.seq, d.attr
        )
        SELECT v_feed || COALESCE(array_agg(ROW(dup.hetu, 'KUOLINPAIVA', dup.attr, dup.seq)::vtj._feed), '{}')
          INTO v_feed FROM dup;

        WITH tup AS (
            UPDATE vtj.person_state ps
               SET turvakielto = t.final, turva_loppupv = t.loppupv, turva_loppupv_tarkkuus = t.loppupv_t
              FROM unnest(v_tk) t
             WHERE ps.hetu = t.hetu
               AND (ps.turvakielto, ps.turva_loppupv, ps.turva_loppupv_tarkkuus::text)
                   IS DISTINCT FROM (t.final, t.loppupv, t.loppupv_t)
            RETURNING t.hetu, t.attr
        ), last_event AS (   -- the feed row's place: the person's last prohibition event
            SELECT x.eff AS hetu, max(e.seq) AS seq
              FROM unnest(v_recs) x JOIN unnest(p_entries) e ON e.record_seq = x.seq
             WHERE x.status = 'apply' AND (e.tietoryhma = 'TURVAKIELTO' OR COALESCE(e.censored, false))
             GROUP BY x.eff
        )
        SELECT v_feed || COALESCE(array_agg(ROW(tup.hetu, 'TURVAKIELTO', tup.attr, le.seq)::vtj._feed), '{}')
          INTO v_feed FROM tup LEFT JOIN last_event le ON le.hetu = tup.hetu;

        -- feed: one row per (person, group, muutosattribuutti) whose entries
        -- changed the group's stored content (net over the page), in page
        -- order; then updated_at of the persons concerned
        WITH fd AS (
            INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
            SELECT f.hetu, f.grp, f.attr, p_run_id
              FROM (SELECT DISTINCT ON (a.hetu, a.grp, a.attr) a.*
                      FROM (SELECT o.hetu, o.grp, o.attr, o.seq
                              FROM unnest(v_t_seq, v_t_hetu, v_t_grp, v_t_attr) o(seq, hetu, grp, attr)
                              LEFT JOIN unnest(v_unchanged_streams) u ON u.hetu = o.hetu AND u.grp = o.grp
                             WHERE o.seq = ANY (v_changed_seqs) AND u.hetu IS NULL
                            UNION ALL
                            SELECT f.hetu, f.grp, f.attr, f.seq FROM unnest(v_feed) f) a
                     ORDER BY a.hetu, a.grp, a.attr, a.seq) f
             ORDER BY f.seq, f.hetu, f.grp
            RETURNING hetu
        )
        SELECT count(*), array_agg(DISTINCT fd.hetu) INTO r.feed_rows, v_hetus FROM fd;
        UPDATE vtj.person_state ps SET updated_at = now()
          FROM unnest(COALESCE(v_hetus, '{}')) h(hetu)
         WHERE ps.hetu = h.hetu;

        -- journal: every entry of the applied records as merged (censored
        -- groups only as far as they were not dropped), unknown groups by name
        INSERT INTO vtj.journal (run_id, kind, hetu, position, tietoryhma, muutosattribuutti, outcome, entry)
        SELECT p_run_id,
               CASE WHEN e.tietoryhma IN ('HENKILOTUNNUS_KORJAUS', 'HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI',
                   'ASIOINTIKIELI', 'KUOLINPAIVA', 'TURVAKIELTO', 'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
                   'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                   'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                   'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA')
                    THEN 'change' ELSE 'unknown' END AS kind,
               x.eff, x.position, e.tietoryhma, e.muutosattribuutti,
               CASE
                   WHEN COALESCE(e.censored, false) THEN 'censored'
                   WHEN e.tietoryhma = 'HENKILOTUNNUS_KORJAUS' THEN
                       CASE WHEN x.seq = ANY (v_moved_recs) THEN 'moved'
                            WHEN e.aktiivinen_hetu IS NULL THEN 'no_active_hetu'
                            ELSE 'unchanged' END
                   WHEN e.voimassa_of IS NOT NULL THEN 'voimassa'
                   WHEN e.muutosattribuutti = 'LISATIETO' THEN 'context'
                   WHEN e.seq = ANY (v_unmatched)
                        AND e.muutosattribuutti IN ('POISTETTU', 'KORJATTAVA') THEN 'unmatched'
                   WHEN e.seq = ANY (v_unmatched) THEN 'stored_as_new'
                   WHEN e.seq = ANY (v_t_seq) AND NOT e.seq = ANY (v_changed_seqs) THEN 'unchanged'
                   WHEN e.tietoryhma IN ('HENKILOTUNNUS_KORJAUS', 'HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI',
                       'ASIOINTIKIELI', 'KUOLINPAIVA', 'TURVAKIELTO', 'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
                       'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                       'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                       'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA') THEN 'applied'
               END,
               CASE WHEN e.tietoryhma IN ('HENKILOTUNNUS_KORJAUS', 'HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI',
                   'ASIOINTIKIELI', 'KUOLINPAIVA', 'TURVAKIELTO', 'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
                   'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                   'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                   'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA')
                    THEN vtj._journal_entry(e) END
          FROM unnest(v_recs) x
          JOIN unnest(p_entries) e ON e.record_seq = x.seq
          LEFT JOIN unnest(v_tk) t ON t.hetu = x.eff
         WHERE (x.status = 'apply'
                OR (x.seq = ANY (v_moved_recs) AND e.tietoryhma = 'HENKILOTUNNUS_KORJAUS'))
           AND NOT (e.tietoryhma = ANY (v_censored) AND e.seq <= COALESCE(t.cutoff, 0))
         ORDER BY e.seq;

        -- a prohibition that ended: re-fetch the person (product.md §6)
        WITH ended AS (
            UPDATE vtj.person_state ps
               SET stale = true, stale_reason = COALESCE(ps.stale_reason, 'turvakielto_ended'),
                   stale_since = COALESCE(ps.stale_since, now())
              FROM unnest(v_tk) t
             WHERE ps.hetu = t.hetu AND NOT t.final AND (t.stored OR t.any_true)
            RETURNING ps.hetu
        )
        SELECT r.refetch || COALESCE(array_agg(ended.hetu ORDER BY ended.hetu), '{}') INTO r.refetch FROM ended;
    END IF;

    -- 11. Malformed records: journalled by position and reason (the hetu
    --     only when registered), the person marked stale.
    IF r.malformed > 0 THEN
    INSERT INTO vtj.journal (run_id, kind, hetu, position, error)
    SELECT p_run_id, 'malformed', CASE WHEN x.registered THEN x.eff END, x.position, x.error
      FROM unnest(v_recs) x WHERE x.status = 'malformed' ORDER BY x.seq;
    INSERT INTO vtj.person_state AS ps (hetu, stale, stale_reason, stale_since)
    SELECT DISTINCT x.eff, true, 'malformed', now()
      FROM unnest(v_recs) x WHERE x.status = 'malformed' AND x.registered
    ON CONFLICT (hetu) DO UPDATE
       SET stale = true, stale_reason = COALESCE(ps.stale_reason, 'malformed'),
           stale_since = COALESCE(ps.stale_since, now());
    END IF;

    -- 12. Not found by /perustiedot: asked again after 1 hour, 1 day, then
    --     weekly. A repeated batch inside the retry window counts nothing.
    IF p_not_found IS NOT NULL THEN
        WITH nf AS (
            INSERT INTO vtj.person_state AS ps (hetu, not_found_count, not_found_at, next_retry_at)
            SELECT DISTINCT s.hetu, 1, now(), now() + interval '1 hour'
              FROM vtj.subject s JOIN unnest(p_not_found) n(h) ON n.h = s.hetu
            ON CONFLICT (hetu) DO UPDATE
               SET not_found_count = ps.not_found_count + 1,
                   not_found_at = now(),
                   next_retry_at = now() + CASE ps.not_found_count + 1
                                               WHEN 1 THEN interval '1 hour'
                                               WHEN 2 THEN interval '1 day'
                                               ELSE interval '7 days' END
             WHERE ps.next_retry_at IS NULL OR ps.next_retry_at <= now()
            RETURNING 1
        )
        SELECT count(*) INTO r.not_found FROM nf;
    END IF;

    -- 13. The run's counters; NOTIFY consumers of the feed (skipped, and
    --     counted, when the notification queue is half full: a full queue
    --     would fail the commit).
    v_notify := pg_notification_queue_usage() < 0.5;
    UPDATE vtj.run x
       SET records = x.records + r.records,
           persons = x.persons + r.persons,
           unregistered = x.unregistered + r.unregistered,
           not_found = x.not_found + r.not_found,
           superseded = x.superseded + r.superseded,
           unmatched = x.unmatched + r.unmatched,
           malformed = x.malformed + r.malformed,
           unknown_groups = x.unknown_groups + r.unknown_groups,
           censored = x.censored + r.censored,
           feed_rows = x.feed_rows + r.feed_rows,
           pages = x.pages + 1,
           notify_skipped = x.notify_skipped + CASE WHEN r.feed_rows > 0 AND NOT v_notify THEN 1 ELSE 0 END
     WHERE x.id = p_run_id;
    IF r.feed_rows > 0 AND v_notify THEN
        PERFORM pg_notify('vtj_changes', p_run_id::text);
    END IF;

    -- only those still waiting for their re-fetch
    IF cardinality(r.refetch) > 0 THEN
        r.refetch := ARRAY(SELECT DISTINCT u FROM unnest(r.refetch) u
                             JOIN vtj.person_state ps ON ps.hetu = u AND ps.stale ORDER BY u);
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION vtj._merge_page(bigint, text, integer, bigint, bigint, vtj._in_record[], vtj._in_entry[], text[]) IS
    'Merges one decoded page (base batch or /muutokset page) set-based in the caller''s transaction; see the contract in 30_merge.sql';

-- ---------------------------------------------------------------------------
-- Removal: every stored datum of a person (called by vtj.remove_person, which
-- holds the person's register row FOR UPDATE: merges wait for it, and it
-- waits for a merge in progress). Covers the person's hetu and every older
-- hetu a correction linked to it.
-- ---------------------------------------------------------------------------

CREATE FUNCTION vtj._purge_person(p_hetu text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_hetus text[];
BEGIN
    IF p_hetu IS NULL THEN
        RETURN;
    END IF;
    WITH RECURSIVE h(hetu) AS (
        SELECT p_hetu COLLATE "C"
        UNION
        SELECT c.vanha_hetu FROM vtj.hetu_correction c JOIN h ON c.uusi_hetu = h.hetu
    )
    SELECT array_agg(h.hetu) INTO v_hetus FROM h;

    DELETE FROM vtj.person_entry e WHERE e.hetu = ANY (v_hetus);
    DELETE FROM vtj.person_state ps WHERE ps.hetu = ANY (v_hetus);
    DELETE FROM vtj.journal j WHERE j.hetu = ANY (v_hetus);
    DELETE FROM vtj.change_feed c WHERE c.hetu = ANY (v_hetus);
    DELETE FROM vtj.hetu_correction c WHERE c.uusi_hetu = ANY (v_hetus);
END
$$;
COMMENT ON FUNCTION vtj._purge_person(text) IS
    'Deletes every stored datum of a person (current data, history, journal, feed, hetu history)';

-- ---------------------------------------------------------------------------
-- Runs and chains (for the run driver)
-- ---------------------------------------------------------------------------

-- Starts a run: its row is committed as 'running' by the caller before the
-- first request.
CREATE FUNCTION vtj._run_start(p_kind text, p_started_by text, p_chain_id integer DEFAULT NULL)
    RETURNS bigint
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO vtj.run (kind, chain_id, started_by)
    VALUES (p_kind, p_chain_id, COALESCE(p_started_by, session_user))
    RETURNING id
$$;

-- Ends a run ('ok' or 'failed'); p_error names status, curl code, phase and
-- request key, never a body or personal data. p_http_requests is added.
CREATE FUNCTION vtj._run_finish(p_run_id bigint, p_status text, p_error text DEFAULT NULL,
                                p_http_requests bigint DEFAULT 0)
    RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE vtj.run x
       SET status = p_status, finished_at = now(), error = p_error,
           http_requests = x.http_requests + COALESCE(p_http_requests, 0)
     WHERE x.id = p_run_id
$$;

-- A key obtained from GET /kirjausavain/{date} (or set by
-- vtj.set_kirjausavain) starts or restarts a chain.
CREATE FUNCTION vtj._chain_obtained(p_chain_id integer, p_key bigint) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO vtj.chain (chain_id, kirjausavain, key_obtained_at)
    VALUES (p_chain_id, p_key, now())
    ON CONFLICT (chain_id) DO UPDATE
       SET kirjausavain = EXCLUDED.kirjausavain, key_obtained_at = EXCLUDED.key_obtained_at
$$;

-- Registered persons whose base data is to be loaded: never loaded, and not
-- waiting for a not-found retry.
CREATE FUNCTION vtj._base_due(p_limit integer) RETURNS SETOF text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.hetu
      FROM vtj.subject s
      LEFT JOIN vtj.person_state ps ON ps.hetu = s.hetu
     WHERE ps.base_loaded_at IS NULL
       AND (ps.next_retry_at IS NULL OR ps.next_retry_at <= now())
     ORDER BY s.registered_at, s.hetu
     LIMIT p_limit
$$;

-- Loaded persons to re-fetch: stale (malformed record, ended prohibition,
-- hetu merge), a turvaLoppuPv that passed after the last fetch, or a
-- not-found retry that is due.
CREATE FUNCTION vtj._refetch_due(p_limit integer) RETURNS SETOF text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ps.hetu
      FROM vtj.person_state ps
      JOIN vtj.subject s ON s.hetu = ps.hetu
     WHERE ps.base_loaded_at IS NOT NULL
       AND (ps.stale
            OR (ps.turvakielto AND ps.turva_loppupv < vtj._today()
                AND ps.base_loaded_at < ((ps.turva_loppupv + 1)::timestamp AT TIME ZONE 'Europe/Helsinki'))
            OR ps.next_retry_at <= now())
     ORDER BY ps.hetu
     LIMIT p_limit
$$;
