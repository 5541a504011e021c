// Retention (product.md §3 "Settings"): applied by the run driver at the end
// of every run, whoever started it (src/pg/run.cpp calls this after the run).
#pragma once

#include "pg/run_request.hpp"

namespace pgvtj::worker {

// Runs vtj._apply_retention() in its own transaction. Skipped when no run
// began (req.run_id == 0) or the run worker is being terminated. Never throws:
// a failure is logged (without data) and the run's outcome stays as it was.
void apply_retention_after_run(const RunRequest& req) noexcept;

}  // namespace pgvtj::worker
