// vtj.sync(), vtj.load_base(), vtj.refresh_person(), vtj.rebaseline(): each
// checks for misuse, then starts a dynamic background worker for the run and
// waits for it (product.md §4). The caller's transaction holds nothing the run
// needs; cancelling or terminating the caller terminates the run worker, also
// in the middle of an HTTP wait.
#include "pg/run_request.hpp"
#include "pg/run_launch.hpp"
#include "pg/boundary.hpp"
#include "pg/settings.hpp"
#include "pg/run_settings.hpp"

#include "hetu/hetu.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "utils/acl.h"
#include "utils/syscache.h"
}

#include <cstring>
#include <string>
#include <vector>

namespace pgvtj {

const char* run_kind_name(RunKind kind) {
    switch (kind) {
        case RunKind::Sync: return "sync";
        case RunKind::Base: return "base";
        case RunKind::Refresh: return "refresh";
        case RunKind::Rebaseline: return "rebaseline";
    }
    return "run";
}

namespace {

constexpr int kRunFailed = MAKE_SQLSTATE('V', 'T', '0', '0', '1');

// Misuse is refused before any request (product.md §3 "Fetching").
void check_caller_may_run(bool superuser_only) {
    if (RecoveryInProgress())
        throw SqlError(ERRCODE_READ_ONLY_SQL_TRANSACTION, "pg_vtj cannot fetch from VTJ on a standby",
                       "Run vtj.sync() on the primary; the views stay readable here.");
    if (GetTopTransactionIdIfAny() != InvalidTransactionId)
        throw SqlError(ERRCODE_ACTIVE_SQL_TRANSACTION,
                       "a pg_vtj run cannot start in a transaction that has already changed data",
                       "Commit first: the run executes in its own process and commits page by page.");
    const Oid admin = get_role_oid("vtj_admin", true);
    const bool allowed = superuser() || (!superuser_only && OidIsValid(admin) &&
                                         has_privs_of_role(GetUserId(), admin));
    if (!allowed)
        throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                       superuser_only ? "only a superuser may do this"
                                      : "a pg_vtj run needs membership in vtj_admin");
    check_connection_settings();
}

Oid extension_owner() {
    Oid ext = get_extension_oid("pg_vtj", false);
    Oid owner = InvalidOid;
    // pg_extension has no syscache; a short SPI read in the caller's snapshot.
    pg_guard([&] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        Oid argtypes[1] = {OIDOID};
        Datum values[1] = {ObjectIdGetDatum(ext)};
        if (SPI_execute_with_args("SELECT e.extowner FROM pg_catalog.pg_extension e WHERE e.oid OPERATOR(pg_catalog.=) $1", 1, argtypes,
                                  values, nullptr, true, 1) == SPI_OK_SELECT && SPI_processed == 1) {
            bool isnull = false;
            owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        }
        SPI_finish();
    });
    if (!OidIsValid(owner))
        throw SqlError(ERRCODE_UNDEFINED_OBJECT, "extension pg_vtj is not installed in this database");
    return owner;
}

// Everything below runs in plain C style: the wait can longjmp (cancel), so no
// C++ object may be alive in these frames.
struct LaunchResult {
    RunOutcome outcome;
    int64_t result;
    int64_t run_id;
    int32_t sqlstate;
    char message[1024];
    char hint[512];
};

// Cancel (ERROR) or terminate (FATAL, which exits without unwinding) of the
// caller: the run stops too. PG_ENSURE_ERROR_CLEANUP covers both.
void terminate_run_worker(int code, Datum arg) {
    (void)code;
    TerminateBackgroundWorker(reinterpret_cast<BackgroundWorkerHandle*>(DatumGetPointer(arg)));
}

void wait_for_worker(BackgroundWorkerHandle* handle) {
    PG_ENSURE_ERROR_CLEANUP(terminate_run_worker, PointerGetDatum(handle));
    {
        pid_t pid;
        if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_POSTMASTER_DIED)
            ereport(ERROR, (errcode(ERRCODE_ADMIN_SHUTDOWN), errmsg("postmaster died during a pg_vtj run")));
        WaitForBackgroundWorkerShutdown(handle);
    }
    PG_END_ENSURE_ERROR_CLEANUP(terminate_run_worker, PointerGetDatum(handle));
}

// Registers the run worker for the request in `seg`; it reports to this
// process (bgw_notify_pid). False when no background worker slot is free.
// (Shared with the periodic worker's start_worker_run below.)
bool register_run_worker(dsm_segment* seg, BackgroundWorkerHandle** handle) {
    BackgroundWorker worker;
    RunRequest* req = static_cast<RunRequest*>(dsm_segment_address(seg));

    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "pg_vtj", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, "vtj_run_worker_main", BGW_MAXLEN);
    snprintf(worker.bgw_name, BGW_MAXLEN, "pg_vtj %s run for PID %d", run_kind_name(req->kind), MyProcPid);
    strlcpy(worker.bgw_type, "pg_vtj run", BGW_MAXLEN);
    worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
    worker.bgw_notify_pid = MyProcPid;
    return RegisterDynamicBackgroundWorker(&worker, handle);
}

