// Library entry: settings, and (when preloaded) the background worker.
// Nothing here touches libcurl: its global state must not live in the
// postmaster (it is initialised lazily in the process that makes a request).
#include "pg/pg_headers.hpp"
#include "pg/settings.hpp"
#include "pg/log_redact.hpp"  // governance: server-log redaction hook
#include "worker/worker.hpp"   // the periodic worker (issue 6)

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

void _PG_init(void) {
    if (IsBinaryUpgrade)
        return;
    pgvtj::settings::loaded_at_start = process_shared_preload_libraries_in_progress;
    pgvtj::settings::define_all();
    pgvtj::log_redact::install();  // governance: emit_log_hook (vtj.log_redact)

    // The periodic worker needs the postmaster: a launcher registered now, its
    // shared state reserved now, and the hook that frees a database for DROP
    // DATABASE in every backend. Without preload none of it is set up (and
    // vtj.sync_now() says why); the SQL functions still work: their runs use
    // dynamic background workers, which need no preload.
    if (!process_shared_preload_libraries_in_progress)
        return;
    pgvtj::worker::setup_preloaded();
}
