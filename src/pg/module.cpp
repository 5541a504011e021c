// Library entry: settings, and (when preloaded) the background worker.
// Nothing here touches libcurl: its global state must not live in the
// postmaster (it is initialised lazily in the process that makes a request).
#include "pg/pg_headers.hpp"
#include "pg/settings.hpp"

extern "C" {
PG_MODULE_MAGIC;
void _PG_init(void);
}

void _PG_init(void) {
    if (IsBinaryUpgrade)
        return;
    pgvtj::settings::loaded_at_start = process_shared_preload_libraries_in_progress;
    pgvtj::settings::define_all();
}
