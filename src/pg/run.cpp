#include "pg/run.hpp"

#include "pg/boundary.hpp"
#include "pg/page_transfer.hpp"
#include "pg/run_settings.hpp"
#include "pg/settings.hpp"
#include "pg/xact.hpp"

#include "decode/decoder.hpp"
#include "wire/client.hpp"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
#include "utils/timestamp.h"
}

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pgvtj {

namespace {

constexpr int32_t kChain = 1;

// A run failure that is the interface's (HTTP, JSON, key chain): the run is
// recorded failed and the caller gets VT001.
class InterfaceFailure : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Today's date in Finland (product.md §5), for the starting key.
std::string finnish_today() {
    char* date = pg_guard([] {
        return text_to_cstring(DatumGetTextPP(DirectFunctionCall2(
            timestamptz_to_char, TimestampTzGetDatum(GetCurrentTimestamp()),
            PointerGetDatum(cstring_to_text("YYYY-MM-DD")))));
    });
    // to_char uses the session TimeZone; the run worker sets Europe/Helsinki.
    return date;
}

void report_activity(const std::string& what) {
    pg_guard([&] { pgstat_report_activity(STATE_RUNNING, what.c_str()); });
}

struct Counters {
    int64_t http_requests = 0;
    int64_t records = 0;
    int64_t persons = 0;
    int64_t billed = 0;
    int64_t unregistered = 0;
    int64_t not_found = 0;
    int64_t pages = 0;

    void add(const MergeCounts& m) {
        records += m.records;
        persons += m.persons;
        unregistered += m.unregistered;
    }
};

class Run {
public:
    explicit Run(RunRequest& req) : req_(req) {}

    void execute();

private:
    void begin();
    void obtain_start_key_if_missing(bool force);
    int64_t chain_key();
    void base_phase(const std::vector<std::string>& hetus, const char* kind);
    void changes_phase();
    void reveal_phase();
    void progress();  // inside a transaction
    vtj::wire::Client& client();

    RunRequest& req_;
    int64_t run_id_ = 0;
    Counters counts_;
    std::unique_ptr<vtj::wire::Client> client_;
    vtj::decode::Decoder decoder_;
};

vtj::wire::Client& Run::client() {
    if (!client_) {
        vtj::wire::ClientConfig cfg = client_config_from_settings();
        // Cancel and terminate only set flags; the client polls them.
        cfg.should_abort = [] { return QueryCancelPending || ProcDiePending; };
        cfg.sleep = [](int ms) {
            pg_guard([&] {
                (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms, PG_WAIT_EXTENSION);
                ResetLatch(MyLatch);
            });
        };
        client_ = std::make_unique<vtj::wire::Client>(std::move(cfg));
    }
    return *client_;
}

void Run::begin() {
    const bool takes_chain = req_.kind != RunKind::Refresh;
    xact::run([&] {
        xact::exec("SELECT vtj._run_begin($1, $2, $3)",
                   {xact::text(run_kind_name(req_.kind) == std::string("sync") ? "changes" : run_kind_name(req_.kind)),
                    xact::text(req_.started_by), xact::boolean(takes_chain)});
        auto id = xact::get_int8(0, 1);
        run_id_ = id.value_or(0);
    });
    req_.run_id = run_id_;
}

int64_t Run::chain_key() {
    std::optional<int64_t> key;
    xact::run([&] {
        xact::exec("SELECT vtj._chain_key($1)", {xact::int4(kChain)}, true);
        key = xact::get_int8(0, 1);
    });
    return key.value_or(-1);
}

void Run::obtain_start_key_if_missing(bool force) {
    if (!force && chain_key() >= 0)
        return;
    const std::string today = finnish_today();
    report_activity("pg_vtj: fetching the starting kirjausavain");
    const int64_t key = client().start_key(today);
    counts_.http_requests = static_cast<int64_t>(client().stats().requests);
    xact::run([&] {
        xact::exec("SELECT vtj._chain_set_start_key($1, $2, $3)",
                   {xact::int4(kChain), xact::int8(key), xact::int8(run_id_)});
        progress();
    });
}

void Run::progress() {
    if (client_)
        counts_.http_requests = static_cast<int64_t>(client_->stats().requests);
    xact::exec("SELECT vtj._run_progress($1, $2, $3, $4, $5, $6, $7)",
               {xact::int8(run_id_), xact::int8(counts_.http_requests), xact::int8(counts_.records),
                xact::int8(counts_.persons), xact::int8(counts_.billed), xact::int8(counts_.unregistered),
                xact::int8(counts_.not_found)});
}

// Base data for `hetus` in batches of vtj.batch_size, vtj.http_parallel in
// flight; each answer is decoded and merged in its own transaction while the
// next requests are on the wire.
void Run::base_phase(const std::vector<std::string>& hetus, const char* kind) {
    if (hetus.empty())
        return;
    obtain_start_key_if_missing(false);
    const int64_t base_key = chain_key();
    const size_t batch = static_cast<size_t>(settings::batch_size);
    size_t next = 0;
    std::map<size_t, std::vector<std::string>> in_flight;  // batch index -> hetus
    size_t produced = 0;

    auto source = [&](std::vector<std::string>& out) {
        if (next >= hetus.size())
            return false;
        const size_t end = std::min(hetus.size(), next + batch);
        out.assign(hetus.begin() + static_cast<long>(next), hetus.begin() + static_cast<long>(end));
        in_flight.emplace(produced++, out);
        next = end;
        return true;
    };
    auto on_body = [&](vtj::wire::Body&& body) {
        std::vector<std::string> asked = std::move(in_flight.at(body.index));
        in_flight.erase(body.index);
        vtj::decode::BasePage page;
        try {
            page = decoder_.decode_base(vtj::decode::Input(body.data(), body.size(), body.capacity()));
        } catch (const vtj::decode::PageError& e) {
            throw InterfaceFailure(std::string("perustiedot answer rejected: ") + e.what());
        }
        // Hetus asked but not answered: not found (asked again later).
        std::vector<std::string> answered;
        answered.reserve(page.records.size() + page.errors.size());
        for (const auto& r : page.records)
            answered.push_back(r.henkilotunnus);
        for (const auto& e : page.errors)
            if (e.henkilotunnus)
                answered.push_back(*e.henkilotunnus);
        std::sort(answered.begin(), answered.end());
        std::vector<std::string> missing;
        for (const auto& h : asked)
            if (!std::binary_search(answered.begin(), answered.end(), h))
                missing.push_back(h);

        const int64_t returned = static_cast<int64_t>(page.records.size() + page.errors.size());
        xact::run([&] {
            Page p{kind, kChain, base_key, base_key, &page.records, &page.errors};
            MergeCounts m = merge_page(run_id_, p);
            counts_.add(m);
            counts_.billed += returned;
            if (!missing.empty()) {
                xact::exec("SELECT vtj._mark_not_found($1)", {xact::datum(TEXTARRAYOID, xact::text_array(missing))});
                counts_.not_found += static_cast<int64_t>(missing.size());
            }
            ++counts_.pages;
            progress();
        });
        report_activity("pg_vtj: base load, " + std::to_string(counts_.persons) + " persons merged");
    };
    report_activity("pg_vtj: base load");
    client().base_parallel(vtj::wire::Client::BatchSource(source), vtj::wire::Client::BodyCallback(on_body));
}

// Follows the kirjausavain chain until ajanTasalla, one transaction per page.
void Run::changes_phase() {
    std::vector<std::string> hetus;
    xact::run([&] {
        xact::exec("SELECT vtj._hetulist()", {}, true);
        bool isnull = false;
        Datum d = xact::get_datum(0, 1, &isnull);
        if (!isnull)
            hetus = xact::text_array_values(d);
    });
    if (hetus.empty())
        return;
    int64_t key = chain_key();
    if (key < 0)
        obtain_start_key_if_missing(false), key = chain_key();

    for (int guard = 0;; ++guard) {
        report_activity("pg_vtj: change sync, page " + std::to_string(guard + 1));
        vtj::wire::Body body = client().changes(key, hetus);
        vtj::decode::ChangesPage page;
        try {
            page = decoder_.decode_changes(vtj::decode::Input(body.data(), body.size(), body.capacity()));
        } catch (const vtj::decode::PageError& e) {
            throw InterfaceFailure(std::string("muutokset page with request key ") + std::to_string(key) +
                                   " rejected: " + e.what());
        }
        const int64_t next_key = page.viimeisin_kirjausavain;
        if (next_key < key)
            throw InterfaceFailure("muutokset page with request key " + std::to_string(key) +
                                   " returned an earlier key");
        if (next_key == key && !page.ajan_tasalla)
            throw InterfaceFailure("muutokset page with request key " + std::to_string(key) +
                                   " made no progress but is not up to date");
        bool discarded = false;
        xact::run([&] {
            Page p{"changes", kChain, key, next_key, &page.records, &page.errors};
            MergeCounts m = merge_page(run_id_, p);
            discarded = m.discarded;
            counts_.add(m);
            ++counts_.pages;
            progress();
        });
        if (discarded)
            throw InterfaceFailure("the kirjausavain moved during the run (another run applied the page)");
        reveal_phase();
        key = next_key;
        if (page.ajan_tasalla)
            break;
    }
}

// Persons whose turvakielto ended, or whose turvaLoppuPv passed: re-fetched in
// the same run; a failure leaves them marked for the next run.
void Run::reveal_phase() {
    std::vector<std::string> hetus;
    xact::run([&] { hetus = persons_to_reveal(); });
    if (!hetus.empty())
        base_phase(hetus, "refresh");
}

void Run::execute() {
    begin();
    if (run_id_ == 0) {
        req_.outcome = RunOutcome::AlreadyRunning;
        return;
    }
    switch (req_.kind) {
        case RunKind::Sync: {
            std::vector<std::string> due;
            xact::run([&] {
                xact::exec("SELECT vtj._base_due($1)", {xact::int4(settings::base_per_run)}, true);
                bool isnull = false;
                Datum d = xact::get_datum(0, 1, &isnull);
                if (!isnull)
                    due = xact::text_array_values(d);
            });
            base_phase(due, "base");
            changes_phase();
            req_.result = counts_.records;
            break;
        }
        case RunKind::Base:
        case RunKind::Refresh: {
            std::vector<std::string> hetus;
            if (req_.hetus_given) {
                for (uint32_t i = 0; i < req_.hetu_count; ++i)
                    hetus.emplace_back(req_.hetus() + static_cast<size_t>(i) * 11, 11);
                // Only registered hetus are ever sent to DVV.
                xact::run([&] {
                    xact::exec("SELECT vtj._unregistered_among($1)", {xact::datum(TEXTARRAYOID, xact::text_array(hetus))}, true);
                    auto n = xact::get_int4(0, 1).value_or(0);
                    if (n > 0)
                        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                                       std::to_string(n) + " of the given hetus are not registered",
                                       "Register them with vtj.add_person first.");
                });
            } else {
                xact::run([&] {
                    xact::exec("SELECT vtj._base_due($1)", {xact::int4(INT32_MAX)}, true);
                    bool isnull = false;
                    Datum d = xact::get_datum(0, 1, &isnull);
                    if (!isnull)
                        hetus = xact::text_array_values(d);
                });
            }
            const bool refresh = req_.kind == RunKind::Refresh;
            base_phase(hetus, refresh ? "refresh" : "base");
            req_.result = refresh ? (counts_.persons > 0 ? 1 : 0) : counts_.persons;
            break;
        }
        case RunKind::Rebaseline: {
            obtain_start_key_if_missing(true);
            std::vector<std::string> hetus;
            xact::run([&] {
                xact::exec("SELECT vtj._hetulist()", {}, true);
                bool isnull = false;
                Datum d = xact::get_datum(0, 1, &isnull);
                if (!isnull)
                    hetus = xact::text_array_values(d);
            });
            base_phase(hetus, "refresh");
            req_.result = counts_.persons;
            changes_phase();
            break;
        }
    }
    xact::run([&] {
        progress();
        xact::exec("SELECT vtj._run_finish($1, 'ok', NULL)", {xact::int8(run_id_)});
    });
    req_.run_id = run_id_;
    req_.outcome = RunOutcome::Ok;
}

void copy_out(char* dst, size_t cap, const char* src) {
    size_t n = std::min(std::strlen(src), cap - 1);
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

// Records the failure in the run's row (its own transaction) and in req.
void record_failure(RunRequest& req, int64_t run_id, const std::string& message, int sqlstate, bool refused) {
    req.run_id = run_id;
    req.outcome = refused ? RunOutcome::Refused : RunOutcome::Failed;
    req.sqlstate = sqlstate;
    copy_out(req.message, sizeof req.message, message.c_str());
    if (run_id == 0 || ProcDiePending)
        return;
    try {
        xact::run([&] {
            xact::exec("SELECT vtj._run_finish($1, 'failed', $2)", {xact::int8(run_id), xact::text(message)});
        });
    } catch (...) {
        // The next run marks this one failed.
    }
}

}  // namespace

void execute_run(RunRequest& req) noexcept {
    try {
        apply_run_settings(req.settings(), req.settings_bytes);
        pg_guard([] { SetConfigOption("TimeZone", "Europe/Helsinki", PGC_SUSET, PGC_S_SESSION); });
        Run run(req);
        run.execute();
    } catch (const vtj::wire::WireError& e) {
        record_failure(req, req.run_id, e.what(), 0, false);
    } catch (const InterfaceFailure& e) {
        record_failure(req, req.run_id, e.what(), 0, false);
    } catch (const SqlError& e) {
        record_failure(req, req.run_id, e.what(), e.sqlstate(), req.run_id == 0);
        copy_out(req.hint, sizeof req.hint, e.hint().c_str());
    } catch (const PgError& e) {
        record_failure(req, req.run_id, std::string("database error during the run: ") + e.what(), e.sqlstate(),
                       false);
    } catch (const std::exception& e) {
        record_failure(req, req.run_id, e.what(), ERRCODE_INTERNAL_ERROR, false);
    } catch (...) {
        record_failure(req, req.run_id, "unknown error in the run", ERRCODE_INTERNAL_ERROR, false);
    }
}

}  // namespace pgvtj
