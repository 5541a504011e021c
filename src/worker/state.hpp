// Shared state of the periodic background worker (product.md §9): the
// launcher, one worker per database of vtj.worker_databases, and the backends
// that call vtj.sync_now() or drop a database meet here.
//
// It exists only when pg_vtj is in shared_preload_libraries (the postmaster
// reserves it in _PG_init's shmem_request_hook). Runs started by SQL functions
// never need it. Nothing in it is a pointer into a process's private memory:
// processes are named by PID and PGPROC number (for their latch).
//
// Every field is read and written under `mutex` (a spinlock: the critical
// sections only copy a few fields, they never call anything).
#pragma once

#include "pg/pg_headers.hpp"

extern "C" {
#include "datatype/timestamp.h"
#include "storage/spin.h"
}

namespace pgvtj::worker {

// Databases the worker can serve at once; more in vtj.worker_databases are
// reported by the launcher and skipped.
constexpr int kMaxDatabases = 64;

// Why a database's worker last exited (told to the launcher).
enum class ExitReason : int32_t {
    None = 0,         // still running, or not started yet
    NoExtension = 1,  // the database has no pg_vtj: re-checked later, quietly
    Abnormal = 2,     // error, crash or termination: restarted with back-off
    Stopped = 3,      // asked to stop (database dropped, renamed, copied, or removed from the list)
};

struct DbSlot {
    Oid dboid;                 // InvalidOid: free; assigned by the launcher
    NameData dbname;           // for messages
    pid_t pid;                 // the database's worker; 0 while none runs
    int procno;                // its PGPROC number (latch); -1 while none runs
    pid_t run_pid;             // the run worker it waits for; 0 when idle
    bool wake;                 // vtj.sync_now(): run at once
    bool start_now;            // vtj.sync_now() while no worker runs: launcher starts it at once
    bool stop;                 // asked to exit (database dropped …, or removed from the list)
    ExitReason exit_reason;    // set by the worker before it exits
    TimestampTz paused_until;  // not (re)started before this (the database is being dropped …)
    int32_t failures;          // consecutive failed runs (for the activity text and tests)
};

struct SharedState {
    slock_t mutex;
    pid_t launcher_pid;        // 0 while no launcher runs
    int launcher_procno;
    DbSlot slots[kMaxDatabases];
};

// The shared state, or nullptr when the library was not preloaded.
SharedState* shared();

// Called from _PG_init when preloaded: reserves and initialises the state.
void install_shmem_hooks();

// Sets the latch of the process with PGPROC number `procno` (-1: nothing).
void set_latch_of(int procno);

// The slot of database `dboid`, or -1. Call with the mutex held.
int find_slot(const SharedState* s, Oid dboid);

}  // namespace pgvtj::worker
