-- The floor (product.md §10): COPY of exactly the rows a run left in all
-- its tables into empty tables of the same definition and indexes, one
-- transaction per page of the run (a base page is 1,000 persons).
--
-- bench.floor_prepare(dir, x0) takes every row of the run's tables whose
-- xmin is x0 or later (the run started at x0, nothing else wrote since),
-- groups them by xmin (each page is one transaction of the run), writes one
-- binary COPY file per (page, table) into dir, and creates the empty tables
-- floor.<table> (LIKE vtj.<table> INCLUDING ALL: columns, defaults,
-- identity, constraints, indexes). It returns the number of pages. bench/run
-- then times a script of
--   BEGIN; COPY floor.<table> FROM '<dir>/<page>.<table>' (FORMAT binary); ...; COMMIT;
-- per page.

CREATE SCHEMA IF NOT EXISTS bench;

CREATE OR REPLACE FUNCTION bench.floor_tables() RETURNS text[]
    LANGUAGE sql IMMUTABLE
    RETURN ARRAY['person_state', 'person_entry', 'journal', 'change_feed', 'hetu_correction',
                 'subject', 'registration', 'run', 'chain'];

CREATE OR REPLACE FUNCTION bench.floor_prepare(p_dir text, p_x0 bigint) RETURNS integer
    LANGUAGE plpgsql AS $$
DECLARE
    t      text;
    cols   text;
    ord    text;
    g      record;
    n      integer := 0;
BEGIN
    DROP SCHEMA IF EXISTS floor CASCADE;
    CREATE SCHEMA floor;
    CREATE TEMP TABLE floor_pages (x bigint PRIMARY KEY, n integer) ON COMMIT DROP;
    FOREACH t IN ARRAY bench.floor_tables() LOOP
        EXECUTE format('CREATE TABLE floor.%I (LIKE vtj.%I INCLUDING ALL)', t, t);
        EXECUTE format('CREATE TEMP TABLE fl_%s ON COMMIT DROP AS '
                       'SELECT xmin::text::bigint AS bench_x, s.* FROM vtj.%I s WHERE xmin::text::bigint >= %s',
                       t, t, p_x0);
        EXECUTE format('CREATE INDEX ON fl_%s (bench_x)', t);
        EXECUTE format('ANALYZE fl_%s', t);
        EXECUTE format('INSERT INTO floor_pages (x) SELECT DISTINCT bench_x FROM fl_%s ON CONFLICT DO NOTHING', t);
    END LOOP;
    -- pages in commit order
    UPDATE floor_pages f SET n = o.n FROM (SELECT x, row_number() OVER (ORDER BY x) AS n FROM floor_pages) o
     WHERE o.x = f.x;
    FOREACH t IN ARRAY bench.floor_tables() LOOP
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
          FROM pg_attribute a
         WHERE a.attrelid = format('vtj.%I', t)::regclass AND a.attnum > 0 AND NOT a.attisdropped;
        ord := CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = format('vtj.%I', t)::regclass
                                    AND a.attname = 'id' AND NOT a.attisdropped)
                    THEN 'id' ELSE '1' END;
        FOR g IN EXECUTE format('SELECT f.x, f.n FROM floor_pages f '
                                'WHERE EXISTS (SELECT 1 FROM fl_%s s WHERE s.bench_x = f.x) ORDER BY f.n', t) LOOP
            EXECUTE format('COPY (SELECT %s FROM fl_%s WHERE bench_x = %s ORDER BY %s) TO %L (FORMAT binary)',
                           cols, t, g.x, ord, p_dir || '/' || g.n || '.' || t);
        END LOOP;
    END LOOP;
    SELECT count(*) INTO n FROM floor_pages;
    RETURN n;
END
$$;

-- Empties the floor tables (between repetitions).
CREATE OR REPLACE FUNCTION bench.floor_reset() RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY bench.floor_tables() LOOP
        EXECUTE format('TRUNCATE floor.%I RESTART IDENTITY', t);
    END LOOP;
END
$$;