void launch_and_wait(dsm_segment* seg, LaunchResult* out) {
    BackgroundWorkerHandle* handle = nullptr;
    RunRequest* req = static_cast<RunRequest*>(dsm_segment_address(seg));

    if (!register_run_worker(seg, &handle))
        ereport(ERROR, (errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
                        errmsg("could not start a pg_vtj run worker"),
                        errhint("Raise max_worker_processes: every run needs one background worker slot.")));
    wait_for_worker(handle);

    out->outcome = req->outcome;
    out->result = req->result;
    out->run_id = req->run_id;
    out->sqlstate = req->sqlstate;
    memcpy(out->message, req->message, sizeof out->message);
    memcpy(out->hint, req->hint, sizeof out->hint);
    out->message[sizeof out->message - 1] = '\0';
    out->hint[sizeof out->hint - 1] = '\0';
}

// Only registered hetus are ever sent to DVV: checked in the caller's
// snapshot, before the run starts.
void check_registered(const std::vector<std::string>& hetus) {
    std::vector<Datum> elems;
    elems.reserve(hetus.size());
    for (const auto& h : hetus)
        elems.push_back(pg_guard([&] { return PointerGetDatum(cstring_to_text_with_len(h.data(), (int)h.size())); }));
    int64 unregistered = pg_guard([&] {
        ArrayType* array = construct_array(elems.data(), (int)elems.size(), TEXTOID, -1, false, TYPALIGN_INT);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        Oid argtypes[1] = {TEXTARRAYOID};
        Datum values[1] = {PointerGetDatum(array)};
        int64 n = 0;
        if (SPI_execute_with_args("SELECT vtj._unregistered_among($1)", 1, argtypes, values, nullptr, true, 1) ==
                SPI_OK_SELECT && SPI_processed == 1) {
            bool isnull = false;
            n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        }
        SPI_finish();
        return n;
    });
    if (unregistered > 0)
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                       std::to_string(unregistered) + " of the given hetus are not registered",
                       "Only registered hetus are sent to DVV: register them with vtj.add_person first.");
}

// The request segment of a run: kind, database, owner, started_by, this
// process's vtj.* settings and the hetus. (Shared with start_worker_run.)
dsm_segment* create_run_request(RunKind kind, const std::vector<std::string>* hetus, Oid owner,
                                const char* started_by) {
    const std::string settings = serialize_run_settings();
    const uint32_t count = hetus ? static_cast<uint32_t>(hetus->size()) : 0;

    dsm_segment* seg = pg_guard([&] { return dsm_create(run_request_size(settings.size(), count), 0); });
    RunRequest* req = static_cast<RunRequest*>(dsm_segment_address(seg));
    std::memset(req, 0, sizeof *req);
    req->magic = kRunRequestMagic;
    req->kind = kind;
    req->database = MyDatabaseId;
    req->owner = owner;
    strlcpy(req->started_by, started_by, NAMEDATALEN);
    req->caller_pid = MyProcPid;
    req->settings_bytes = static_cast<uint32_t>(settings.size());
    req->hetu_count = count;
    req->hetus_given = hetus != nullptr;
    req->outcome = RunOutcome::Pending;
    std::memcpy(req->settings(), settings.data(), settings.size());
    for (uint32_t i = 0; i < count; ++i)
        std::memcpy(req->hetus() + static_cast<size_t>(i) * 11, (*hetus)[i].data(), 11);
    return seg;
}

// Prepares the request in C++ (may throw), then launches and waits in C style.
int64_t start_run(RunKind kind, const std::vector<std::string>* hetus, bool superuser_only = false) {
    check_caller_may_run(superuser_only);
    if (hetus)
        check_registered(*hetus);
    const Oid owner = extension_owner();
    const char* session_user = pg_guard([] { return GetUserNameFromId(GetSessionUserId(), false); });
    dsm_segment* seg = create_run_request(kind, hetus, owner, session_user);

    LaunchResult result;
    std::memset(&result, 0, sizeof result);
    pg_guard([&] { launch_and_wait(seg, &result); });
    pg_guard([&] { dsm_detach(seg); });

    switch (result.outcome) {
        case RunOutcome::Ok:
            return result.result;
        case RunOutcome::AlreadyRunning:
            pg_guard([&] {
                ereport(NOTICE, (errmsg("a pg_vtj run of this register is already in progress; nothing done")));
            });
            return 0;
        case RunOutcome::Failed: {
            std::string msg = "pg_vtj run " + std::to_string(result.run_id) + " failed: " + result.message;
            throw SqlError(kRunFailed, msg, result.hint[0] ? result.hint : "See vtj.sync_runs for the run's record.");
        }
        case RunOutcome::Refused:
            throw SqlError(result.sqlstate ? result.sqlstate : ERRCODE_INTERNAL_ERROR, result.message, result.hint);
        case RunOutcome::Pending:
            break;
    }
    throw SqlError(kRunFailed, "the pg_vtj run worker ended without a result",
                   "It was terminated or crashed; the next run marks its record failed.");
}

