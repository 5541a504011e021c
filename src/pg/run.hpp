// One run (product.md §4): base load, change sync, refresh or rebaseline,
// executed in a run worker. Fetch with no transaction open, then merge each
// page in its own short transaction; the run's row in vtj.sync_runs is
// committed as running first and updated after every page.
#pragma once

#include "pg/run_request.hpp"

namespace pgvtj {

// Executes the run `req` describes and writes its outcome back into `req`.
// Never throws and never raises: errors are recorded in the run's row and in
// req->outcome/message.
void execute_run(RunRequest& req) noexcept;

}  // namespace pgvtj
