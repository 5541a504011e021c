// A database's periodic worker (product.md §9): started by the launcher for
// one database of vtj.worker_databases, it runs vtj.sync() every
// vtj.sync_interval (0 = only when vtj.sync_now() asks) in a run worker —
// the same dynamic background worker and request that vtj.sync() uses
// (src/pg/run_launch.cpp), as the extension owner with started_by 'worker',
// committing page by page — and waits for it.
//
//   - No pg_vtj in the database: it exits quietly (the launcher checks again
//     later). It checks before every run, so DROP EXTENSION is noticed.
//   - A failed run backs off: the next attempt comes after
//     min(interval * 2^failures, max(interval, 1 h)); a success, or a run
//     that found the chain busy (a pg_cron or SQL run holds it: never the
//     same page twice, product.md §4), resets it. vtj.sync_now() overrides
//     the back-off.
//   - SIGHUP reloads the settings (interval); SIGTERM stops it at once, also
//     while a run waits on HTTP: on exit it terminates its run worker, which
//     polls for termination during every request. Its stop flag (set by the
//     launcher, or by a backend about to drop the database) ends it quietly.
//   - Every wake-up ends in CHECK_FOR_INTERRUPTS, so procsignal barriers
//     (DROP DATABASE of any database) never wait for it.
//   - pg_stat_activity shows it as backend_type and application_name
//     'pg_vtj worker', with what it is doing as the query text.
//
// The one log line per run is the run driver's (src/pg/run.cpp, at
// vtj.run_log_level); the worker logs only what the driver cannot: a run that
// could not start, or whose worker vanished.
//
// Plain C style: no C++ object with a destructor lives in these frames, so a
// PostgreSQL error may unwind them; the one C++ call (start_worker_run) is
// wrapped in try/catch.
#include "pg/pg_headers.hpp"
#include "pg/run_launch.hpp"
#include "pg/settings.hpp"
#include "worker/state.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PGDLLEXPORT void vtj_db_worker_main(Datum main_arg);
}

#include <cstring>
#include <exception>

using namespace pgvtj::worker;

namespace {

int my_slot = -1;
BackgroundWorkerHandle* active_run = nullptr;  // the run worker we wait for

constexpr int64 kBackoffCapS = 3600;

// On any exit (SIGTERM, error, stop flag): the run worker goes too, and the
// slot tells the launcher why we left.
void worker_exit(int code, Datum) {
    if (active_run)
        TerminateBackgroundWorker(active_run);
    SharedState* s = shared();
    if (!s || my_slot < 0)
        return;
    SpinLockAcquire(&s->mutex);
    DbSlot& slot = s->slots[my_slot];
    if (slot.pid == MyProcPid) {
        slot.pid = 0;
        slot.procno = -1;
        slot.run_pid = 0;
        if (slot.exit_reason == ExitReason::None)
            slot.exit_reason = code == 0 ? ExitReason::Stopped : ExitReason::Abnormal;
    }
    SpinLockRelease(&s->mutex);
}

void leave(ExitReason why) {
    SharedState* s = shared();
    SpinLockAcquire(&s->mutex);
    s->slots[my_slot].exit_reason = why;
    SpinLockRelease(&s->mutex);
    proc_exit(0);
}

bool stop_requested() {
    SharedState* s = shared();
    SpinLockAcquire(&s->mutex);
    const bool stop = s->slots[my_slot].stop;
    SpinLockRelease(&s->mutex);
    return stop;
}

// Interrupts, barriers, reloads and the stop flag: after every wake-up.
void handle_wakeup() {
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
        ConfigReloadPending = false;
        ProcessConfigFile(PGC_SIGHUP);
    }
    if (stop_requested())
        leave(ExitReason::Stopped);
}

// Whether pg_vtj is installed here; with `last_start`, also when the last
// change run (whoever started it) began, so a restart keeps the rhythm.
// A catalog that cannot be read (the extension being dropped) counts as
// "not installed".
bool probe(TimestampTz* last_start) {
    volatile bool present = false;
    MemoryContext caller = CurrentMemoryContext;
    pgstat_report_activity(STATE_RUNNING, "pg_vtj worker: checking for the extension");
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PG_TRY();
    {
        PushActiveSnapshot(GetTransactionSnapshot());
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        if (SPI_execute("SELECT 1 FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'pg_vtj'",
                        true, 1) == SPI_OK_SELECT &&
            SPI_processed == 1)
            present = true;
        if (present && last_start &&
            SPI_execute("SELECT pg_catalog.max(r.started_at) FROM vtj.run r WHERE r.kind OPERATOR(pg_catalog.=) 'changes'",
                        true, 1) == SPI_OK_SELECT &&
            SPI_processed == 1) {
            bool isnull = true;
            Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
            if (!isnull)
                *last_start = DatumGetTimestampTz(d);
        }
        SPI_finish();
        PopActiveSnapshot();
        CommitTransactionCommand();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        FlushErrorState();
        AbortCurrentTransaction();
        present = false;
    }
    PG_END_TRY();
    pgstat_report_stat(false);
    return present;
}

