// Operations of the periodic worker seen from SQL:
//
//   vtj.sync_now()  wakes the worker of this database at once (its latch);
//                   raises when no worker is configured for the database.
//   utility hook    DROP DATABASE, ALTER DATABASE … RENAME / SET TABLESPACE
//                   and CREATE DATABASE … TEMPLATE need the database free of
//                   other sessions: before PostgreSQL checks that, the hook
//                   asks the database's worker to leave (it terminates its
//                   run worker on the way out) and keeps the launcher from
//                   restarting it for a moment. PostgreSQL itself then waits
//                   up to 5 s for the sessions to go. (timescaledb does the
//                   same for DROP DATABASE.) DROP EXTENSION pg_vtj stops the
//                   worker of this database too: a run in flight could only
//                   fail, and the new worker finds no extension and leaves
//                   quietly (the launcher looks again later).
//
// Both exist only when pg_vtj is preloaded (setup_preloaded, from _PG_init).
#include "pg/boundary.hpp"
#include "pg/settings.hpp"
#include "worker/state.hpp"
#include "worker/worker.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/timestamp.h"
}

#include <cstring>
#include <string>

namespace pgvtj::worker {

namespace {

constexpr long kPauseMs = 15 * 1000;          // DROP/RENAME/… DATABASE
constexpr long kExtensionPauseMs = 2 * 1000;  // DROP EXTENSION pg_vtj

ProcessUtility_hook_type prev_utility = nullptr;

// The database a utility statement needs without other sessions, if any.
const char* database_needed_alone(Node* stmt) {
    switch (nodeTag(stmt)) {
        case T_DropdbStmt:
            return castNode(DropdbStmt, stmt)->dbname;
        case T_RenameStmt: {
            RenameStmt* r = castNode(RenameStmt, stmt);
            return r->renameType == OBJECT_DATABASE ? r->subname : nullptr;
        }
        case T_AlterDatabaseStmt: {
            AlterDatabaseStmt* a = castNode(AlterDatabaseStmt, stmt);
            ListCell* lc;
            foreach (lc, a->options) {
                DefElem* d = lfirst_node(DefElem, lc);
                if (std::strcmp(d->defname, "tablespace") == 0)
                    return a->dbname;
            }
            return nullptr;
        }
        case T_CreatedbStmt: {
            CreatedbStmt* c = castNode(CreatedbStmt, stmt);
            ListCell* lc;
            foreach (lc, c->options) {
                DefElem* d = lfirst_node(DefElem, lc);
                if (std::strcmp(d->defname, "template") == 0 && d->arg != nullptr)
                    return defGetString(d);
            }
            return nullptr;
        }
        default:
            return nullptr;
    }
}

// DROP EXTENSION naming pg_vtj.
bool drops_pg_vtj(Node* stmt) {
    if (!IsA(stmt, DropStmt))
        return false;
    DropStmt* d = castNode(DropStmt, stmt);
    if (d->removeType != OBJECT_EXTENSION)
        return false;
    ListCell* lc;
    foreach (lc, d->objects) {
        Node* name = static_cast<Node*>(lfirst(lc));
        if (IsA(name, String) && std::strcmp(strVal(name), "pg_vtj") == 0)
            return true;
    }
    return false;
}

// Asks the worker of database `db` to leave, and the launcher to wait
// `pause_ms` before starting it again (if the statement fails, it comes back
// then; if the database is gone, the launcher forgets it).
void free_database(Oid db, long pause_ms) {
    SharedState* s = shared();
    if (!s || !OidIsValid(db))
        return;
    const TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), pause_ms);
    int procno = -1;
    SpinLockAcquire(&s->mutex);
    const int i = find_slot(s, db);
    if (i >= 0) {
        s->slots[i].paused_until = until;
        if (s->slots[i].pid != 0) {
            s->slots[i].stop = true;
            procno = s->slots[i].procno;
        }
    }
    SpinLockRelease(&s->mutex);
    set_latch_of(procno);
}

void vtj_process_utility(PlannedStmt* pstmt, const char* query_string, bool read_only_tree,
                         ProcessUtilityContext context, ParamListInfo params, QueryEnvironment* query_env,
                         DestReceiver* dest, QueryCompletion* qc) {
    Node* stmt = pstmt->utilityStmt;
    if (stmt != nullptr && shared() != nullptr) {
        const char* dbname = database_needed_alone(stmt);
        if (dbname != nullptr)
            free_database(get_database_oid(dbname, true), kPauseMs);
        else if (drops_pg_vtj(stmt))
            free_database(MyDatabaseId, kExtensionPauseMs);
    }
    if (prev_utility)
        prev_utility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
    else
        standard_ProcessUtility(pstmt, query_string, read_only_tree, context, params, query_env, dest, qc);
}

}  // namespace

void install_utility_hook() {
    prev_utility = ProcessUtility_hook;
    ProcessUtility_hook = vtj_process_utility;
}

void setup_preloaded() {
    install_shmem_hooks();
    register_launcher();
    install_utility_hook();
}

}  // namespace pgvtj::worker

// vtj.sync_now() RETURNS void
PG_VTJ_FUNCTION(vtj_sync_now) {
    using namespace pgvtj::worker;
    SharedState* s = shared();
    if (!s)
        throw pgvtj::SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                              "no pg_vtj background worker runs for this database",
                              "The worker needs shared_preload_libraries = 'pg_vtj' and this database in "
                              "vtj.worker_databases.");
    bool configured = false;
    bool running = false;
    int procno = -1;
    SpinLockAcquire(&s->mutex);
    const bool launcher = s->launcher_pid != 0;
    const int i = find_slot(s, MyDatabaseId);
    if (i >= 0 && launcher) {
        configured = true;
        s->slots[i].wake = true;
        if (s->slots[i].pid != 0) {
            running = true;
            procno = s->slots[i].procno;
        } else {
            s->slots[i].start_now = true;  // being (re)started: it runs at once
        }
    }
    SpinLockRelease(&s->mutex);

    if (!configured) {
        const char* name = pgvtj::pg_guard([] { return get_database_name(MyDatabaseId); });
        throw pgvtj::SqlError(
            ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            std::string("no pg_vtj background worker runs for database \"") + (name ? name : "?") + "\"",
            launcher ? "List the database in vtj.worker_databases (postgresql.conf) and reload the configuration."
                     : "The pg_vtj launcher is not running (a standby, or it is restarting).");
    }
    if (running) {
        set_latch_of(procno);
    } else {
        wake_launcher();
        pgvtj::pg_guard([] {
            ereport(NOTICE, (errmsg("the pg_vtj worker of this database is starting; it syncs at once")));
        });
    }
    PG_RETURN_VOID();
}
