-- 20_storage.sql — where the register's data lives.
--
-- Tables (all owned by the extension owner; nobody else gets any privilege on
-- them: readers go through the masked views of 80_views.sql, writers through
-- vtj._merge_page and the functions of 10_register.sql / 30_merge.sql):
--
--   vtj.person_state     one row per person (hetu) the merge has seen: base
--                        load bookkeeping, not-found retries, stale flag,
--                        turvakielto flag and end date, death, updated_at.
--   vtj.person_entry     the entries of the 15 list-shaped groups (names, name
--                        history, languages, home municipality, the 8 address
--                        groups, the 2 guardianship groups): current, ended
--                        and future ones. One wide row type for every group,
--                        so that one set-based merge applies product.md §5 to
--                        every group alike (a column a group does not carry
--                        is NULL and costs one bit of the null bitmap).
--   vtj.hetu_correction  hetu corrections (behind vtj.hetu_history).
--   vtj.journal          append-only merge journal (product.md §8, §10).
--   vtj.change_feed      the change feed (behind vtj.changes).
--   vtj.chain            kirjausavain chains: the stored key of each.
--   vtj.run              run history (behind vtj.sync_runs).
--   vtj.turvakielto_rule the groups each turvakielto rule censors.
--   vtj.merge_lock       one row; its row lock serialises page merges.
--
-- KUOLINPAIVA and TURVAKIELTO are single-valued facts of the person and live
-- in vtj.person_state (the last record wins); HENKILOTUNNUS_KORJAUS is an
-- event (vtj.hetu_correction); every other group of product.md §2 is a list
-- of entries in vtj.person_entry.
--
-- Dates: every date column has a precision column *_tarkkuus (PAIVA,
-- KUUKAUSI or VUOSI); a KUUKAUSI date is the month's first day, a VUOSI date
-- 1 January (the decoder normalises). For KOTIKUNTA, alkupv holds
-- kuntaanMuuttopv (the day the entry starts to hold, which is what the
-- current-entry rule and the matching rule of product.md §5 need).
--
-- Performance (product.md §10: 700,000 persons base-loaded at >= 35,000
-- persons/s): the bulk tables (person_entry, journal, change_feed) carry no
-- foreign keys (an FK is a trigger and an index probe per inserted row) and
-- only the indexes the merge, the views and the purge need. Integrity between
-- them is kept by vtj._merge_page and vtj._purge_person, the only writers.
-- Every table is marked with pg_extension_config_dump so that pg_dump
-- carries it.

-- ---------------------------------------------------------------------------
-- Date precision
-- ---------------------------------------------------------------------------

CREATE DOMAIN vtj.tarkkuus AS text COLLATE "C"
    CONSTRAINT tarkkuus_value CHECK (VALUE IN ('PAIVA', 'KUUKAUSI', 'VUOSI'));
COMMENT ON DOMAIN vtj.tarkkuus IS
    'Precision of a VTJ date: PAIVA, KUUKAUSI (stored as the 1st of the month) or VUOSI (stored as 1 January)';

-- ---------------------------------------------------------------------------
-- "Today": the Finnish date, whatever the session's TimeZone (product.md §5).
-- now() is the transaction's start: one statement, one transaction, one day.
-- The views inline the same expression (no function call in a view, so a
-- reader needs no EXECUTE privilege for them); the merge and the run driver
-- call this function.
-- ---------------------------------------------------------------------------

CREATE FUNCTION vtj._today() RETURNS date
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (pg_catalog.now() AT TIME ZONE 'Europe/Helsinki')::date;
COMMENT ON FUNCTION vtj._today() IS
    'Today''s date in Finland (Europe/Helsinki), independent of the session''s TimeZone';

-- The seven groups TIEDOT_SENSUROIDAAN censors (product.md §6). The merge
-- censors these plus whatever vtj.turvakielto_rule adds; the views hide these
-- plus every group of every rule in vtj.turvakielto_rule (they spell the
-- list out, so a view calls no function).
CREATE FUNCTION vtj._censored_groups() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY['VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE',
                 'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE',
                 'TILAPAINEN_ULKOMAINEN_OSOITE', 'KOTIKUNTA',
                 'ULKOMAINEN_POSTIOSOITE']::text[] COLLATE "C";

