// What a SQL function hands to the run worker it starts, and what the worker
// hands back: one dynamic shared memory segment per run (product.md §4: every
// run executes in a background worker; the caller waits for it).
#pragma once

#include "pg/pg_headers.hpp"

extern "C" {
#include "storage/dsm.h"
}

#include <cstdint>

namespace pgvtj {

enum class RunKind : int32_t { Sync = 1, Base = 2, Refresh = 3, Rebaseline = 4 };
const char* run_kind_name(RunKind kind);  // 'sync' 'base' 'refresh' 'rebaseline'

enum class RunOutcome : int32_t {
    Pending = 0,
    Ok = 1,
    Failed = 2,          // interface failure: the run is recorded failed (VT001)
    AlreadyRunning = 3,  // another run of the chain holds it: 0 with a NOTICE
    Refused = 4,         // misuse found by the worker before any request
};

constexpr uint32_t kRunRequestMagic = 0x56544a31;  // "VTJ1"

// Fixed header; variable parts follow it in the segment: `settings_bytes`
// bytes of "name\0value\0" pairs, then `hetu_count` hetus of 11 bytes each.
struct RunRequest {
    uint32_t magic;
    RunKind kind;
    Oid database;
    Oid owner;                       // the extension owner: runs execute as it
    char started_by[NAMEDATALEN];    // session user of the caller, or 'worker'
    int32_t caller_pid;
    uint32_t settings_bytes;
    uint32_t hetu_count;             // load_base/refresh: the hetus; 0 = all due
    bool hetus_given;

    // Filled by the worker.
    RunOutcome outcome;
    int64_t result;                  // records applied / persons merged / found
    int64_t run_id;
    int32_t sqlstate;
    char message[1024];
    char hint[512];

    char* settings() { return reinterpret_cast<char*>(this + 1); }
    char* hetus() { return settings() + settings_bytes; }
};

inline Size run_request_size(uint32_t settings_bytes, uint32_t hetu_count) {
    return sizeof(RunRequest) + settings_bytes + static_cast<Size>(hetu_count) * 11;
}

}  // namespace pgvtj
