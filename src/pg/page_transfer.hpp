// The bulk transfer of one decoded page into PostgreSQL: the records become
// two arrays of composite values (vtj._in_record[], vtj._in_entry[]) that
// vtj._merge_page() merges with set-based SQL in the same transaction.
// Turvakielto (product.md §6): censored-group values of a person protected at
// the end of the page are dropped here, before anything reaches PostgreSQL.
#pragma once

#include "decode/records.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace pgvtj {

struct MergeCounts {
    int64_t records = 0;       // person records applied
    int64_t persons = 0;       // persons merged
    int64_t unregistered = 0;
    int64_t superseded = 0;
    int64_t unmatched = 0;
    int64_t malformed = 0;
    int64_t feed_rows = 0;
    int64_t unknown_groups = 0;
    int64_t not_found = 0;
    bool discarded = false;    // the chain key had moved: nothing merged
    std::vector<std::string> refetch;  // re-fetch in this run (prohibition ended, hetu merge)
};

struct Page {
    const char* kind;          // "base", "changes", "refresh"
    int32_t chain = 1;
    int64_t from_key = 0;
    int64_t to_key = 0;
    std::vector<vtj::decode::PersonRecord>* records = nullptr;
    std::vector<vtj::decode::RecordError>* errors = nullptr;
};

// Call inside pgvtj::xact::run(). Throws on failure (the transaction then
// rolls back: nothing of the page is merged). `not_found`: for base pages,
// the hetus asked but not returned.
MergeCounts merge_page(int64_t run_id, const Page& page, const std::vector<std::string>& not_found = {});

}  // namespace pgvtj
