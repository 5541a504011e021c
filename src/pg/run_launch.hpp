// Starting a run from the periodic worker (issue 6), with the same dynamic
// run worker and request segment that vtj.sync() uses (run_launch.cpp).
#pragma once

#include "pg/run_request.hpp"

extern "C" {
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
}

namespace pgvtj {

struct WorkerRun {
    dsm_segment* seg = nullptr;               // the RunRequest; mapped for the session
    BackgroundWorkerHandle* handle = nullptr; // in TopMemoryContext
};

// Starts a run of `kind` as the extension owner with started_by 'worker' and
// this process's vtj.* settings, and returns at once: the caller waits for
// the run worker (its bgw_notify_pid is this process), reads the outcome from
// the RunRequest in `seg`, then detaches `seg` and pfrees `handle`.
// Call inside a transaction with a snapshot (it reads pg_extension); `seg`
// and `handle` outlive it. Throws SqlError for misuse (standby, missing
// settings, no extension, no free background worker slot).
WorkerRun start_worker_run(RunKind kind);

}  // namespace pgvtj