std::vector<std::string> hetus_from_array(ArrayType* array) {
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pg_guard([&] { deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count); });
    std::vector<std::string> out;
    out.reserve(count);
    for (int i = 0; i < count; ++i) {
        if (nulls[i])
            throw SqlError(ERRCODE_NULL_VALUE_NOT_ALLOWED, "hetus must not contain NULL");
        text* t = reinterpret_cast<text*>(pg_guard([&] { return DatumGetPointer(PointerGetDatum(PG_DETOAST_DATUM_PACKED(elems[i]))); }));
        std::string code = text_to_string(t);
        auto verdict = vtj::hetu::check(code, settings::allow_test_hetus);
        if (verdict != vtj::hetu::Verdict::Valid)
            throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           std::string("invalid hetu at position ") + std::to_string(i + 1) + ": " +
                               vtj::hetu::describe(verdict));
        out.push_back(std::move(code));
    }
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// The periodic worker's runs (issue 6; src/worker/db_worker.cpp): the same
// request segment and run worker as vtj.sync(), as the extension owner with
// started_by 'worker'. The worker waits with its own loop (it must stay
// responsive to SIGTERM, its stop flag and procsignal barriers).
// ---------------------------------------------------------------------------
WorkerRun start_worker_run(RunKind kind) {
    if (pg_guard([] { return RecoveryInProgress(); }))
        throw SqlError(ERRCODE_READ_ONLY_SQL_TRANSACTION, "pg_vtj cannot fetch from VTJ on a standby");
    check_connection_settings();
    const Oid owner = extension_owner();
    WorkerRun run;
    run.seg = create_run_request(kind, nullptr, owner, "worker");
    // The segment and the handle outlive the caller's transaction.
    pg_guard([&] { dsm_pin_mapping(run.seg); });
    const bool ok = pg_guard([&] {
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        const bool registered = register_run_worker(run.seg, &run.handle);
        MemoryContextSwitchTo(old);
        return registered;
    });
    if (!ok) {
        pg_guard([&] { dsm_detach(run.seg); });
        throw SqlError(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED, "could not start a pg_vtj run worker",
                       "Raise max_worker_processes: every run needs one background worker slot.");
    }
    return run;
}

}  // namespace pgvtj

using pgvtj::RunKind;

// vtj.sync() RETURNS bigint: change records applied.
PG_VTJ_FUNCTION(vtj_sync) {
    return Int64GetDatum(pgvtj::start_run(RunKind::Sync, nullptr));
}

// vtj.load_base(hetus text[] DEFAULT NULL) RETURNS bigint: persons merged.
PG_VTJ_FUNCTION(vtj_load_base) {
    if (PG_ARGISNULL(0))
        return Int64GetDatum(pgvtj::start_run(RunKind::Base, nullptr));
    std::vector<std::string> hetus = pgvtj::hetus_from_array(PG_GETARG_ARRAYTYPE_P(0));
    if (hetus.empty())
        return Int64GetDatum(0);
    return Int64GetDatum(pgvtj::start_run(RunKind::Base, &hetus));
}

// vtj.refresh_person(hetu text) RETURNS boolean: true when DVV returned it.
PG_VTJ_FUNCTION(vtj_refresh_person) {
    std::string code = pgvtj::text_to_string(PG_GETARG_TEXT_PP(0));
    auto verdict = vtj::hetu::check(code, pgvtj::settings::allow_test_hetus);
    if (verdict != vtj::hetu::Verdict::Valid)
        throw pgvtj::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, std::string("invalid hetu: ") + vtj::hetu::describe(verdict));
    std::vector<std::string> hetus{code};
    return BoolGetDatum(pgvtj::start_run(RunKind::Refresh, &hetus) > 0);
}

// vtj.rebaseline() RETURNS bigint: persons re-fetched (billed by DVV).
PG_VTJ_FUNCTION(vtj_rebaseline) {
    return Int64GetDatum(pgvtj::start_run(RunKind::Rebaseline, nullptr));
}
