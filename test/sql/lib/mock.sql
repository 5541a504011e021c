-- Test helpers: drive the mock VTJ server's control API from SQL.
-- Include with \ir lib/mock.sql. Needs superuser (COPY FROM PROGRAM) and the
-- harness's setting pgvtj_test.mock_url (tools/test sets it).
\set QUIET 1

-- pg_temp.mock('POST', '/_mock/scenario', '{...}') -> the response as jsonb.
-- Bodies and answers travel base64-encoded, so no quoting can break them.
CREATE FUNCTION pg_temp.mock(p_method text, p_path text, p_body text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql AS $f$
DECLARE
    v_url  text := current_setting('pgvtj_test.mock_url') || p_path;
    v_cmd  text;
    v_out  text;
BEGIN
    IF p_body IS NULL THEN
        v_cmd := format('curl -sS -X %s %s | base64 -w0', p_method, quote_literal(v_url));
    ELSE
        v_cmd := format('echo %s | base64 -d | curl -sS -X %s -H ''Content-Type: application/json'' --data-binary @- %s | base64 -w0',
                        translate(encode(convert_to(p_body, 'UTF8'), 'base64'), E'\n', ''),
                        p_method, quote_literal(v_url));
    END IF;
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.mock_out (line text);
    TRUNCATE pg_temp.mock_out;
    EXECUTE format('COPY pg_temp.mock_out FROM PROGRAM %L', v_cmd);
    SELECT string_agg(line, '') INTO v_out FROM pg_temp.mock_out;
    IF v_out IS NULL OR v_out = '' THEN
        RETURN NULL;
    END IF;
    RETURN convert_from(decode(v_out, 'base64'), 'UTF8')::jsonb;
END
$f$;

-- Generated population hetus i .. i+n-1 of the mock, as a set.
CREATE FUNCTION pg_temp.mock_hetus(p_count integer, p_offset integer DEFAULT 0) RETURNS SETOF text
LANGUAGE plpgsql AS $f$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.mock_hetu_out (hetu text);
    TRUNCATE pg_temp.mock_hetu_out;
    EXECUTE format('COPY pg_temp.mock_hetu_out FROM PROGRAM %L',
                   format('%s %s --print-hetus %s --offset %s',
                          current_setting('pgvtj_test.python'), current_setting('pgvtj_test.mock_script'),
                          p_count, p_offset));
    RETURN QUERY SELECT hetu FROM pg_temp.mock_hetu_out;
END
$f$;
\unset QUIET