enum class RunResult { Ok, Busy, Failed };

void copy_message(char* dst, size_t cap, const char* src) {
    strlcpy(dst, src ? src : "", cap);
}

// One sync run in a run worker; waits for it while staying responsive.
RunResult run_once(const char* dbname) {
    pgvtj::WorkerRun run;
    char why[1024];
    why[0] = '\0';
    bool launched = false;

    pgstat_report_activity(STATE_RUNNING, "pg_vtj worker: starting a sync run");
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
    try {
        run = pgvtj::start_worker_run(pgvtj::RunKind::Sync);
        launched = true;
    } catch (const std::exception& e) {
        copy_message(why, sizeof why, e.what());  // before the abort frees it
    } catch (...) {
        copy_message(why, sizeof why, "unknown error");
    }
    if (!launched) {
        AbortCurrentTransaction();
        ereport(WARNING, (errmsg("pg_vtj worker: the sync of database \"%s\" could not start: %s", dbname, why),
                          errhidestmt(true)));
        return RunResult::Failed;
    }
    PopActiveSnapshot();
    CommitTransactionCommand();

    active_run = run.handle;
    pgstat_report_activity(STATE_RUNNING, "pg_vtj worker: sync run in progress");
    SharedState* s = shared();
    bool pid_known = false;
    for (;;) {
        pid_t pid = 0;
        const BgwHandleStatus st = GetBackgroundWorkerPid(run.handle, &pid);
        if (st == BGWH_STOPPED)
            break;
        if (st == BGWH_POSTMASTER_DIED)
            proc_exit(1);
        if (st == BGWH_STARTED && !pid_known) {
            pid_known = true;
            SpinLockAcquire(&s->mutex);
            s->slots[my_slot].run_pid = pid;
            SpinLockRelease(&s->mutex);
            char activity[128];
            snprintf(activity, sizeof activity, "pg_vtj worker: sync run in progress (run worker PID %d)",
                     static_cast<int>(pid));
            pgstat_report_activity(STATE_RUNNING, activity);
        }
        handle_wakeup();  // may exit: worker_exit terminates the run worker
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 1000, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
    active_run = nullptr;
    pfree(run.handle);
    SpinLockAcquire(&s->mutex);
    s->slots[my_slot].run_pid = 0;
    SpinLockRelease(&s->mutex);

    const auto* req = static_cast<const pgvtj::RunRequest*>(dsm_segment_address(run.seg));
    const pgvtj::RunOutcome outcome = req->outcome;
    char message[1024];
    copy_message(message, sizeof message, req->message);
    dsm_detach(run.seg);

    switch (outcome) {
        case pgvtj::RunOutcome::Ok:
            return RunResult::Ok;
        case pgvtj::RunOutcome::AlreadyRunning:
            return RunResult::Busy;
        case pgvtj::RunOutcome::Failed:
            return RunResult::Failed;  // the run driver logged it and recorded it in vtj.sync_runs
        case pgvtj::RunOutcome::Refused:
            ereport(WARNING, (errmsg("pg_vtj worker: the sync of database \"%s\" was refused: %s", dbname, message),
                              errhidestmt(true)));
            return RunResult::Failed;
        case pgvtj::RunOutcome::Pending:
            break;
    }
    ereport(WARNING, (errmsg("pg_vtj worker: the run worker of database \"%s\" ended without a result "
                             "(terminated or crashed); the next run marks its record failed",
                             dbname),
                      errhidestmt(true)));
    return RunResult::Failed;
}

// Seconds until the next attempt after `failures` failed runs in a row.
int64 backoff_s(int64 interval_s, int failures) {
    const int64 cap = interval_s > kBackoffCapS ? interval_s : kBackoffCapS;
    int64 delay = interval_s;
    for (int i = 0; i < failures && delay < cap; ++i)
        delay *= 2;
    return delay < cap ? delay : cap;
}

}  // namespace