-- ---------------------------------------------------------------------------
-- Turvakielto rules (product.md §6). Changed later only through a superuser
-- function that validates groups and writes the admin log (a later issue);
-- seeded with TIEDOT_SENSUROIDAAN. pg_dump carries rows added after install
-- (seeded = false); the extension re-creates the seeded ones.
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.turvakielto_rule (
    rule       text COLLATE "C" NOT NULL,
    tietoryhma text COLLATE "C" NOT NULL,
    seeded     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (rule, tietoryhma),
    CONSTRAINT turvakielto_rule_form CHECK (rule ~ '^[A-Z][A-Z0-9_]*$' AND tietoryhma ~ '^[A-Z][A-Z0-9_]*$'),
    -- contact addresses exist so that a protected person can be reached
    CONSTRAINT turvakielto_rule_not_contact CHECK (tietoryhma NOT LIKE '%YHTEYSOSOITE')
);
COMMENT ON TABLE vtj.turvakielto_rule IS
    'Groups censored per turvakielto rule; vtj.turvakielto_rule (setting) names the rule the merge applies';
INSERT INTO vtj.turvakielto_rule (rule, tietoryhma, seeded)
SELECT 'TIEDOT_SENSUROIDAAN', g, true FROM unnest(vtj._censored_groups()) AS g;
SELECT pg_catalog.pg_extension_config_dump('vtj.turvakielto_rule', 'WHERE NOT seeded');

-- ---------------------------------------------------------------------------
-- Person state
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.person_state (
    hetu                   text COLLATE "C" PRIMARY KEY,
    -- base data (perustiedot): when last merged, and the kirjausavain fetched
    -- before that load (change records of pages ending at or before it are
    -- older than the base data and are skipped as superseded)
    base_loaded_at         timestamptz,
    base_key               bigint,
    base_run_id            bigint,
    -- /perustiedot did not return the hetu: asked again after 1 hour, 1 day,
    -- then weekly (not_found_count 1, 2, >= 3)
    not_found_count        integer NOT NULL DEFAULT 0,
    not_found_at           timestamptz,
    next_retry_at          timestamptz,
    -- to be re-fetched (reason: malformed, turvakielto_ended, hetu_merged)
    stale                  boolean NOT NULL DEFAULT false,
    stale_reason           text COLLATE "C",
    stale_since            timestamptz,
    -- TURVAKIELTO: changed only by the merge, only from DVV data
    turvakielto            boolean NOT NULL DEFAULT false,
    turva_loppupv          date,
    turva_loppupv_tarkkuus vtj.tarkkuus,
    -- KUOLINPAIVA
    kuollut                boolean NOT NULL DEFAULT false,
    kuolinpv               date,
    kuolinpv_tarkkuus      vtj.tarkkuus,
    -- last change of the visible state (a change-feed row was written)
    updated_at             timestamptz,
    CONSTRAINT person_state_base CHECK ((base_loaded_at IS NULL) = (base_key IS NULL)),
    CONSTRAINT person_state_not_found CHECK (not_found_count >= 0
        AND (not_found_count = 0) = (next_retry_at IS NULL)),
    CONSTRAINT person_state_stale CHECK (stale = (stale_reason IS NOT NULL)
        AND stale_reason IN ('malformed', 'turvakielto_ended', 'hetu_merged')),
    CONSTRAINT person_state_kuollut CHECK (kuollut OR kuolinpv IS NULL)
);
COMMENT ON TABLE vtj.person_state IS
    'Per person: base-load bookkeeping, not-found retries, stale flag, turvakielto, death, updated_at';
-- The run driver's work lists (vtj._base_due, vtj._refetch_due): partial
-- indexes, empty for almost every row and free to maintain for those.
CREATE INDEX person_state_stale ON vtj.person_state (stale_since) WHERE stale;
CREATE INDEX person_state_retry ON vtj.person_state (next_retry_at) WHERE next_retry_at IS NOT NULL;
CREATE INDEX person_state_turva_loppupv ON vtj.person_state (turva_loppupv) WHERE turvakielto;
SELECT pg_catalog.pg_extension_config_dump('vtj.person_state', '');

