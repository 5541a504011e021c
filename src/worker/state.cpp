// Shared memory of the periodic worker (see state.hpp).
#include "worker/state.hpp"

extern "C" {
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
}

#include <cstring>

namespace pgvtj::worker {

namespace {

SharedState* state = nullptr;
shmem_request_hook_type prev_shmem_request = nullptr;
shmem_startup_hook_type prev_shmem_startup = nullptr;

constexpr const char* kName = "pg_vtj worker state";

void request_shmem() {
    if (prev_shmem_request)
        prev_shmem_request();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
}

// Runs in the postmaster at start and after every crash-restart (then the
// segment is new and every slot free again); children inherit the pointer.
void startup_shmem() {
    if (prev_shmem_startup)
        prev_shmem_startup();
    bool found = false;
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    state = static_cast<SharedState*>(ShmemInitStruct(kName, sizeof(SharedState), &found));
    if (!found) {
        std::memset(state, 0, sizeof *state);
        SpinLockInit(&state->mutex);
        state->launcher_procno = -1;
        for (auto& slot : state->slots) {
            slot.dboid = InvalidOid;
            slot.procno = -1;
        }
    }
    LWLockRelease(AddinShmemInitLock);
}

}  // namespace

SharedState* shared() { return state; }

void install_shmem_hooks() {
    prev_shmem_request = shmem_request_hook;
    shmem_request_hook = request_shmem;
    prev_shmem_startup = shmem_startup_hook;
    shmem_startup_hook = startup_shmem;
}

void set_latch_of(int procno) {
    if (procno >= 0 && ProcGlobal != nullptr && static_cast<uint32>(procno) < ProcGlobal->allProcCount)
        SetLatch(&GetPGProcByNumber(procno)->procLatch);
}

int find_slot(const SharedState* s, Oid dboid) {
    for (int i = 0; i < kMaxDatabases; ++i)
        if (s->slots[i].dboid == dboid && OidIsValid(dboid))
            return i;
    return -1;
}

}  // namespace pgvtj::worker
