-- The PL/pgSQL change merge the change sync is compared with (product.md
-- §10): merges one /muutokset page (already in bench.nb_change_pages, no
-- HTTP) with jsonb functions, one record at a time in page order, doing the
-- same work as pg_vtj:
--   * compare-and-set of the chain key, one page merge at a time;
--   * only registered persons whose base data is older than the page;
--   * censorship decided before writing: a first pass over the page gives
--     every person's prohibition at the end of the page and the last moment
--     it was active; entries of censored groups up to that moment are not
--     applied, and a prohibition that becomes active erases the stored
--     censored groups (entries, journal, feed);
--   * list-shaped groups: LISATTY adds (unless the same entry is stored),
--     MUUTETTU/KORJATTU update the entry they refer to (same fields but
--     loppupv, else same alkupv) or add it, POISTETTU/KORJATTAVA remove it,
--     POISTETTU's voimassaolevatTiedot become the current entries,
--     LISATIETO changes nothing; history (ended entries) stays;
--   * KUOLINPAIVA and TURVAKIELTO on the person; HENKILOTUNNUS_KORJAUS moves
--     the person's data and registrations to the new hetu;
--   * journal: one row per delivered group entry as merged (jsonb), groups
--     outside the 18 by name; feed: one row per (person, group,
--     muutosattribuutti) that changed something; updated_at;
--   * a prohibition that ended marks the person for a re-fetch.
-- Requires bench/sql/neighbour_common.sql. The journal gets a jsonb column
-- for the entries (bench/run adds it in the neighbour's database): the way
-- a DBA would journal JSON.

CREATE OR REPLACE FUNCTION bench.nb_merge_changes(p_run bigint, p_body jsonb) RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- its statements keep their cached plans: a plan made while the tables
    -- were empty would scan them sequentially for every person later on
    SET enable_seqscan = off
AS $$
DECLARE
    censored text[] := vtj._censored_groups();
    v_from   bigint := (p_body ->> 'from_key')::bigint;
    v_to     bigint := (p_body -> 'page' ->> 'viimeisinKirjausavain')::bigint;
    page     jsonb := p_body -> 'page' -> 'muutokset';
    tk       jsonb;          -- hetu -> {"final": bool, "cutoff": int, "stored": bool, "ever": bool}
    rec      jsonb;
    r        integer;
    g        jsonb;
    gi       integer;
    pos      integer;
    h        text COLLATE "C";
    grp      text COLLATE "C";
    attr     text;
    v        vtj._entry_value;
    l        jsonb;
    mid      bigint;
    t        jsonb;
    changed  boolean;
    feed     text[] := '{}';  -- 'hetu|group|attr' in order of first change
    k        text;
    dst      text COLLATE "C";
    n        integer := 0;
    kid      jsonb;
BEGIN
    PERFORM 1 FROM vtj.merge_lock FOR UPDATE;
    UPDATE vtj.chain c SET kirjausavain = v_to, key_advanced_at = now()
     WHERE c.chain_id = 1 AND c.kirjausavain = v_from;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    -- censorship decided before writing: the prohibition's course per person
    WITH ev AS (
        SELECT (x.value ->> 'henkilotunnus') COLLATE "C" AS hetu, x.ordinality * 1000 + y.ordinality AS pos,
               CASE WHEN y.value ? 'turvakiellonAlaisetKentat' THEN true
                    WHEN y.value ->> 'muutosattribuutti' IN ('POISTETTU', 'KORJATTAVA') THEN false
                    WHEN y.value ->> 'muutosattribuutti' = 'LISATIETO' THEN NULL
                    ELSE (y.value ->> 'turvakieltoAktiivinen')::boolean END AS val
          FROM jsonb_array_elements(page) WITH ORDINALITY x
         CROSS JOIN LATERAL jsonb_array_elements(x.value -> 'tietoryhmat') WITH ORDINALITY y
         WHERE y.value ? 'turvakiellonAlaisetKentat' OR y.value ->> 'tietoryhma' = 'TURVAKIELTO'
    ), st AS (
        SELECT ps.hetu, ps.turvakielto FROM vtj.person_state ps
         WHERE ps.turvakielto
           AND ps.hetu IN (SELECT (x.value ->> 'henkilotunnus') COLLATE "C" FROM jsonb_array_elements(page) x)
    ), a AS (
        SELECT COALESCE(e.hetu, st.hetu) AS hetu,
               COALESCE((array_agg(e.val ORDER BY e.pos DESC) FILTER (WHERE e.val IS NOT NULL))[1],
                        st.turvakielto, false) AS final,
               COALESCE(max(e.pos) FILTER (WHERE e.val), 0) AS last_true,
               COALESCE(bool_or(e.val), false) OR COALESCE(st.turvakielto, false) AS ever,
               COALESCE(st.turvakielto, false) AS stored
          FROM ev e FULL JOIN st ON st.hetu = e.hetu
         GROUP BY COALESCE(e.hetu, st.hetu), st.turvakielto
    )
    SELECT COALESCE(jsonb_object_agg(a.hetu, jsonb_build_object(
               'final', a.final, 'cutoff', CASE WHEN a.final THEN 2147483647 ELSE a.last_true END,
               'stored', a.stored, 'ever', a.ever)), '{}')
      INTO tk FROM a;

    -- a prohibition that becomes active erases the stored censored groups
    FOR h IN SELECT key FROM jsonb_each(tk) WHERE (value ->> 'ever')::boolean LOOP
        DELETE FROM vtj.person_entry e WHERE e.hetu = h AND e.tietoryhma = ANY (censored);
        DELETE FROM vtj.journal j WHERE j.hetu = h AND j.tietoryhma = ANY (censored);
        DELETE FROM vtj.change_feed c WHERE c.hetu = h AND c.tietoryhma = ANY (censored);
    END LOOP;

    FOR rec, r IN SELECT x.value, x.ordinality FROM jsonb_array_elements(page) WITH ORDINALITY x LOOP
        h := rec ->> 'henkilotunnus';
        PERFORM 1 FROM vtj.subject s WHERE s.hetu = h FOR KEY SHARE;
        CONTINUE WHEN NOT FOUND;                                       -- not registered
        PERFORM 1 FROM vtj.person_state ps WHERE ps.hetu = h AND ps.base_key < v_to;
        CONTINUE WHEN NOT FOUND;                                       -- base data newer
        n := n + 1;
        t := tk -> h;
        FOR g, gi IN SELECT y.value, y.ordinality FROM jsonb_array_elements(rec -> 'tietoryhmat') WITH ORDINALITY y LOOP
            grp := g ->> 'tietoryhma';
            attr := g ->> 'muutosattribuutti';
            pos := r * 1000 + gi;
            changed := false;
            IF NOT bench.nb_is_known(grp) THEN
                INSERT INTO vtj.journal (run_id, kind, hetu, position, tietoryhma, muutosattribuutti, outcome)
                VALUES (p_run, 'unknown', h, r - 1, grp, attr, NULL);
                CONTINUE;
            END IF;
            IF g ? 'turvakiellonAlaisetKentat'
               OR (grp = ANY (censored) AND t IS NOT NULL AND pos <= (t ->> 'cutoff')::integer) THEN
                IF NOT (grp = ANY (censored) AND t IS NOT NULL AND (t ->> 'final')::boolean) THEN
                    INSERT INTO vtj.journal (run_id, kind, hetu, position, tietoryhma, muutosattribuutti, outcome)
                    VALUES (p_run, 'change', h, r - 1, grp, attr, 'censored');
                END IF;
                CONTINUE;
            END IF;
            IF attr = 'LISATIETO' THEN
                NULL;
            ELSIF grp = 'HENKILOTUNNUS_KORJAUS' THEN
                dst := g ->> 'aktiivinenHenkilotunnus';
                IF g ->> 'voimassaolo' = 'AKTIIVI' AND dst IS NOT NULL AND dst <> h THEN
                    PERFORM 1 FROM vtj.subject s WHERE s.hetu = dst FOR UPDATE;
                    IF FOUND THEN
                        DELETE FROM vtj.registration s USING vtj.registration d
                         WHERE s.hetu = h AND d.hetu = dst AND d.purpose = s.purpose;
                        UPDATE vtj.registration x SET hetu = dst WHERE x.hetu = h;
                        DELETE FROM vtj.subject s WHERE s.hetu = h;
                    ELSE
                        UPDATE vtj.subject s SET hetu = dst WHERE s.hetu = h;
                    END IF;
                    DELETE FROM vtj.person_state ps WHERE ps.hetu = dst;
                    UPDATE vtj.person_state ps SET hetu = dst WHERE ps.hetu = h;
                    UPDATE vtj.person_entry e SET hetu = dst WHERE e.hetu = h;
                    INSERT INTO vtj.hetu_correction (vanha_hetu, uusi_hetu, muutettu_at, run_id)
                    VALUES (h, dst, (rec ->> 'muutospv')::timestamptz, p_run) ON CONFLICT DO NOTHING;
                    feed := feed || (h || '|HENKILOTUNNUS_KORJAUS|MUUTETTU') || (dst || '|HENKILOTUNNUS_KORJAUS|LISATTY');
                    h := dst;
                END IF;
            ELSIF grp = 'KUOLINPAIVA' THEN
                UPDATE vtj.person_state ps
                   SET kuollut = x.kuollut, kuolinpv = x.pv, kuolinpv_tarkkuus = x.pvt
                  FROM (SELECT CASE WHEN attr IN ('POISTETTU', 'KORJATTAVA') THEN false
                                    ELSE COALESCE((g ->> 'kuollut')::boolean, g ? 'kuolinpv') END AS kuollut) d
                 CROSS JOIN LATERAL (SELECT d.kuollut, CASE WHEN d.kuollut THEN bench.nb_date(g -> 'kuolinpv') END AS pv,
                                            CASE WHEN d.kuollut THEN bench.nb_prec(g -> 'kuolinpv') END AS pvt) x
                 WHERE ps.hetu = h
                   AND (ps.kuollut, ps.kuolinpv, ps.kuolinpv_tarkkuus::text) IS DISTINCT FROM (x.kuollut, x.pv, x.pvt);
                changed := FOUND;
            ELSIF grp = 'TURVAKIELTO' THEN
                UPDATE vtj.person_state ps
                   SET turvakielto = x.a, turva_loppupv = CASE WHEN x.a THEN bench.nb_date(x.l) END,
                       turva_loppupv_tarkkuus = CASE WHEN x.a THEN bench.nb_prec(x.l) END
                  FROM (SELECT CASE WHEN attr IN ('POISTETTU', 'KORJATTAVA') THEN false
                                    ELSE COALESCE((g ->> 'turvakieltoAktiivinen')::boolean, false) END AS a,
                               COALESCE(g -> 'turvaLoppuPv', g -> 'turvaLoppupv') AS l) x
                 WHERE ps.hetu = h AND ps.turvakielto IS DISTINCT FROM x.a;
                changed := FOUND;
            ELSE
                v := bench.nb_value(grp, g);
                l := bench.nb_loppupv(grp, g);
                SELECT e.id INTO mid
                  FROM vtj.person_entry e
                 WHERE e.hetu = h AND e.tietoryhma = grp
                   AND (vtj._ev(e) = v OR (e.alkupv IS NOT DISTINCT FROM v.alkupv
                                           AND e.alkupv_tarkkuus::text IS NOT DISTINCT FROM v.alkupv_tarkkuus))
                 ORDER BY vtj._ev(e) = v DESC, e.loppupv IS NULL DESC, e.id
                 LIMIT 1;
                IF attr IN ('POISTETTU', 'KORJATTAVA') THEN
                    IF mid IS NOT NULL THEN
                        DELETE FROM vtj.person_entry e WHERE e.hetu = h AND e.tietoryhma = grp AND e.id = mid;
                        changed := true;
                    END IF;
                    IF attr = 'POISTETTU' AND g ? 'voimassaolevatTiedot' THEN
                        DELETE FROM vtj.person_entry e
                         WHERE e.hetu = h AND e.tietoryhma = grp AND (e.loppupv IS NULL OR e.loppupv >= current_date)
                           AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(g -> 'voimassaolevatTiedot') kv
                                            WHERE vtj._ev(e) = bench.nb_value(grp, kv.value)
                                              AND e.loppupv IS NOT DISTINCT FROM bench.nb_date(bench.nb_loppupv(grp, kv.value)));
                        changed := changed OR FOUND;
                        FOR kid IN SELECT kv.value FROM jsonb_array_elements(g -> 'voimassaolevatTiedot') kv LOOP
                            v := bench.nb_value(grp, kid);
                            l := bench.nb_loppupv(grp, kid);
                            PERFORM 1 FROM vtj.person_entry e
                             WHERE e.hetu = h AND e.tietoryhma = grp AND vtj._ev(e) = v
                               AND e.loppupv IS NOT DISTINCT FROM bench.nb_date(l);
                            IF NOT FOUND THEN
                                INSERT INTO vtj.person_entry (hetu, tietoryhma,
                                    etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
                                    kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
                                    katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
                                    postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
                                    postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
                                    valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
                                VALUES (h, grp, v.etunimi, v.sukunimi, v.etunimi_utf8, v.sukunimi_utf8, v.nimilaji,
                                        v.nimi, v.nimi_utf8, v.kielikoodi, v.kielikoodi_iso6392, v.kielinimi,
                                        v.kuntakoodi, v.katunimi_fi, v.katunimi_sv, v.katunumero, v.huoneistokirjain,
                                        v.huoneistonumero, v.jakokirjain, v.postinumero, v.postitoimipaikka_fi,
                                        v.postitoimipaikka_sv, v.rakennustunnus, v.osoitenumero, v.postiosoite_fi,
                                        v.postiosoite_sv, v.postiosoite_lisarivi, v.lahiosoite, v.paikkakunta,
                                        v.valtiokoodi, v.valtionimi, v.tiedot, v.alkupv, v.alkupv_tarkkuus,
                                        bench.nb_date(l), bench.nb_prec(l));
                                changed := true;
                            END IF;
                        END LOOP;
                    END IF;
                ELSIF attr IN ('MUUTETTU', 'KORJATTU') AND mid IS NOT NULL THEN
                    UPDATE vtj.person_entry e
                       SET (etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
                            kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
                            katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
                            postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
                            postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
                            valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
                         = ROW(v.etunimi, v.sukunimi, v.etunimi_utf8, v.sukunimi_utf8, v.nimilaji, v.nimi, v.nimi_utf8,
                               v.kielikoodi, v.kielikoodi_iso6392, v.kielinimi, v.kuntakoodi, v.katunimi_fi,
                               v.katunimi_sv, v.katunumero, v.huoneistokirjain, v.huoneistonumero, v.jakokirjain,
                               v.postinumero, v.postitoimipaikka_fi, v.postitoimipaikka_sv, v.rakennustunnus,
                               v.osoitenumero, v.postiosoite_fi, v.postiosoite_sv, v.postiosoite_lisarivi,
                               v.lahiosoite, v.paikkakunta, v.valtiokoodi, v.valtionimi, v.tiedot, v.alkupv,
                               v.alkupv_tarkkuus, bench.nb_date(l), bench.nb_prec(l))
                     WHERE e.hetu = h AND e.tietoryhma = grp AND e.id = mid
                       AND NOT (vtj._ev(e) = v AND e.loppupv IS NOT DISTINCT FROM bench.nb_date(l));
                    changed := FOUND;
                ELSIF attr IN ('LISATTY', 'MUUTETTU', 'KORJATTU') THEN
                    PERFORM 1 FROM vtj.person_entry e
                     WHERE e.hetu = h AND e.tietoryhma = grp AND vtj._ev(e) = v
                       AND e.loppupv IS NOT DISTINCT FROM bench.nb_date(l);
                    IF NOT FOUND THEN
                        INSERT INTO vtj.person_entry (hetu, tietoryhma,
                            etunimi, sukunimi, etunimi_utf8, sukunimi_utf8, nimilaji, nimi, nimi_utf8,
                            kielikoodi, kielikoodi_iso6392, kielinimi, kuntakoodi,
                            katunimi_fi, katunimi_sv, katunumero, huoneistokirjain, huoneistonumero, jakokirjain,
                            postinumero, postitoimipaikka_fi, postitoimipaikka_sv, rakennustunnus, osoitenumero,
                            postiosoite_fi, postiosoite_sv, postiosoite_lisarivi, lahiosoite, paikkakunta,
                            valtiokoodi, valtionimi, tiedot, alkupv, alkupv_tarkkuus, loppupv, loppupv_tarkkuus)
                        VALUES (h, grp, v.etunimi, v.sukunimi, v.etunimi_utf8, v.sukunimi_utf8, v.nimilaji, v.nimi,
                                v.nimi_utf8, v.kielikoodi, v.kielikoodi_iso6392, v.kielinimi, v.kuntakoodi,
                                v.katunimi_fi, v.katunimi_sv, v.katunumero, v.huoneistokirjain, v.huoneistonumero,
                                v.jakokirjain, v.postinumero, v.postitoimipaikka_fi, v.postitoimipaikka_sv,
                                v.rakennustunnus, v.osoitenumero, v.postiosoite_fi, v.postiosoite_sv,
                                v.postiosoite_lisarivi, v.lahiosoite, v.paikkakunta, v.valtiokoodi, v.valtionimi,
                                v.tiedot, v.alkupv, v.alkupv_tarkkuus, bench.nb_date(l), bench.nb_prec(l));
                        changed := true;
                    END IF;
                END IF;
            END IF;
            INSERT INTO vtj.journal (run_id, kind, hetu, position, tietoryhma, muutosattribuutti, outcome, entry_json)
            VALUES (p_run, 'change', h, r - 1, grp, attr, CASE WHEN changed THEN 'applied' ELSE 'unchanged' END,
                    CASE WHEN grp LIKE 'EDUNVALVONTA%' THEN vtj._guardian_tiedot(g) ELSE g END);
            IF changed THEN
                k := h || '|' || grp || '|' || COALESCE(attr, '');
                IF NOT k = ANY (feed) THEN
                    feed := feed || k;
                END IF;
            END IF;
        END LOOP;
    END LOOP;

    -- the prohibition at the end of the page; one that ended: re-fetch
    UPDATE vtj.person_state ps SET turvakielto = true
      FROM jsonb_each(tk) x
     WHERE ps.hetu = x.key COLLATE "C" AND (x.value ->> 'final')::boolean AND NOT ps.turvakielto;
    UPDATE vtj.person_state ps
       SET stale = true, stale_reason = COALESCE(ps.stale_reason, 'turvakielto_ended'), stale_since = now()
      FROM jsonb_each(tk) x
     WHERE ps.hetu = x.key COLLATE "C" AND NOT (x.value ->> 'final')::boolean AND (x.value ->> 'ever')::boolean;

    -- feed and updated_at
    INSERT INTO vtj.change_feed (hetu, tietoryhma, muutosattribuutti, run_id)
    SELECT split_part(f.k, '|', 1), split_part(f.k, '|', 2), NULLIF(split_part(f.k, '|', 3), ''), p_run
      FROM unnest(feed) WITH ORDINALITY f(k, o) ORDER BY f.o;
    UPDATE vtj.person_state ps SET updated_at = now()
     WHERE ps.hetu IN (SELECT DISTINCT split_part(f, '|', 1) COLLATE "C" FROM unnest(feed) f);
    IF cardinality(feed) > 0 THEN
        PERFORM pg_notify('vtj_changes', p_run::text);
    END IF;
    UPDATE vtj.run x SET records = x.records + n, pages = x.pages + 1, feed_rows = x.feed_rows + cardinality(feed)
     WHERE x.id = p_run;
    RETURN n;
END
$$;
