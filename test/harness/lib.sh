# Shared by tools/test, tools/demo and bench: a throwaway PostgreSQL 15 cluster
# and the mock VTJ server, both on this machine only, torn down on exit.
# Source it, then call vtj_start_mock / vtj_start_cluster; vtj_cleanup runs on EXIT.

VTJ_ROOT=${VTJ_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VTJ_SHARED=${VTJ_SHARED:-$(cd "$VTJ_ROOT/.." && pwd)/shared}
PG_BIN=${PG_BIN:-$(pg_config --bindir)}
VTJ_PYTHON=${VTJ_PYTHON:-/usr/bin/python3}
[ -x "$VTJ_PYTHON" ] || VTJ_PYTHON=python3

VTJ_WORK=""        # temporary directory of this run
VTJ_MOCK_PID=""
VTJ_MOCK_PORT=""
VTJ_PGDATA=""
export PGHOST="" PGPORT="" PGUSER=postgres

vtj_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

vtj_workdir() {
  if [ -z "$VTJ_WORK" ]; then
    VTJ_WORK=$(mktemp -d /tmp/pg_vtj.XXXXXX)
    chmod 755 "$VTJ_WORK"
  fi
}

vtj_free_port() {
  "$VTJ_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# vtj_start_mock [extra mock args...]: starts test/mock/vtj_mock.py on loopback.
vtj_start_mock() {
  vtj_workdir
  local portfile="$VTJ_WORK/mock.port"
  rm -f "$portfile"
  "$VTJ_PYTHON" "$VTJ_ROOT/test/mock/vtj_mock.py" --host 127.0.0.1 --port 0 --port-file "$portfile" \
      --fixture "$VTJ_SHARED/fixtures/dvv-sandbox/perustiedot-response.json" "$@" \
      >"$VTJ_WORK/mock.log" 2>&1 &
  VTJ_MOCK_PID=$!
  for _ in $(seq 1 300); do
    [ -s "$portfile" ] && break
    kill -0 "$VTJ_MOCK_PID" 2>/dev/null || { cat "$VTJ_WORK/mock.log" >&2; return 1; }
    sleep 0.1
  done
  [ -s "$portfile" ] || { vtj_log "mock server did not start"; return 1; }
  VTJ_MOCK_PORT=$(cat "$portfile")
  export VTJ_MOCK_URL="http://127.0.0.1:$VTJ_MOCK_PORT"
  vtj_log "mock VTJ server on $VTJ_MOCK_URL"
}

# vtj_start_cluster [postgresql.conf lines...]: initdb + start, as user postgres.
vtj_start_cluster() {
  vtj_workdir
  VTJ_PGDATA="$VTJ_WORK/pgdata"
  PGPORT=$(vtj_free_port)
  PGHOST="$VTJ_WORK"
  export PGHOST PGPORT
  chown postgres:postgres "$VTJ_WORK" 2>/dev/null || true
  runuser -u postgres -- "$PG_BIN/initdb" -D "$VTJ_PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
      -A trust >"$VTJ_WORK/initdb.log" 2>&1 || { cat "$VTJ_WORK/initdb.log" >&2; return 1; }
  {
    echo "listen_addresses = ''"
    echo "unix_socket_directories = '$VTJ_WORK'"
    echo "port = $PGPORT"
    echo "max_worker_processes = 16"
    echo "logging_collector = off"
    echo "log_min_messages = warning"
    echo "log_line_prefix = '%m [%p] %q%u@%d '"
    for line in "$@"; do echo "$line"; done
  } >>"$VTJ_PGDATA/postgresql.conf"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$VTJ_PGDATA" -l "$VTJ_WORK/postgres.log" -w -t 60 start \
      >/dev/null || { cat "$VTJ_WORK/postgres.log" >&2; return 1; }
  export VTJ_PGDATA VTJ_LOG="$VTJ_WORK/postgres.log"
  vtj_log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PGPORT (socket $PGHOST)"
}

vtj_psql() { "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -q "$@"; }

vtj_stop_cluster() {
  if [ -n "$VTJ_PGDATA" ] && [ -d "$VTJ_PGDATA" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$VTJ_PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

vtj_stop_mock() {
  if [ -n "$VTJ_MOCK_PID" ]; then
    kill "$VTJ_MOCK_PID" 2>/dev/null || true
    wait "$VTJ_MOCK_PID" 2>/dev/null || true
    VTJ_MOCK_PID=""
  fi
}

vtj_cleanup() {
  vtj_stop_cluster
  vtj_stop_mock
  if [ -n "$VTJ_WORK" ] && [ "${VTJ_KEEP:-0}" != 1 ]; then
    rm -rf "$VTJ_WORK"
  elif [ -n "$VTJ_WORK" ]; then
    vtj_log "kept $VTJ_WORK (VTJ_KEEP=1)"
  fi
}
trap vtj_cleanup EXIT

# Builds the C++ layers and tests with CMake and the module with PGXS, and
# installs the extension into the server of pg_config.
vtj_build_and_install() {
  local werror=${VTJ_WERROR:-OFF}
  mkdir -p "$VTJ_ROOT/build"
  cmake -S "$VTJ_ROOT" -B "$VTJ_ROOT/build" -DPG_VTJ_WERROR="$werror" >"$VTJ_ROOT/build/build.log" 2>&1 \
    || { cat "$VTJ_ROOT/build/build.log" >&2; return 1; }
  cmake --build "$VTJ_ROOT/build" -j"$(nproc)" >>"$VTJ_ROOT/build/build.log" 2>&1 \
    || { tail -50 "$VTJ_ROOT/build/build.log" >&2; return 1; }
  make -C "$VTJ_ROOT" install >>"$VTJ_ROOT/build/build.log" 2>&1 \
    || { tail -30 "$VTJ_ROOT/build/build.log" >&2; return 1; }
  vtj_log "built and installed pg_vtj $(cat "$VTJ_ROOT/VERSION")"
}
