-- Reads (product.md §10): the same queries through the masked views and
-- directly on the storage tables. bench.persons_storage and
-- bench.addresses_storage are plain (not security_barrier) views that spell
-- out the queries vtj.persons and vtj.addresses run (sql/install/80_views.sql),
-- without the masking, the registration check and the reader's purposes:
-- what the same query on the storage tables looks like. (Plain views are
-- flattened into the query that uses them; the masked views are not.)

CREATE SCHEMA IF NOT EXISTS bench;

CREATE OR REPLACE VIEW bench.persons_storage AS
SELECT ps.hetu, cur.etunimet, cur.sukunimi, cur.aidinkieli, cur.asiointikieli,
       ps.kuollut, ps.kuolinpv, ps.kuolinpv_tarkkuus, ps.turvakielto, ps.turva_loppupv AS turvakielto_loppupv,
       cur.kotikunta, k.nimi AS kotikunta_nimi, k.nimi_sv AS kotikunta_nimi_sv,
       cur.kuntaan_muuttopv, ps.updated_at
  FROM vtj.person_state ps
  LEFT JOIN (
        SELECT c.hetu,
               max(c.etunimet) FILTER (WHERE c.tietoryhma = 'HENKILON_NIMI') AS etunimet,
               max(c.sukunimi) FILTER (WHERE c.tietoryhma = 'HENKILON_NIMI') AS sukunimi,
               max(c.kielikoodi) FILTER (WHERE c.tietoryhma = 'AIDINKIELI') AS aidinkieli,
               max(c.kielikoodi) FILTER (WHERE c.tietoryhma = 'ASIOINTIKIELI') AS asiointikieli,
               max(c.kuntakoodi) FILTER (WHERE c.tietoryhma = 'KOTIKUNTA') AS kotikunta,
               max(c.alkupv) FILTER (WHERE c.tietoryhma = 'KOTIKUNTA') AS kuntaan_muuttopv
          FROM (SELECT DISTINCT ON (e.hetu, e.tietoryhma)
                       e.hetu, e.tietoryhma,
                       COALESCE(e.etunimi_utf8, e.etunimi) AS etunimet,
                       COALESCE(e.sukunimi_utf8, e.sukunimi) AS sukunimi,
                       e.kielikoodi, e.kuntakoodi, e.alkupv
                  FROM vtj.person_entry e
                 WHERE e.tietoryhma IN ('HENKILON_NIMI', 'AIDINKIELI', 'ASIOINTIKIELI', 'KOTIKUNTA')
                   AND (e.alkupv IS NULL OR e.alkupv <= (now() AT TIME ZONE 'Europe/Helsinki')::date)
                   AND (e.loppupv IS NULL OR e.loppupv >= (now() AT TIME ZONE 'Europe/Helsinki')::date)
                 ORDER BY e.hetu, e.tietoryhma, e.alkupv DESC NULLS LAST, e.id DESC) c
         GROUP BY c.hetu) cur ON cur.hetu = ps.hetu
  LEFT JOIN vtj.kunta k ON k.kuntakoodi = cur.kotikunta
 WHERE ps.base_loaded_at IS NOT NULL;

CREATE OR REPLACE VIEW bench.addresses_storage AS
SELECT e.hetu, e.tietoryhma,
       CASE WHEN e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE') THEN st.fi
            WHEN e.tietoryhma IN ('VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE')
                THEN COALESCE(e.lahiosoite, e.postiosoite_fi, e.postiosoite_sv)
            ELSE COALESCE(e.postiosoite_fi, e.postiosoite_sv, st.fi, e.lahiosoite) END AS katuosoite,
       CASE WHEN e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE') THEN st.sv
            WHEN e.tietoryhma IN ('VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE')
                THEN COALESCE(e.lahiosoite, e.postiosoite_sv, e.postiosoite_fi)
            ELSE COALESCE(e.postiosoite_sv, e.postiosoite_fi, st.sv, e.lahiosoite) END AS katuosoite_sv,
       e.katunimi_fi, e.katunimi_sv, e.katunumero, e.huoneistokirjain, e.huoneistonumero, e.jakokirjain,
       e.postinumero, e.postitoimipaikka_fi, e.postitoimipaikka_sv, e.postiosoite_fi, e.postiosoite_sv,
       e.postiosoite_lisarivi, e.lahiosoite, e.paikkakunta, e.valtiokoodi, e.valtionimi, e.kuntakoodi,
       e.alkupv, e.loppupv
  FROM vtj.person_entry e
 CROSS JOIN LATERAL (SELECT (now() AT TIME ZONE 'Europe/Helsinki')::date AS today) d
 CROSS JOIN LATERAL (SELECT NULLIF(concat(NULLIF(ltrim(e.huoneistonumero, '0'), ''), e.jakokirjain), '') AS huoneisto) h
 CROSS JOIN LATERAL (SELECT NULLIF(concat_ws(' ', COALESCE(e.katunimi_fi, e.katunimi_sv), e.katunumero,
                                             e.huoneistokirjain, h.huoneisto), '') AS fi,
                            NULLIF(concat_ws(' ', COALESCE(e.katunimi_sv, e.katunimi_fi), e.katunumero,
                                             e.huoneistokirjain, h.huoneisto), '') AS sv) st
 WHERE e.tietoryhma IN ('VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE', 'KOTIMAINEN_POSTIOSOITE',
                        'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE', 'ULKOMAINEN_POSTIOSOITE',
                        'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE')
   AND (e.alkupv IS NULL OR e.alkupv <= d.today) AND (e.loppupv IS NULL OR e.loppupv >= d.today);

-- The join of customer hetus with persons and addresses (all output columns
-- are consumed by the aggregates).
CREATE OR REPLACE FUNCTION bench.join_view() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) + count(p.sukunimi) + count(p.kotikunta_nimi) + count(a.katuosoite) + count(a.postinumero)
      FROM bench.customers c
      JOIN vtj.persons p ON p.hetu = c.hetu
      LEFT JOIN vtj.addresses a ON a.hetu = c.hetu
$$;
CREATE OR REPLACE FUNCTION bench.join_storage() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) + count(p.sukunimi) + count(p.kotikunta_nimi) + count(a.katuosoite) + count(a.postinumero)
      FROM bench.customers c
      JOIN bench.persons_storage p ON p.hetu = c.hetu
      LEFT JOIN bench.addresses_storage a ON a.hetu = c.hetu
$$;