void vtj_db_worker_main(Datum main_arg) {
    const int slot_index = DatumGetInt32(main_arg);
    Oid dboid = InvalidOid;
    std::memcpy(&dboid, MyBgworkerEntry->bgw_extra, sizeof(Oid));

    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();

    SharedState* s = shared();
    if (!s || slot_index < 0 || slot_index >= kMaxDatabases)
        proc_exit(1);

    // As the bootstrap superuser: the worker itself only reads catalogs and
    // its run table; the runs execute as the extension owner.
    BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
    SetConfigOption("application_name", "pg_vtj worker", PGC_USERSET, PGC_S_SESSION);
    SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
    pgstat_report_appname("pg_vtj worker");

    NameData dbname;
    const TimestampTz attached_at = GetCurrentTimestamp();
    SpinLockAcquire(&s->mutex);
    DbSlot& slot = s->slots[slot_index];
    const bool ours = slot.dboid == dboid && slot.pid == 0;
    // Registered by the launcher just before a DROP DATABASE or DROP
    // EXTENSION paused the slot (free_database could not ask a process that
    // had not attached yet to stop): leave before starting anything; the
    // launcher starts a worker again after the pause.
    const bool paused = ours && slot.paused_until > attached_at;
    const bool mine = ours && !paused;
    if (paused)
        slot.exit_reason = ExitReason::Stopped;
    if (mine) {
        slot.pid = MyProcPid;
        slot.procno = MyProc->pgprocno;
        slot.exit_reason = ExitReason::None;
        slot.stop = false;
        slot.failures = 0;
        dbname = slot.dbname;
    }
    SpinLockRelease(&s->mutex);
    if (!mine)
        proc_exit(0);  // paused, or the launcher gave the slot to another database meanwhile
    my_slot = slot_index;
    before_shmem_exit(worker_exit, 0);

    TimestampTz last_start = 0;
    if (!probe(&last_start))
        leave(ExitReason::NoExtension);  // quietly; the launcher checks again later
    ereport(LOG, (errmsg("pg_vtj worker for database \"%s\" started (vtj.sync_interval = %d s)", NameStr(dbname),
                         pgvtj::settings::sync_interval_s)));

    // The next run: one interval after the last change run began (a restart
    // keeps the rhythm), at once when there was none.
    TimestampTz now = GetCurrentTimestamp();
    TimestampTz anchor = last_start != 0 && last_start < now ? last_start : 0;
    int interval_s = pgvtj::settings::sync_interval_s;
    int failures = 0;
    TimestampTz failed_at = 0;

    for (;;) {
        handle_wakeup();
        now = GetCurrentTimestamp();

        // The schedule follows the current vtj.sync_interval (SIGHUP).
        interval_s = pgvtj::settings::sync_interval_s;
        TimestampTz next = 0;  // 0: only vtj.sync_now()
        if (interval_s > 0) {
            if (failures > 0)
                next = TimestampTzPlusMilliseconds(failed_at, backoff_s(interval_s, failures) * 1000);
            else
                next = anchor == 0 ? now : TimestampTzPlusMilliseconds(anchor, static_cast<int64>(interval_s) * 1000);
        }

        SpinLockAcquire(&s->mutex);
        const bool wake = s->slots[my_slot].wake;
        s->slots[my_slot].wake = false;
        SpinLockRelease(&s->mutex);

        if (wake || (next != 0 && now >= next)) {
            if (!probe(nullptr))
                leave(ExitReason::NoExtension);
            const TimestampTz started = GetCurrentTimestamp();
            const RunResult r = run_once(NameStr(dbname));
            if (r == RunResult::Failed) {
                ++failures;
                failed_at = GetCurrentTimestamp();
            } else {
                failures = 0;
            }
            anchor = started;
            SpinLockAcquire(&s->mutex);
            s->slots[my_slot].failures = failures;
            SpinLockRelease(&s->mutex);
            continue;  // recompute the schedule (and take a wake-up that came meanwhile)
        }

        char activity[256];
        if (next == 0)
            snprintf(activity, sizeof activity,
                     "pg_vtj worker: idle, vtj.sync_interval = 0; waiting for vtj.sync_now()");
        else if (failures > 0)
            snprintf(activity, sizeof activity, "pg_vtj worker: backing off after %d failed runs; next sync at %s",
                     failures, timestamptz_to_str(next));
        else
            snprintf(activity, sizeof activity, "pg_vtj worker: idle; next sync at %s", timestamptz_to_str(next));
        pgstat_report_activity(STATE_IDLE, activity);

        long timeout = -1;
        int events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH;
        if (next != 0) {
            timeout = TimestampDifferenceMilliseconds(now, next);
            if (timeout < 1)
                timeout = 1;
            events |= WL_TIMEOUT;
        }
        (void)WaitLatch(MyLatch, events, timeout, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}
