// The bulk transfer of one decoded page into PostgreSQL: the records become
// two arrays of composite values (vtj._in_record[], vtj._in_entry[]) that
// vtj._merge_page() merges with set-based SQL in the same transaction.
// Turvakielto (product.md §6): censored-group values of a person protected at
// the end of the page are dropped here, before anything reaches PostgreSQL.
#pragma once

#include "decode/decoder.hpp"
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

// The decoder's streaming sink for the run driver: it keeps one page's
// records for merge_page. One collector serves every page of a run: its
// vectors keep their capacity, and a record it receives is swapped with the
// one it held from the previous page, so the decoder gets that record's
// buffers back to decode the next record into (no BasePage/ChangesPage is
// built, moved and destroyed per page).
class PageCollector final : public vtj::decode::RecordSink {
public:
    void reset() noexcept {
        count_ = 0;
        errors.clear();
        ajan_tasalla = false;
        viimeisin_kirjausavain = -1;
    }
    void on_header(const vtj::decode::PageHeader& h) override {
        ajan_tasalla = h.ajan_tasalla;
        viimeisin_kirjausavain = h.viimeisin_kirjausavain;
        if (records.size() < h.record_count)
            records.reserve(h.record_count);
    }
    void on_record(vtj::decode::PersonRecord&& r) override {
        if (count_ < records.size())
            std::swap(records[count_], r);
        else
            records.push_back(std::move(r));
        ++count_;
    }
    void on_error(vtj::decode::RecordError&& e) override { errors.push_back(std::move(e)); }
    // After a page: drop the records left over from a larger earlier page.
    void finish() {
        if (records.size() > count_)
            records.erase(records.begin() + static_cast<long>(count_), records.end());
    }

    std::vector<vtj::decode::PersonRecord> records;
    std::vector<vtj::decode::RecordError> errors;
    bool ajan_tasalla = false;
    int64_t viimeisin_kirjausavain = -1;

private:
    size_t count_ = 0;
};

// Call inside pgvtj::xact::run(). Throws on failure (the transaction then
// rolls back: nothing of the page is merged). `not_found`: for base pages,
// the hetus asked but not returned.
MergeCounts merge_page(int64_t run_id, const Page& page, const std::vector<std::string>& not_found = {});

}  // namespace pgvtj
