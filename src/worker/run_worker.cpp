// The run worker: a dynamic background worker that executes one run for the
// SQL function that started it (src/pg/run_launch.cpp) or for the periodic
// worker. Everything after the connection is C++ behind the boundary.
#include "pg/pg_headers.hpp"
#include "pg/run.hpp"
#include "pg/run_request.hpp"
#include "pg/run_settings.hpp"

extern "C" {
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"

PGDLLEXPORT void vtj_run_worker_main(Datum main_arg);
}

void vtj_run_worker_main(Datum main_arg) {
    // SIGTERM only sets flags; the wire client polls them, so a terminate stops
    // an HTTP wait promptly without longjmp through C++ frames.
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();

    dsm_segment* seg = dsm_attach(DatumGetUInt32(main_arg));
    if (seg == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("pg_vtj run worker: the caller is gone")));
    auto* req = static_cast<pgvtj::RunRequest*>(dsm_segment_address(seg));
    if (req->magic != pgvtj::kRunRequestMagic)
        ereport(ERROR, (errmsg("pg_vtj run worker: bad request segment")));

    BackgroundWorkerInitializeConnectionByOid(req->database, req->owner, 0);
    SetConfigOption("application_name", "pg_vtj run", PGC_USERSET, PGC_S_SESSION);
    pgstat_report_appname("pg_vtj run");
    // Runs use schema-qualified SQL only, and a search_path nobody can hijack.
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);

    pgvtj::execute_run(*req);  // noexcept: fills req->outcome
    dsm_detach(seg);
}
