// The launcher of the periodic worker (product.md §9, anchors.md lesson 1):
// registered by _PG_init when pg_vtj is preloaded, started once recovery has
// finished (so never on a hot standby), it keeps one worker per database of
// vtj.worker_databases running (src/worker/db_worker.cpp):
//
//   - a listed database that does not exist or refuses connections is
//     skipped quietly and looked for again at the next pass (every 10 s, and
//     at every SIGHUP);
//   - a database without the extension: its worker finds that out and exits
//     quietly; the launcher starts it again after min(vtj.sync_interval, 60 s)
//     (at least 1 s), so CREATE EXTENSION is noticed without a restart;
//   - a worker that fails (error, crash, termination) is restarted after
//     1, 2, 4 … 60 s;
//   - a database removed from the list has its worker terminated;
//   - a database that a backend is about to drop, rename, move or copy
//     (utility hook, src/worker/operations.cpp) is left alone for a moment.
//
// The launcher connects to no database (it reads only the shared catalog
// pg_database), answers SIGHUP by reloading the configuration and
// reconciling at once, stops on SIGTERM, and absorbs procsignal barriers
// (CHECK_FOR_INTERRUPTS after every wake-up), so DROP DATABASE never waits
// for it. Everything here is plain C style: no C++ object with a destructor
// lives in these frames, so a PostgreSQL error may unwind them.
#include "pg/pg_headers.hpp"
#include "pg/settings.hpp"
#include "worker/state.hpp"
#include "worker/worker.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PGDLLEXPORT void vtj_launcher_main(Datum main_arg);
}

#include <cstring>

