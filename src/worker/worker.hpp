// The periodic background worker (product.md §9): what _PG_init and the rest
// of the glue call. Only set up when pg_vtj is in shared_preload_libraries.
//
//   launcher.cpp    the launcher: one worker per database of vtj.worker_databases
//   db_worker.cpp   a database's worker: vtj.sync() every vtj.sync_interval
//   operations.cpp  vtj.sync_now(); the utility hook that frees a database
//                   for DROP/ALTER/CREATE DATABASE
//   state.cpp       the shared state they meet in
//   retention.cpp   retention at the end of every run (called by the run driver)
#pragma once

namespace pgvtj::worker {

// _PG_init, preloaded only: shared memory, the launcher, the utility hook.
void setup_preloaded();

// Registers the launcher (postmaster, during shared_preload_libraries).
void register_launcher();

// Sets the launcher's latch (it reconciles at once). No-op without it.
void wake_launcher();

// Installs the ProcessUtility hook (operations.cpp).
void install_utility_hook();

}  // namespace pgvtj::worker