-- ---------------------------------------------------------------------------
-- Entries of the list-shaped groups
-- ---------------------------------------------------------------------------

-- The columns of an entry other than its key and its end date, in table
-- order: what product.md §5 compares ("fields other than loppupv"). The merge
-- compares whole values of this type (composite equality treats two NULL
-- fields as equal).
CREATE TYPE vtj._entry_value AS (
    -- HENKILON_NIMI
    etunimi             text,
    sukunimi            text,
    etunimi_utf8        text,
    sukunimi_utf8       text,
    -- NIMENMUUTOS
    nimilaji            text COLLATE "C",
    nimi                text,
    nimi_utf8           text,
    -- AIDINKIELI, ASIOINTIKIELI (kielinimi: DVV's `nimi` of the language)
    kielikoodi          text COLLATE "C",
    kielikoodi_iso6392  text COLLATE "C",
    kielinimi           text,
    -- KOTIKUNTA and the domestic addresses
    kuntakoodi          text COLLATE "C",
    -- addresses (the 6 address groups and the 2 contact address groups)
    katunimi_fi         text,
    katunimi_sv         text,
    katunumero          text,
    huoneistokirjain    text,
    huoneistonumero     text,
    jakokirjain         text,
    postinumero         text COLLATE "C",
    postitoimipaikka_fi text,
    postitoimipaikka_sv text,
    rakennustunnus      text COLLATE "C",
    osoitenumero        integer,
    postiosoite_fi      text,
    postiosoite_sv      text,
    postiosoite_lisarivi text,
    lahiosoite          text,
    paikkakunta         text,
    valtiokoodi         text COLLATE "C",
    valtionimi          text,
    -- EDUNVALVONTA, EDUNVALVONTAVALTUUTUS: allow-listed keys only
    tiedot              jsonb,
    -- start (for KOTIKUNTA: kuntaanMuuttopv)
    alkupv              date,
    alkupv_tarkkuus     text COLLATE "C"
);

CREATE TABLE vtj.person_entry (
    hetu                text COLLATE "C" NOT NULL,
    tietoryhma          text COLLATE "C" NOT NULL,
    -- insertion order: the tie-breaker among entries (the later one wins)
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    etunimi             text,
    sukunimi            text,
    etunimi_utf8        text,
    sukunimi_utf8       text,
    nimilaji            text COLLATE "C",
    nimi                text,
    nimi_utf8           text,
    kielikoodi          text COLLATE "C",
    kielikoodi_iso6392  text COLLATE "C",
    kielinimi           text,
    kuntakoodi          text COLLATE "C",
    katunimi_fi         text,
    katunimi_sv         text,
    katunumero          text,
    huoneistokirjain    text,
    huoneistonumero     text,
    jakokirjain         text,
    postinumero         text COLLATE "C",
    postitoimipaikka_fi text,
    postitoimipaikka_sv text,
    rakennustunnus      text COLLATE "C",
    osoitenumero        integer,
    postiosoite_fi      text,
    postiosoite_sv      text,
    postiosoite_lisarivi text,
    lahiosoite          text,
    paikkakunta         text,
    valtiokoodi         text COLLATE "C",
    valtionimi          text,
    tiedot              jsonb,
    alkupv              date,
    alkupv_tarkkuus     vtj.tarkkuus,
    loppupv             date,
    loppupv_tarkkuus    vtj.tarkkuus,
    -- One index serves the key, the merge's look-ups by (hetu, group), the
    -- views' look-ups by hetu and the purge.
    PRIMARY KEY (hetu, tietoryhma, id),
    CONSTRAINT person_entry_group CHECK (tietoryhma IN (
        'HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI', 'ASIOINTIKIELI',
        'EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS',
        'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
        'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
        'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA')),
    CONSTRAINT person_entry_alkupv CHECK ((alkupv IS NULL) = (alkupv_tarkkuus IS NULL)),
    CONSTRAINT person_entry_loppupv CHECK ((loppupv IS NULL) = (loppupv_tarkkuus IS NULL)),
    CONSTRAINT person_entry_tiedot CHECK (tiedot IS NULL OR tietoryhma IN ('EDUNVALVONTA', 'EDUNVALVONTAVALTUUTUS'))
);
COMMENT ON TABLE vtj.person_entry IS
    'Entries (current, ended and future) of the list-shaped VTJ groups; current = alkupv <= today <= loppupv, evaluated at read time';
SELECT pg_catalog.pg_extension_config_dump('vtj.person_entry', '');
SELECT pg_catalog.pg_extension_config_dump('vtj.person_entry_id_seq', '');

-- The value part of a stored entry (inlined by the planner).
CREATE FUNCTION vtj._ev(e vtj.person_entry) RETURNS vtj._entry_value
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ROW(e.etunimi, e.sukunimi, e.etunimi_utf8, e.sukunimi_utf8,
               e.nimilaji, e.nimi, e.nimi_utf8,
               e.kielikoodi, e.kielikoodi_iso6392, e.kielinimi,
               e.kuntakoodi,
               e.katunimi_fi, e.katunimi_sv, e.katunumero, e.huoneistokirjain, e.huoneistonumero,
               e.jakokirjain, e.postinumero, e.postitoimipaikka_fi, e.postitoimipaikka_sv,
               e.rakennustunnus, e.osoitenumero, e.postiosoite_fi, e.postiosoite_sv,
               e.postiosoite_lisarivi, e.lahiosoite, e.paikkakunta, e.valtiokoodi, e.valtionimi,
               e.tiedot, e.alkupv, e.alkupv_tarkkuus)::vtj._entry_value;

-- ---------------------------------------------------------------------------
-- Hetu corrections
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.hetu_correction (
    vanha_hetu  text COLLATE "C" NOT NULL,
    uusi_hetu   text COLLATE "C" NOT NULL,
    muutettu_at timestamptz NOT NULL,   -- the record's muutospv (merge time for base data)
    run_id      bigint,
    PRIMARY KEY (vanha_hetu, uusi_hetu),
    CONSTRAINT hetu_correction_differs CHECK (vanha_hetu <> uusi_hetu)
);
-- The purge follows corrections backwards from the current hetu.
CREATE INDEX hetu_correction_uusi ON vtj.hetu_correction (uusi_hetu);
COMMENT ON TABLE vtj.hetu_correction IS
    'HENKILOTUNNUS_KORJAUS: the person''s data and registrations moved from vanha_hetu to uusi_hetu';
SELECT pg_catalog.pg_extension_config_dump('vtj.hetu_correction', '');

-- ---------------------------------------------------------------------------
-- Staging types: what the C++ glue fills for vtj._merge_page (the contract
-- is in the header of 30_merge.sql). The journal keeps a change entry as
-- merged as a vtj._in_entry value (a copy, no conversion: cheap per entry).
-- ---------------------------------------------------------------------------

CREATE TYPE vtj._in_record AS (
    seq      integer,
    position integer,
    hetu     text,
    muutospv timestamptz,
    error    text
);

CREATE TYPE vtj._in_entry AS (
    seq                      integer,
    record_seq               integer,
    hetu                     text,
    tietoryhma               text,
    muutosattribuutti        text,
    censored                 boolean,
    voimassa_of              integer,
    voimassa_present         boolean,
    -- HENKILOTUNNUS_KORJAUS
    voimassaolo              text,
    muutettu_hetu            text,
    aktiivinen_hetu          text,
    -- HENKILON_NIMI
    etunimi                  text,
    sukunimi                 text,
    etunimi_utf8             text,
    sukunimi_utf8            text,
    -- NIMENMUUTOS
    nimilaji                 text,
    nimi                     text,
    nimi_utf8                text,
    -- AIDINKIELI, ASIOINTIKIELI (kielinimi = DVV's `nimi`)
    kielikoodi               text,
    kielikoodi_iso6392       text,
    kielinimi                text,
    -- KUOLINPAIVA
    kuollut                  boolean,
    kuolinpv                 date,
    kuolinpv_tarkkuus        text,
    -- TURVAKIELTO
    turvakielto_aktiivinen   boolean,
    turva_loppupv            date,
    turva_loppupv_tarkkuus   text,
    -- KOTIKUNTA (kuntakoodi is shared with the domestic addresses)
    kuntakoodi               text,
    kuntaan_muuttopv         date,
    kuntaan_muuttopv_tarkkuus text,
    -- the 6 address groups and the 2 contact address groups
    katunimi_fi              text,
    katunimi_sv              text,
    katunumero               text,
    huoneistokirjain         text,
    huoneistonumero          text,
    jakokirjain              text,
    postinumero              text,
    postitoimipaikka_fi      text,
    postitoimipaikka_sv      text,
    rakennustunnus           text,
    osoitenumero             integer,
    postiosoite_fi           text,
    postiosoite_sv           text,
    postiosoite_lisarivi     text,
    lahiosoite               text,
    paikkakunta              text,
    valtiokoodi              text,
    valtionimi               text,
    -- EDUNVALVONTA, EDUNVALVONTAVALTUUTUS
    tiedot                   jsonb,
    paatymispv               date,
    paatymispv_tarkkuus      text,
    -- validity of the entry
    alkupv                   date,
    alkupv_tarkkuus          text,
    loppupv                  date,
    loppupv_tarkkuus         text
);

-- ---------------------------------------------------------------------------
-- Journal (append-only; product.md §8, §10)
--   kind 'base'      one row per person of a base load / refresh: the names
--                    of the groups delivered (not their contents: the base
--                    data is the state itself);
--   kind 'change'    one row per entry of a change record as merged (entry:
--                    the entry as delivered, guardianship details
--                    allow-listed; NULL for a censored stub);
--   kind 'unknown'   a group outside the 18: name and muutosattribuutti only;
--   kind 'malformed' a record the decoder rejected: position and reason only.
-- Nothing is journalled for a hetu that is not registered. Retention
-- (vtj.journal_retention) deletes by logged_at. No primary key on purpose:
-- rows are never addressed one by one, and an index fewer keeps the base load
-- close to its floor.
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.journal (
    id                bigint GENERATED ALWAYS AS IDENTITY,
    logged_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    run_id            bigint NOT NULL,
    kind              text COLLATE "C" NOT NULL,
    hetu              text COLLATE "C",
    position          integer,          -- of the record in the page
    tietoryhma        text COLLATE "C",
    muutosattribuutti text COLLATE "C",
    outcome           text COLLATE "C",
    groups            text[] COLLATE "C",
    entry             vtj._in_entry,
    error             text,
    CONSTRAINT journal_kind CHECK (kind IN ('base', 'change', 'unknown', 'malformed'))
);
CREATE INDEX journal_hetu ON vtj.journal (hetu);
CREATE INDEX journal_logged_at ON vtj.journal USING brin (logged_at);
COMMENT ON TABLE vtj.journal IS
    'Append-only merge journal: base loads by group name, change records per group as merged, unknown groups by name, malformed records by position and reason';
SELECT pg_catalog.pg_extension_config_dump('vtj.journal', '');
SELECT pg_catalog.pg_extension_config_dump('vtj.journal_id_seq', '');

-- ---------------------------------------------------------------------------
-- Change feed (behind vtj.changes)
-- Ids become visible in increasing order: only vtj._merge_page inserts, while
-- it holds the row lock of vtj.merge_lock until its transaction ends, so a
-- transaction that draws ids commits before the next one can draw any. The
-- identity must keep CACHE 1 (with a per-session cache two sessions would
-- interleave ids).
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.change_feed (
    id                bigint GENERATED ALWAYS AS IDENTITY (CACHE 1) PRIMARY KEY,
    hetu              text COLLATE "C" NOT NULL,
    tietoryhma        text COLLATE "C" NOT NULL,
    muutosattribuutti text COLLATE "C",   -- NULL for base data
    run_id            bigint NOT NULL,
    applied_at        timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX change_feed_hetu ON vtj.change_feed (hetu);
CREATE INDEX change_feed_applied_at ON vtj.change_feed USING brin (applied_at);
COMMENT ON TABLE vtj.change_feed IS
    'One row per visible change of a person (PERUSTIEDOT for a base load); read through vtj.changes by id';
SELECT pg_catalog.pg_extension_config_dump('vtj.change_feed', '');
SELECT pg_catalog.pg_extension_config_dump('vtj.change_feed_id_seq', '');

-- ---------------------------------------------------------------------------
-- Kirjausavain chains. One row per chain (a fixed partition of the register
-- with its own key, vtj-api.md §3/§4); chain 1 unless the register is split.
-- The key moves only by compare-and-set in vtj._merge_page, by
-- vtj._chain_obtained (a key fetched from GET /kirjausavain/{date}) and by
-- vtj.set_kirjausavain.
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.chain (
    chain_id        integer PRIMARY KEY,
    kirjausavain    bigint NOT NULL,
    key_obtained_at timestamptz NOT NULL,
    key_advanced_at timestamptz,          -- last time a merged page moved the key
    CONSTRAINT chain_id_positive CHECK (chain_id > 0),
    CONSTRAINT chain_key_nonnegative CHECK (kirjausavain >= 0)
);
COMMENT ON TABLE vtj.chain IS
    'The stored kirjausavain (registration key) of each key chain';
SELECT pg_catalog.pg_extension_config_dump('vtj.chain', '');

-- ---------------------------------------------------------------------------
-- Runs (behind vtj.sync_runs). The counters are added to by every merged page
-- in the page's own transaction, so a running run shows its counts as it
-- goes and a rolled-back page counts nothing.
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.run (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind           text COLLATE "C" NOT NULL,
    chain_id       integer,
    started_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finished_at    timestamptz,
    status         text COLLATE "C" NOT NULL DEFAULT 'running',
    started_by     text NOT NULL,          -- session user, or 'worker'
    http_requests  bigint NOT NULL DEFAULT 0,
    records        bigint NOT NULL DEFAULT 0,   -- records applied
    persons        bigint NOT NULL DEFAULT 0,   -- persons merged
    billed_persons bigint NOT NULL DEFAULT 0,   -- persons /perustiedot returned
    unregistered   bigint NOT NULL DEFAULT 0,
    not_found      bigint NOT NULL DEFAULT 0,
    superseded     bigint NOT NULL DEFAULT 0,
    unmatched      bigint NOT NULL DEFAULT 0,
    malformed      bigint NOT NULL DEFAULT 0,
    unknown_groups bigint NOT NULL DEFAULT 0,
    censored       bigint NOT NULL DEFAULT 0,
    feed_rows      bigint NOT NULL DEFAULT 0,
    pages          bigint NOT NULL DEFAULT 0,
    notify_skipped bigint NOT NULL DEFAULT 0,
    error          text,                   -- never a response body or personal data
    CONSTRAINT run_kind CHECK (kind IN ('base', 'changes', 'refresh', 'rebaseline')),
    CONSTRAINT run_status CHECK (status IN ('running', 'ok', 'failed')),
    CONSTRAINT run_finished CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX run_last_ok ON vtj.run (finished_at) WHERE status = 'ok';
COMMENT ON TABLE vtj.run IS
    'One row per run (sync, base load, refresh, rebaseline) with its counts';
SELECT pg_catalog.pg_extension_config_dump('vtj.run', '');
SELECT pg_catalog.pg_extension_config_dump('vtj.run_id_seq', '');

-- ---------------------------------------------------------------------------
-- The merge lock: vtj._merge_page locks this one row first, so page merges
-- (of every chain, base loads included) run one at a time and change-feed
-- ids become visible in order. A row lock, not a table lock: it does not
-- conflict with VACUUM or ANALYZE of any table.
-- ---------------------------------------------------------------------------

CREATE TABLE vtj.merge_lock (
    id integer PRIMARY KEY DEFAULT 1,
    CONSTRAINT merge_lock_one_row CHECK (id = 1)
);
INSERT INTO vtj.merge_lock VALUES (1);
COMMENT ON TABLE vtj.merge_lock IS
    'One row, locked FOR UPDATE by every page merge until its transaction ends';
-- Nothing to dump: the extension script creates the row.
SELECT pg_catalog.pg_extension_config_dump('vtj.merge_lock', 'WHERE false');