namespace pgvtj::worker {

namespace {

constexpr long kPassMs = 10 * 1000;          // longest sleep between passes
constexpr long kMaxRestartDelayMs = 60 * 1000;

// Launcher-private bookkeeping per slot of the shared state.
struct Local {
    BackgroundWorkerHandle* handle;  // in TopMemoryContext; nullptr when none
    TimestampTz start_after;         // earliest (re)start
    TimestampTz started_at;
    int restarts;                    // consecutive abnormal exits
    TimestampTz stop_asked_at;       // when the launcher asked it to stop (not wanted)
    bool no_extension;               // its last worker found no pg_vtj: look again
    TimestampTz stopped_at;          // ... one recheck delay after this
};
Local local[kMaxDatabases];

struct Wanted {
    Oid oid;
    NameData name;
};

// The databases of vtj.worker_databases that exist and accept connections.
int wanted_databases(Wanted* out, MemoryContext pass_context) {
    static char warned_for[1024];
    MemoryContext old = MemoryContextSwitchTo(pass_context);
    char* raw = pstrdup(settings::worker_databases ? settings::worker_databases : "");
    List* names = NIL;
    if (!SplitIdentifierString(raw, ',', &names)) {
        if (std::strncmp(warned_for, settings::worker_databases, sizeof warned_for - 1) != 0) {
            strlcpy(warned_for, settings::worker_databases, sizeof warned_for);
            ereport(WARNING, (errmsg("pg_vtj launcher: vtj.worker_databases is not a valid list of database names")));
        }
        names = NIL;
    }
    MemoryContextSwitchTo(old);
    if (names == NIL)
        return 0;

    int n = 0;
    bool too_many = false;
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    (void)GetTransactionSnapshot();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tup;
    while ((tup = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
        Form_pg_database db = (Form_pg_database)GETSTRUCT(tup);
        if (!db->datallowconn || database_is_invalid_form(db))
            continue;
        ListCell* lc;
        foreach (lc, names) {
            if (std::strcmp(static_cast<const char*>(lfirst(lc)), NameStr(db->datname)) == 0) {
                if (n < kMaxDatabases) {
                    out[n].oid = db->oid;
                    out[n].name = db->datname;
                    ++n;
                } else {
                    too_many = true;
                }
                break;
            }
        }
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
    if (too_many)
        ereport(WARNING, (errmsg("pg_vtj launcher: vtj.worker_databases lists more than %d databases; the rest get no worker",
                                 kMaxDatabases)));
    return n;
}

long ms_until(TimestampTz now, TimestampTz then) {
    return then <= now ? 0 : TimestampDifferenceMilliseconds(now, then);
}

long recheck_delay_ms() {
    long s = settings::sync_interval_s;
    if (s <= 0 || s > 60)
        s = 60;
    return s * 1000L;
}

bool start_worker(int i, const DbSlot& slot) {
    BackgroundWorker bgw;
    std::memset(&bgw, 0, sizeof bgw);
    bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
    bgw.bgw_restart_time = BGW_NEVER_RESTART;  // the launcher restarts it
    strlcpy(bgw.bgw_library_name, "pg_vtj", BGW_MAXLEN);
    strlcpy(bgw.bgw_function_name, "vtj_db_worker_main", BGW_MAXLEN);
    snprintf(bgw.bgw_name, BGW_MAXLEN, "pg_vtj worker for database %s", NameStr(slot.dbname));
    strlcpy(bgw.bgw_type, "pg_vtj worker", BGW_MAXLEN);
    bgw.bgw_main_arg = Int32GetDatum(i);
    std::memcpy(bgw.bgw_extra, &slot.dboid, sizeof(Oid));
    bgw.bgw_notify_pid = MyProcPid;

    MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
    BackgroundWorkerHandle* handle = nullptr;
    const bool ok = RegisterDynamicBackgroundWorker(&bgw, &handle);
    MemoryContextSwitchTo(old);
    if (!ok)
        return false;
    local[i].handle = handle;
    return true;
}

// One pass: start, restart and stop workers. Returns how long to sleep.
long reconcile(MemoryContext pass_context) {
    static bool warned_no_slot = false;
    SharedState* s = shared();
    Wanted wanted[kMaxDatabases];
    const int nwanted = wanted_databases(wanted, pass_context);
    TimestampTz now = GetCurrentTimestamp();
    long sleep_ms = kPassMs;

    // Workers that stopped; databases no longer wanted.
    for (int i = 0; i < kMaxDatabases; ++i) {
        SpinLockAcquire(&s->mutex);
        const Oid dboid = s->slots[i].dboid;
        SpinLockRelease(&s->mutex);
        if (!OidIsValid(dboid))
            continue;
        bool is_wanted = false;
        for (int w = 0; w < nwanted; ++w)
            is_wanted = is_wanted || wanted[w].oid == dboid;

        if (local[i].handle) {
            pid_t pid;
            if (GetBackgroundWorkerPid(local[i].handle, &pid) == BGWH_STOPPED) {
                pfree(local[i].handle);
                local[i].handle = nullptr;
                SpinLockAcquire(&s->mutex);
                const ExitReason why = s->slots[i].exit_reason;
                s->slots[i].exit_reason = ExitReason::None;
                s->slots[i].pid = 0;
                s->slots[i].procno = -1;
                SpinLockRelease(&s->mutex);
                local[i].no_extension = why == ExitReason::NoExtension;
                local[i].stopped_at = now;
                if (why == ExitReason::NoExtension) {
                    local[i].restarts = 0;  // the delay follows vtj.sync_interval (below)
                } else if (why == ExitReason::Stopped) {
                    local[i].restarts = 0;
                    local[i].start_after = now;
                } else {
                    if (TimestampDifferenceExceeds(local[i].started_at, now, 60 * 1000))
                        local[i].restarts = 0;
                    long delay = 1000L << (local[i].restarts < 6 ? local[i].restarts : 6);
                    if (delay > kMaxRestartDelayMs)
                        delay = kMaxRestartDelayMs;
                    ++local[i].restarts;
                    local[i].start_after = TimestampTzPlusMilliseconds(now, delay);
                    ereport(DEBUG1, (errmsg("pg_vtj launcher: the worker of database \"%s\" exited; restart in %ld ms",
                                            NameStr(s->slots[i].dbname), delay)));
                }
            } else if (!is_wanted) {
                // Removed from the list (or the database refuses connections
                // now): ask it to leave; terminate it if it has not after 10 s.
                if (local[i].stop_asked_at == 0) {
                    local[i].stop_asked_at = now;
                    SpinLockAcquire(&s->mutex);
                    s->slots[i].stop = true;
                    const int procno = s->slots[i].procno;
                    SpinLockRelease(&s->mutex);
                    set_latch_of(procno);
                    if (sleep_ms > 1000)
                        sleep_ms = 1000;
                } else if (TimestampDifferenceExceeds(local[i].stop_asked_at, now, 10 * 1000)) {
                    TerminateBackgroundWorker(local[i].handle);
                } else if (sleep_ms > 1000) {
                    sleep_ms = 1000;
                }
            }
        }
        if (!is_wanted && !local[i].handle) {
            SpinLockAcquire(&s->mutex);
            std::memset(&s->slots[i], 0, sizeof s->slots[i]);
            s->slots[i].dboid = InvalidOid;
            s->slots[i].procno = -1;
            SpinLockRelease(&s->mutex);
            std::memset(&local[i], 0, sizeof local[i]);
        }
    }

    // New databases get a slot.
    for (int w = 0; w < nwanted; ++w) {
        SpinLockAcquire(&s->mutex);
        int i = find_slot(s, wanted[w].oid);
        if (i < 0) {
            for (int j = 0; j < kMaxDatabases && i < 0; ++j)
                if (!OidIsValid(s->slots[j].dboid))
                    i = j;
            if (i >= 0) {
                std::memset(&s->slots[i], 0, sizeof s->slots[i]);
                s->slots[i].dboid = wanted[w].oid;
                s->slots[i].dbname = wanted[w].name;
                s->slots[i].procno = -1;
            }
        }
        SpinLockRelease(&s->mutex);
        if (i >= 0 && !local[i].handle && local[i].start_after == 0)
            local[i].start_after = now;
    }

    // Start what is due.
    for (int i = 0; i < kMaxDatabases; ++i) {
        SpinLockAcquire(&s->mutex);
        DbSlot slot = s->slots[i];
        SpinLockRelease(&s->mutex);
        if (!OidIsValid(slot.dboid) || local[i].handle)
            continue;
        bool is_wanted = false;
        for (int w = 0; w < nwanted; ++w)
            is_wanted = is_wanted || wanted[w].oid == slot.dboid;
        if (!is_wanted)
            continue;
        // A database without the extension is looked at again one recheck
        // delay after its worker left (computed now: SIGHUP may change it).
        TimestampTz due = local[i].no_extension ? TimestampTzPlusMilliseconds(local[i].stopped_at, recheck_delay_ms())
                                                : local[i].start_after;
        if (slot.start_now)
            due = now;
        if (slot.paused_until > due)
            due = slot.paused_until;
        if (due > now) {
            const long ms = ms_until(now, due);
            if (ms < sleep_ms)
                sleep_ms = ms;
            continue;
        }
        if (start_worker(i, slot)) {
            warned_no_slot = false;
            local[i].started_at = now;
            local[i].stop_asked_at = 0;
            local[i].no_extension = false;
            SpinLockAcquire(&s->mutex);
            s->slots[i].start_now = false;
            s->slots[i].stop = false;
            s->slots[i].exit_reason = ExitReason::None;
            SpinLockRelease(&s->mutex);
        } else {
            if (!warned_no_slot)
                ereport(WARNING, (errmsg("pg_vtj launcher: could not start the worker of database \"%s\"",
                                         NameStr(slot.dbname)),
                                  errhint("Raise max_worker_processes: the launcher, every worker and every run "
                                          "need a background worker slot.")));
            warned_no_slot = true;
            local[i].start_after = TimestampTzPlusMilliseconds(now, kPassMs);
        }
    }
    return sleep_ms < 10 ? 10 : sleep_ms;
}

// On exit the launcher stops the workers it started: a new launcher starts
// them again and needs no handles of its predecessor.
void launcher_exit(int, Datum) {
    SharedState* s = shared();
    if (!s)
        return;
    for (int i = 0; i < kMaxDatabases; ++i)
        if (local[i].handle)
            TerminateBackgroundWorker(local[i].handle);
    SpinLockAcquire(&s->mutex);
    if (s->launcher_pid == MyProcPid) {
        s->launcher_pid = 0;
        s->launcher_procno = -1;
    }
    SpinLockRelease(&s->mutex);
}

}  // namespace

void register_launcher() {
    BackgroundWorker bgw;
    std::memset(&bgw, 0, sizeof bgw);
    bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;  // idle on a standby
    bgw.bgw_restart_time = 5;
    strlcpy(bgw.bgw_library_name, "pg_vtj", BGW_MAXLEN);
    strlcpy(bgw.bgw_function_name, "vtj_launcher_main", BGW_MAXLEN);
    strlcpy(bgw.bgw_name, "pg_vtj launcher", BGW_MAXLEN);
    strlcpy(bgw.bgw_type, "pg_vtj launcher", BGW_MAXLEN);
    RegisterBackgroundWorker(&bgw);
}

void wake_launcher() {
    SharedState* s = shared();
    if (!s)
        return;
    SpinLockAcquire(&s->mutex);
    const int procno = s->launcher_pid != 0 ? s->launcher_procno : -1;
    SpinLockRelease(&s->mutex);
    set_latch_of(procno);
}

}  // namespace pgvtj::worker

using namespace pgvtj::worker;

void vtj_launcher_main(Datum) {
    pqsignal(SIGHUP, SignalHandlerForConfigReload);
    pqsignal(SIGTERM, die);
    BackgroundWorkerUnblockSignals();
    BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);  // shared catalogs only
    pgstat_report_appname("pg_vtj launcher");

    SharedState* s = shared();
    if (!s)
        proc_exit(0);  // cannot happen: registered only when preloaded
    std::memset(local, 0, sizeof local);
    SpinLockAcquire(&s->mutex);
    s->launcher_pid = MyProcPid;
    s->launcher_procno = MyProc->pgprocno;
    SpinLockRelease(&s->mutex);
    before_shmem_exit(launcher_exit, 0);
    ereport(LOG, (errmsg("pg_vtj launcher started")));

    MemoryContext pass_context =
        AllocSetContextCreate(TopMemoryContext, "pg_vtj launcher pass", ALLOCSET_SMALL_SIZES);
    for (;;) {
        CHECK_FOR_INTERRUPTS();  // SIGTERM, and procsignal barriers (DROP DATABASE)
        if (ConfigReloadPending) {
            ConfigReloadPending = false;
            ProcessConfigFile(PGC_SIGHUP);
        }
        pgstat_report_activity(STATE_RUNNING, "pg_vtj launcher: checking vtj.worker_databases");
        const long sleep_ms = reconcile(pass_context);
        MemoryContextReset(pass_context);
        pgstat_report_activity(STATE_IDLE, "pg_vtj launcher: waiting");
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, sleep_ms, PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    }
}
