// Retention at the end of every run (see retention.hpp). The rules themselves
// are SQL: vtj._apply_retention() in sql/install/60_operations.sql.
#include "worker/retention.hpp"

#include "pg/boundary.hpp"
#include "pg/xact.hpp"

extern "C" {
#include "miscadmin.h"
}

namespace pgvtj::worker {

void apply_retention_after_run(const RunRequest& req) noexcept {
    if (req.run_id == 0 || ProcDiePending)
        return;
    const char* failure = nullptr;
    char message[512];
    try {
        xact::run([] { xact::exec("SELECT vtj._apply_retention()"); });
    } catch (const std::exception& e) {
        // A PostgreSQL error's message (not its DETAIL) names no datum.
        strlcpy(message, e.what(), sizeof message);
        failure = message;
    } catch (...) {
        failure = "unknown error";
    }
    if (failure) {
        try {
            pg_guard([&] {
                ereport(WARNING, (errmsg("pg_vtj: retention after run %lld failed: %s",
                                         static_cast<long long>(req.run_id), failure),
                                  errhidestmt(true)));
            });
        } catch (...) {
        }
    }
}

}  // namespace pgvtj::worker
