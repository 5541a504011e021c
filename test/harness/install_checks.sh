#!/bin/bash
# install_checks.sh — what CREATE EXTENSION pg_vtj refuses and what survives a
# dump, checked in databases of their own (the pgTAP files run inside one
# database that already has the extension).
#
# Runs against the cluster that PGHOST/PGPORT/PGUSER name, as a superuser,
# with pg_vtj installed. Prints TAP; exits non-zero when a check fails.
#
#   - CREATE EXTENSION in a fresh UTF8 database: schema, roles (NOLOGIN …,
#     vtj_admin member of vtj_reader), DROP EXTENSION and re-install
#   - refused: schema vtj already exists; database encoding SQL_ASCII and
#     LATIN1; vtj_reader / vtj_admin existing with LOGIN, SUPERUSER,
#     CREATEROLE, BYPASSRLS or REPLICATION; a role that is a member of a
#     superuser role or of pg_read_all_data; vtj_reader a member of vtj_admin
#   - pg_dump | psql into a fresh database: added and changed purposes, the
#     register, pending imports and added municipality codes come back once.
#
# The role checks change the cluster-wide roles vtj_reader and vtj_admin for a
# moment (one attribute at a time) and restore them on exit: do not run this
# script concurrently with other tests of the same cluster.

set -u
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
PSQL=("$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1)
PG_DUMP="$PG_BIN/pg_dump"

SUFFIX="$$"
N=0
FAILED=0
ALTERED_ROLES=0

ok()     { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N - $1"; shift; for l in "$@"; do echo "#   $l"; done; }
check()  { local desc=$1; shift; if "$@"; then ok "$desc"; else not_ok "$desc"; return 1; fi; }

sql()    { local db=$1; shift; "${PSQL[@]}" -d "$db" "$@"; }
# q DB SQL: one value
q()      { sql "$1" -c "$2" 2>&1; }

new_db() {   # new_db NAME [CREATE DATABASE options]
  local name; name=$(tr 'A-Z' 'a-z' <<<"vtj_ic_${1}_${SUFFIX}"); shift
  sql postgres -c "CREATE DATABASE $name $*" >/dev/null || return 1
  echo "$name"
}

drop_dbs() {   # new_db runs in $(...): find this run's databases by name
  local db
  for db in $(q postgres "SELECT datname FROM pg_database WHERE datname LIKE 'vtj\_ic\_%\_${SUFFIX}'"); do
    sql postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
  done
}

restore_roles() {
  if [ "$ALTERED_ROLES" = 1 ]; then
    for r in vtj_reader vtj_admin; do
      sql postgres -c "ALTER ROLE $r NOLOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS NOREPLICATION" >/dev/null 2>&1
    done
    sql postgres -c "REVOKE vtj_admin FROM vtj_reader" >/dev/null 2>&1
    sql postgres -c "DO \$\$BEGIN IF NOT pg_has_role('vtj_admin', 'vtj_reader', 'MEMBER') THEN GRANT vtj_reader TO vtj_admin; END IF; END\$\$" >/dev/null 2>&1
    sql postgres -c "DROP ROLE IF EXISTS vtj_ic_super_${SUFFIX}" >/dev/null 2>&1
    sql postgres -c "REVOKE pg_read_all_data FROM vtj_admin" >/dev/null 2>&1
  fi
}

cleanup() { restore_roles; drop_dbs; }
trap cleanup EXIT

# expect_refusal DESC DB PATTERN: CREATE EXTENSION fails in DB with an error
# matching PATTERN, and leaves neither the extension nor (unless it existed)
# schema vtj behind.
expect_refusal() {
  local desc=$1 db=$2 pattern=$3 out
  out=$(sql "$db" -c "CREATE EXTENSION pg_vtj" 2>&1)
  if [ $? -eq 0 ]; then
    not_ok "$desc" "CREATE EXTENSION succeeded"
    sql "$db" -c "DROP EXTENSION pg_vtj" >/dev/null 2>&1
    return
  fi
  if ! grep -Eq -- "$pattern" <<<"$out"; then
    not_ok "$desc" "error did not match /$pattern/:" "$out"
    return
  fi
  if [ "$(q "$db" "SELECT count(*) FROM pg_extension WHERE extname = 'pg_vtj'")" != 0 ]; then
    not_ok "$desc" "the extension is installed after the error"
    return
  fi
  ok "$desc"
}

echo "# pg_vtj install checks against ${PGHOST:-default}:${PGPORT:-5432}"

# --- a fresh UTF8 database --------------------------------------------------------
db=$(new_db fresh "TEMPLATE template0 ENCODING 'UTF8'") || { echo "Bail out! cannot create databases"; exit 1; }
out=$(sql "$db" -c "CREATE EXTENSION pg_vtj" 2>&1)
check "CREATE EXTENSION pg_vtj in a fresh UTF8 database" test $? -eq 0 || echo "# $out"
check "schema vtj exists and belongs to the extension" \
  test "$(q "$db" "SELECT count(*) FROM pg_depend WHERE classid = 'pg_namespace'::regclass AND objid = 'vtj'::regnamespace AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_vtj') AND deptype = 'e'")" = 1
for r in vtj_reader vtj_admin; do
  check "role $r exists: NOLOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS NOREPLICATION" \
    test "$(q "$db" "SELECT rolcanlogin OR rolsuper OR rolcreaterole OR rolbypassrls OR rolreplication FROM pg_roles WHERE rolname = '$r'")" = f
done
check "vtj_admin is a member of vtj_reader, not the other way round" \
  test "$(q "$db" "SELECT pg_has_role('vtj_admin', 'vtj_reader', 'MEMBER') AND NOT pg_has_role('vtj_reader', 'vtj_admin', 'MEMBER')")" = t
check "PUBLIC has no privilege on schema vtj" \
  test "$(q "$db" "SELECT has_schema_privilege('public', 'vtj', 'USAGE') OR has_schema_privilege('public', 'vtj', 'CREATE')")" = f
out=$(sql "$db" -c "DROP EXTENSION pg_vtj" 2>&1)
check "DROP EXTENSION pg_vtj works" test $? -eq 0 || echo "# $out"
check "... and removes schema vtj" test "$(q "$db" "SELECT count(*) FROM pg_namespace WHERE nspname = 'vtj'")" = 0
check "... and leaves the roles" test "$(q "$db" "SELECT count(*) FROM pg_roles WHERE rolname IN ('vtj_reader', 'vtj_admin')")" = 2
out=$(sql "$db" -c "CREATE EXTENSION pg_vtj" 2>&1)
check "CREATE EXTENSION again re-uses the existing roles" test $? -eq 0 || echo "# $out"

# --- schema vtj exists --------------------------------------------------------------------
db=$(new_db schema "TEMPLATE template0 ENCODING 'UTF8'")
sql "$db" -c "CREATE SCHEMA vtj; CREATE TABLE vtj.mine (x int)" >/dev/null
expect_refusal "refused when schema vtj already exists" "$db" 'schema "vtj" already exists'
check "... and the existing schema is left as it was" \
  test "$(q "$db" "SELECT count(*) FROM pg_class WHERE relnamespace = 'vtj'::regnamespace AND relname = 'mine'")" = 1

# --- encodings ------------------------------------------------------------------------------
for enc in SQL_ASCII LATIN1; do
  db=$(new_db "enc_$enc" "TEMPLATE template0 ENCODING '$enc' LC_COLLATE 'C' LC_CTYPE 'C'")
  expect_refusal "refused in a $enc database, with a clear message" "$db" \
    "pg_vtj requires a database with encoding UTF8, this database has encoding $enc"
  check "... before anything is created (no schema vtj)" \
    test "$(q "$db" "SELECT count(*) FROM pg_namespace WHERE nspname = 'vtj'")" = 0
done

# --- pre-existing roles with dangerous attributes --------------------------------------------------
db=$(new_db roles "TEMPLATE template0 ENCODING 'UTF8'")
ALTERED_ROLES=1
for r in vtj_reader vtj_admin; do
  for attr in LOGIN SUPERUSER CREATEROLE BYPASSRLS REPLICATION; do
    sql postgres -c "ALTER ROLE $r $attr" >/dev/null
    expect_refusal "refused when $r exists with $attr" "$db" "role \"$r\" already exists with $attr"
    sql postgres -c "ALTER ROLE $r NO$attr" >/dev/null
  done
done
sql postgres -c "ALTER ROLE vtj_admin LOGIN CREATEROLE" >/dev/null
expect_refusal "the message names every offending attribute" "$db" 'role "vtj_admin" already exists with LOGIN, CREATEROLE'
sql postgres -c "ALTER ROLE vtj_admin NOLOGIN NOCREATEROLE" >/dev/null

sql postgres -c "CREATE ROLE vtj_ic_super_${SUFFIX} SUPERUSER NOLOGIN; GRANT vtj_ic_super_${SUFFIX} TO vtj_reader" >/dev/null
expect_refusal "refused when vtj_reader is a member of a superuser role" "$db" "role \"vtj_reader\" already exists and is a member of vtj_ic_super_${SUFFIX}"
sql postgres -c "REVOKE vtj_ic_super_${SUFFIX} FROM vtj_reader; DROP ROLE vtj_ic_super_${SUFFIX}" >/dev/null
sql postgres -c "GRANT pg_read_all_data TO vtj_admin" >/dev/null
expect_refusal "refused when vtj_admin is a member of pg_read_all_data" "$db" 'role "vtj_admin" already exists and is a member of pg_read_all_data'
sql postgres -c "REVOKE pg_read_all_data FROM vtj_admin" >/dev/null

sql postgres -c "REVOKE vtj_reader FROM vtj_admin; GRANT vtj_admin TO vtj_reader" >/dev/null
expect_refusal "refused when vtj_reader is a member of vtj_admin" "$db" 'role "vtj_reader" is a member of role "vtj_admin"'
sql postgres -c "REVOKE vtj_admin FROM vtj_reader" >/dev/null
out=$(sql "$db" -c "CREATE EXTENSION pg_vtj" 2>&1)
check "with the roles safe again CREATE EXTENSION works" test $? -eq 0 || echo "# $out"
check "... and makes vtj_admin a member of vtj_reader again" \
  test "$(q "$db" "SELECT pg_has_role('vtj_admin', 'vtj_reader', 'MEMBER')")" = t
restore_roles; ALTERED_ROLES=0

# --- pg_dump and restore ---------------------------------------------------------------------------
src=$(new_db dump_src "TEMPLATE template0 ENCODING 'UTF8'")
dst=$(new_db dump_dst "TEMPLATE template0 ENCODING 'UTF8'")
out=$(sql "$src" 2>&1 <<'SQL'
CREATE EXTENSION pg_vtj;
SELECT vtj.set_purpose('laskutus', legal_basis => 'Kuntalaki 410/2015', enabled => false);
SELECT vtj.set_purpose('kirjasto', 'Kirjaston asiakasrekisteri');
SELECT vtj.add_persons(ARRAY['010594Y9032', '010594Y9021'], 'vesilaitos', ARRAY['v-1', NULL]);
SELECT vtj.add_person('010594Y9032', 'kirjasto', 'k-1');
INSERT INTO vtj.import (hetu, customer_ref) VALUES ('020594X903P', 'pending');
INSERT INTO vtj.kunta (kuntakoodi, nimi) VALUES ('998', 'Testikunta');
SQL
)
check "a register to dump" test $? -eq 0 || echo "# $out"
dumped=$("$PG_DUMP" -d "$src" 2>&1)
check "pg_dump of a database with pg_vtj" test $? -eq 0 || echo "# ${dumped:0:500}"
out=$(sql "$dst" <<<"$dumped" 2>&1)
check "the dump restores into a fresh database without error" test $? -eq 0 || echo "# ${out:0:800}"
state() {
  q "$1" "SELECT string_agg(x, ' | ' ORDER BY x) FROM (
            SELECT format('P %s %s %s %s %s', purpose, description, legal_basis, enabled, seeded) AS x FROM vtj.purposes
            UNION ALL SELECT format('R %s %s %s %s', hetu, purpose, customer_ref, added_by) FROM vtj.registration
            UNION ALL SELECT format('S %s', hetu) FROM vtj.subject
            UNION ALL SELECT format('I %s %s %s', hetu, customer_ref, imported_by) FROM vtj.import
            UNION ALL SELECT format('K %s', count(*)) FROM vtj.kunta
            UNION ALL SELECT format('K %s %s %s', kuntakoodi, nimi, seeded) FROM vtj.kunta WHERE NOT seeded) s"
}
a=$(state "$src"); b=$(state "$dst")
if [ "$a" = "$b" ]; then ok "purposes, register, pending imports and municipality codes come back once"
else not_ok "purposes, register, pending imports and municipality codes come back once" "source:   $a" "restored: $b"; fi
check "... the changed seeded purpose keeps its change" \
  test "$(q "$dst" "SELECT format('%s %s', enabled, legal_basis) FROM vtj.purposes WHERE purpose = 'laskutus'")" = "f Kuntalaki 410/2015"

echo "1..$N"
if [ "$FAILED" -gt 0 ]; then
  echo "# $FAILED of $N install checks failed"
  exit 1
fi
exit 0
