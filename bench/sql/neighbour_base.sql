-- The fair PL/pgSQL neighbour of the base load (product.md §10): merges one
-- /perustiedot response (already in bench.nb_base_pages, no HTTP) with jsonb
-- functions in one set-based statement per page, doing the same work as
-- pg_vtj's base load of a first load:
--   * only registered persons (their register rows locked FOR KEY SHARE in
--     hetu order, as pg_vtj does), only persons not loaded yet;
--   * censorship decided before anything of the person is written (a
--     TURVAKIELTO with turvakieltoAktiivinen or a censored stub: the
--     censored groups are not stored, not even journalled by name);
--   * one pass over each person's groups (jsonb_array_elements once): the
--     list-shaped groups into vtj.person_entry (current, ended and future
--     entries alike: the history), death and prohibition into
--     vtj.person_state;
--   * journal: one row per person with the names of the groups delivered
--     (product.md §10); feed: one PERUSTIEDOT row per person;
--   * one transaction per page (bench/run calls it once per page).
-- Requires bench/sql/neighbour_common.sql.

CREATE OR REPLACE FUNCTION bench.nb_merge_base(p_run bigint, p_key bigint, p_body jsonb) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- planned for each page: the tables grow during the load (a plan made
    -- while they were empty would scan them sequentially later on)
    SET plan_cache_mode = force_custom_plan
    SET random_page_cost = 1.1
    SET jit = off
AS $$
DECLARE
    n   integer;
    reg text[];
BEGIN
    PERFORM 1 FROM vtj.merge_lock FOR UPDATE;
    -- the page's registered persons, their register rows locked in hetu order
    SELECT array_agg(l.hetu) INTO reg
      FROM (SELECT s.hetu FROM vtj.subject s
             WHERE s.hetu IN (SELECT (x.value ->> 'henkilotunnus') COLLATE "C"
                                FROM jsonb_array_elements(p_body -> 'perustiedot') x)
             ORDER BY s.hetu FOR KEY SHARE) l;
    WITH p AS (
        SELECT x.value AS rec, (x.ordinality - 1)::integer AS pos, (x.value ->> 'henkilotunnus') COLLATE "C" AS hetu
          FROM jsonb_array_elements(p_body -> 'perustiedot') WITH ORDINALITY x
    ), todo AS (
        SELECT p.hetu, p.pos, p.rec,
               jsonb_path_exists(p.rec, '$.tietoryhmat[*] ? (exists(@.turvakiellonAlaisetKentat)
                                  || (@.tietoryhma == "TURVAKIELTO" && @.turvakieltoAktiivinen == true))') AS prot
          FROM p
         WHERE p.hetu = ANY (reg)
           AND NOT EXISTS (SELECT 1 FROM vtj.person_state ps
                            WHERE ps.hetu = p.hetu AND ps.base_loaded_at IS NOT NULL)
    ), g AS (
        SELECT t.hetu, t.pos, t.prot, y.value AS g, (y.value ->> 'tietoryhma') COLLATE "C" AS grp, y.ordinality AS gi
          FROM todo t
         CROSS JOIN LATERAL jsonb_array_elements(t.rec -> 'tietoryhmat') WITH ORDINALITY y
    ), kept AS (
        SELECT g.* FROM g WHERE NOT (g.prot AND g.grp = ANY (vtj._censored_groups()))
    ), pe AS (
        INSERT INTO vtj.person_entry (hetu, tietoryhma,
            etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
            kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
            katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
            postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
            postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
            valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
        SELECT k.hetu, k.grp, (k.v).*, bench.nb_date(k.l), bench.nb_prec(k.l)
          FROM (SELECT kept.hetu, kept.grp, kept.pos, kept.gi, bench.nb_value(kept.grp, kept.g) AS v,
                       bench.nb_loppupv(kept.grp, kept.g) AS l
                  FROM kept
                 WHERE bench.nb_is_list(kept.grp) AND NOT kept.g ? 'turvakiellonAlaisetKentat'
                OFFSET 0) k
         ORDER BY k.pos, k.gi
    ), person AS (
        SELECT t.hetu, t.pos, t.prot, a.dead, a.dpv, a.tk_end, COALESCE(a.groups, '{}') AS groups
          FROM todo t
          LEFT JOIN (SELECT k.hetu,
                            (array_agg(COALESCE((k.g ->> 'kuollut')::boolean, k.g ? 'kuolinpv') ORDER BY k.gi DESC)
                                 FILTER (WHERE k.grp = 'KUOLINPAIVA'))[1] AS dead,
                            (array_agg(k.g -> 'kuolinpv' ORDER BY k.gi DESC) FILTER (WHERE k.grp = 'KUOLINPAIVA'))[1] AS dpv,
                            (array_agg(COALESCE(k.g -> 'turvaLoppuPv', k.g -> 'turvaLoppupv') ORDER BY k.gi DESC)
                                 FILTER (WHERE k.grp = 'TURVAKIELTO'))[1] AS tk_end,
                            array_agg(DISTINCT k.grp) AS groups
                       FROM kept k GROUP BY k.hetu) a ON a.hetu = t.hetu
    ), st AS (
        INSERT INTO vtj.person_state AS ps (hetu, base_loaded_at, base_key, base_run_id, turvakielto, turva_loppupv,
                                            turva_loppupv_tarkkuus, kuollut, kuolinpv, kuolinpv_tarkkuus, updated_at)
        SELECT p.hetu, now(), p_key, p_run, p.prot,
               CASE WHEN p.prot THEN bench.nb_date(p.tk_end) END, CASE WHEN p.prot THEN bench.nb_prec(p.tk_end) END,
               COALESCE(p.dead, false),
               CASE WHEN p.dead THEN bench.nb_date(p.dpv) END, CASE WHEN p.dead THEN bench.nb_prec(p.dpv) END, now()
          FROM person p
         ORDER BY p.hetu
        ON CONFLICT (hetu) DO UPDATE
           SET base_loaded_at = EXCLUDED.base_loaded_at, base_key = EXCLUDED.base_key,
               base_run_id = EXCLUDED.base_run_id, turvakielto = EXCLUDED.turvakielto,
               turva_loppupv = EXCLUDED.turva_loppupv, turva_loppupv_tarkkuus = EXCLUDED.turva_loppupv_tarkkuus,
               kuollut = EXCLUDED.kuollut, kuolinpv = EXCLUDED.kuolinpv,
               kuolinpv_tarkkuus = EXCLUDED.kuolinpv_tarkkuus, updated_at = EXCLUDED.updated_at
    ), jn AS (
        INSERT INTO vtj.journal (run_id, kind, hetu, position, groups)
        SELECT p_run, 'base', p.hetu, p.pos, p.groups FROM person p ORDER BY p.pos
    ), fd AS (
        INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
        SELECT p.hetu, 'PERUSTIEDOT', NULL, p_run FROM person p ORDER BY p.pos
    )
    SELECT count(*) INTO n FROM person;
    UPDATE vtj.run x SET records = x.records + n, persons = x.persons + n, pages = x.pages + 1 WHERE x.id = p_run;
    RETURN n;
END
$$;
