-- Shared by the PL/pgSQL neighbours (bench/sql/neighbour_base.sql and
-- neighbour_changes.sql): what a competent DBA would write to merge
-- VTJ-muutosrajapinta JSON with jsonb functions inside PostgreSQL, given an
-- HTTP extension that puts each response into a table. They write into the
-- same tables as pg_vtj (vtj.person_state, vtj.person_entry, vtj.journal,
-- vtj.change_feed, ...) of a database cloned for the measurement.

CREATE SCHEMA IF NOT EXISTS bench;

-- The responses, as an HTTP extension would have stored them (one row per
-- response, jsonb), and the change pages with the key they were asked with.
CREATE TABLE IF NOT EXISTS bench.nb_base_pages (n serial PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS bench.nb_change_pages (n serial PRIMARY KEY, body jsonb NOT NULL);

CREATE OR REPLACE FUNCTION bench.nb_date(d jsonb) RETURNS date
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN d ->> 'tarkkuus' = 'KUUKAUSI' THEN date_trunc('month', (left(d ->> 'arvo', 7) || '-01')::date)::date
                WHEN d ->> 'tarkkuus' = 'VUOSI' THEN (left(d ->> 'arvo', 4) || '-01-01')::date
                ELSE (d ->> 'arvo')::date END;

CREATE OR REPLACE FUNCTION bench.nb_prec(d jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN d IS NULL OR jsonb_typeof(d) = 'null' THEN NULL ELSE COALESCE(d ->> 'tarkkuus', 'PAIVA') END;

-- fi / sv side of a bilingual text (a plain string is the fi side)
CREATE OR REPLACE FUNCTION bench.nb_lang(t jsonb, side text) RETURNS text
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN t IS NULL THEN NULL
                WHEN jsonb_typeof(t) = 'string' THEN CASE WHEN side = 'fi' THEN t #>> '{}' END
                ELSE t ->> side END;

-- The stored value of one list-shaped group entry (the columns of
-- vtj.person_entry other than hetu, tietoryhma, id, loppupv): fields the
-- group does not carry stay NULL; KOTIKUNTA's kuntaanMuuttopv is its alkupv;
-- guardianship details keep allow-listed keys only.
CREATE OR REPLACE FUNCTION bench.nb_value(grp text, g jsonb) RETURNS vtj._entry_value
    LANGUAGE sql IMMUTABLE AS $$
    SELECT ROW(
        CASE WHEN grp = 'HENKILON_NIMI' THEN g ->> 'etunimi' END,
        CASE WHEN grp = 'HENKILON_NIMI' THEN g ->> 'sukunimi' END,
        CASE WHEN grp = 'HENKILON_NIMI' THEN g ->> 'etunimiUTF8' END,
        CASE WHEN grp = 'HENKILON_NIMI' THEN g ->> 'sukunimiUTF8' END,
        CASE WHEN grp = 'NIMENMUUTOS' THEN g ->> 'nimilaji' END,
        CASE WHEN grp = 'NIMENMUUTOS' THEN g ->> 'nimi' END,
        CASE WHEN grp = 'NIMENMUUTOS' THEN g ->> 'nimiUTF8' END,
        CASE WHEN grp LIKE '%KIELI' THEN g ->> 'kielikoodi' END,
        CASE WHEN grp LIKE '%KIELI' THEN g ->> 'kielikoodiISO6392' END,
        CASE WHEN grp LIKE '%KIELI' THEN g ->> 'nimi' END,
        CASE WHEN grp = 'KOTIKUNTA' OR grp LIKE '%OSOITE' THEN g ->> 'kuntakoodi' END,
        CASE WHEN grp LIKE '%OSOITE' THEN bench.nb_lang(g -> 'katunimi', 'fi') END,
        CASE WHEN grp LIKE '%OSOITE' THEN bench.nb_lang(g -> 'katunimi', 'sv') END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'katunumero' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'huoneistokirjain' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'huoneistonumero' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'jakokirjain' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'postinumero' END,
        CASE WHEN grp LIKE '%OSOITE' THEN bench.nb_lang(g -> 'postitoimipaikka', 'fi') END,
        CASE WHEN grp LIKE '%OSOITE' THEN bench.nb_lang(g -> 'postitoimipaikka', 'sv') END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'rakennustunnus' END,
        CASE WHEN grp LIKE '%OSOITE' THEN (g ->> 'osoitenumero')::integer END,
        CASE WHEN grp LIKE '%OSOITE' THEN bench.nb_lang(g -> 'postiosoite', 'fi') END,
        CASE WHEN grp LIKE '%OSOITE' THEN bench.nb_lang(g -> 'postiosoite', 'sv') END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'postiosoiteLisarivi' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'lahiosoite' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'paikkakunta' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'valtiokoodi' END,
        CASE WHEN grp LIKE '%OSOITE' THEN g ->> 'valtionimi' END,
        CASE WHEN grp LIKE 'EDUNVALVONTA%'
             THEN vtj._guardian_tiedot(g - ARRAY['tietoryhma', 'muutosattribuutti', 'alkupv', 'loppupv', 'paatymispv']) END,
        CASE WHEN grp = 'KOTIKUNTA' THEN bench.nb_date(COALESCE(g -> 'kuntaanMuuttopv', g -> 'kuntaanMuuttoPv'))
             ELSE bench.nb_date(g -> 'alkupv') END,
        CASE WHEN grp = 'KOTIKUNTA' THEN bench.nb_prec(COALESCE(g -> 'kuntaanMuuttopv', g -> 'kuntaanMuuttoPv'))
             ELSE bench.nb_prec(g -> 'alkupv') END
    )::vtj._entry_value
$$;

CREATE OR REPLACE FUNCTION bench.nb_loppupv(grp text, g jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    RETURN CASE WHEN g ? 'loppupv' THEN g -> 'loppupv'
                WHEN grp LIKE 'EDUNVALVONTA%' THEN g -> 'paatymispv' END;

CREATE OR REPLACE FUNCTION bench.nb_is_list(grp text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN grp IN ('HENKILON_NIMI', 'NIMENMUUTOS', 'AIDINKIELI', 'ASIOINTIKIELI', 'EDUNVALVONTA',
                   'EDUNVALVONTAVALTUUTUS', 'VAKINAINEN_KOTIMAINEN_OSOITE', 'TILAPAINEN_KOTIMAINEN_OSOITE',
                   'KOTIMAINEN_POSTIOSOITE', 'VAKINAINEN_ULKOMAINEN_OSOITE', 'TILAPAINEN_ULKOMAINEN_OSOITE',
                   'ULKOMAINEN_POSTIOSOITE', 'KOTIMAINEN_YHTEYSOSOITE', 'ULKOMAINEN_YHTEYSOSOITE', 'KOTIKUNTA');

CREATE OR REPLACE FUNCTION bench.nb_is_known(grp text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN bench.nb_is_list(grp) OR grp IN ('HENKILOTUNNUS_KORJAUS', 'KUOLINPAIVA', 'TURVAKIELTO');
