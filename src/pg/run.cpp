#include "pg/run.hpp"

#include "pg/boundary.hpp"
#include "pg/page_transfer.hpp"
#include "pg/run_settings.hpp"
#include "pg/settings.hpp"
#include "pg/xact.hpp"
#include "worker/retention.hpp"

#include "decode/decoder.hpp"
#include "wire/client.hpp"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/procsignal.h"
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
        not_found += m.not_found;
    }
};

class Run {
public:
    explicit Run(RunRequest& req) : req_(req) {}

    void execute();

private:
    // One row of vtj.sync_runs; a sync records its base phase as a 'base' run
    // and its change phase as a 'changes' run (product.md §3).
    bool begin(const char* kind, bool takes_chain);
    void finish_ok();
    void obtain_start_key(bool force);
    int64_t chain_key();
    std::vector<std::string> hetu_list(const char* sql, std::optional<int32_t> limit);
    static constexpr int kMaxAskAgain = 3;
    void base_phase(const std::vector<std::string>& hetus, const char* merge_kind, int depth = 0);
    void changes_phase();
    void refetch(std::vector<std::string> hetus);
    void progress();  // inside a transaction
    vtj::wire::Client& client();

    RunRequest& req_;
    int64_t run_id_ = 0;
    Counters counts_;
    int64_t requests_before_ = 0;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::unique_ptr<vtj::wire::Client> client_;
    vtj::decode::Decoder decoder_;
    // Decoded pages (streaming sink, reused page after page). Separate ones:
    // a changes page's re-fetches decode base pages while it is still in use.
    PageCollector base_page_;
    PageCollector changes_page_;

    const char* kind_ = "run";

public:
    // One line per run at vtj.run_log_level: counts and duration, never data.
    void log_run(const char* status, const std::string& detail = std::string());
    // Records the failure in the run's row (its own transaction), with the
    // counts so far, and logs the run's line.
    void fail(const std::string& message);
    int64_t run_id() const { return run_id_; }
};

void Run::log_run(const char* status, const std::string& detail) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    char line[512];
    snprintf(line, sizeof line,
             "pg_vtj %s run %lld %s in %.2f s: %lld records, %lld persons, %lld billed, %lld not found, "
             "%lld unregistered, %lld pages, %lld HTTP requests",
             kind_, static_cast<long long>(run_id_), status, seconds, static_cast<long long>(counts_.records),
             static_cast<long long>(counts_.persons), static_cast<long long>(counts_.billed),
             static_cast<long long>(counts_.not_found), static_cast<long long>(counts_.unregistered),
             static_cast<long long>(counts_.pages), static_cast<long long>(counts_.http_requests));
    pg_guard([&] {
        if (detail.empty())
            ereport(settings::run_log_level, (errmsg("%s", line), errhidestmt(true)));
        else
            ereport(settings::run_log_level, (errmsg("%s: %s", line, detail.c_str()), errhidestmt(true)));
    });
}

void Run::fail(const std::string& message) {
    if (run_id_ == 0)
        return;
    log_run("failed", message);
    xact::run([&] {
        progress();
        xact::exec("SELECT vtj._run_finish($1, 'failed', $2, 0)", {xact::int8(run_id_), xact::text(message)});
    });
}

vtj::wire::Client& Run::client() {
    if (!client_) {
        vtj::wire::ClientConfig cfg = client_config_from_settings();
        // Cancel and terminate only set flags; the client polls them.
        // (issue 6) A procsignal barrier is absorbed here too: DROP DATABASE
        // anywhere in the cluster waits until every process has absorbed
        // one, so an HTTP wait must not hold it up.
        cfg.should_abort = [] {
            if (ProcSignalBarrierPending)
                pg_guard([] { ProcessProcSignalBarrier(); });
            return QueryCancelPending || ProcDiePending;
        };
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

bool Run::begin(const char* kind, bool takes_chain) {
    counts_ = Counters{};
    kind_ = kind;
    started_ = std::chrono::steady_clock::now();
    if (client_)
        requests_before_ = static_cast<int64_t>(client_->stats().requests);
    std::optional<int64_t> id;
    xact::run([&] {
        xact::exec("SELECT vtj._run_begin($1, $2, $3, $4)",
                   {xact::text(kind), xact::text(req_.started_by), xact::boolean(takes_chain), xact::int4(kChain)});
        id = xact::get_int8(0, 1);
    });
    run_id_ = id.value_or(0);
    req_.run_id = run_id_;
    return run_id_ != 0;
}

void Run::finish_ok() {
    xact::run([&] {
        progress();
        xact::exec("SELECT vtj._run_finish($1, 'ok', NULL, 0)", {xact::int8(run_id_)});
    });
    log_run("ok");
}

int64_t Run::chain_key() {
    std::optional<int64_t> key;
    xact::run([&] {
        xact::exec("SELECT vtj._chain_key($1)", {xact::int4(kChain)}, true);
        key = xact::get_int8(0, 1);
    });
    return key.value_or(-1);
}

// The starting key for today's Finnish date (product.md §3: fetched before
// the first base load, so no change between load and first sync is lost).
void Run::obtain_start_key(bool force) {
    if (!force && chain_key() >= 0)
        return;
    const std::string today = finnish_today();
    report_activity("pg_vtj: fetching the starting kirjausavain");
    const int64_t key = client().start_key(today);
    xact::run([&] {
        xact::exec("SELECT vtj._chain_obtained($1, $2)", {xact::int4(kChain), xact::int8(key)});
        progress();
    });
}

std::vector<std::string> Run::hetu_list(const char* sql, std::optional<int32_t> limit) {
    std::vector<std::string> hetus;
    xact::run([&] {
        if (limit)
            xact::exec(sql, {xact::int4(*limit)}, true);
        else
            xact::exec(sql, {}, true);
        bool isnull = false;
        Datum d = xact::get_datum(0, 1, &isnull);
        if (!isnull)
            hetus = xact::text_array_values(d);
    });
    return hetus;
}

void Run::progress() {
    if (client_)
        counts_.http_requests = static_cast<int64_t>(client_->stats().requests) - requests_before_;
    xact::exec("SELECT vtj._run_progress($1, $2, $3)",
               {xact::int8(run_id_), xact::int8(counts_.http_requests), xact::int8(counts_.billed)});
}

// Base data for `hetus` in batches of vtj.batch_size, vtj.http_parallel in
// flight; each answer is decoded and merged in its own transaction while the
// next requests are on the wire.
void Run::base_phase(const std::vector<std::string>& hetus, const char* merge_kind, int depth) {
    if (hetus.empty())
        return;
    std::vector<std::string> ask_again;
    obtain_start_key(false);
    const int64_t base_key = chain_key();
    const size_t batch = static_cast<size_t>(settings::batch_size);
    size_t next = 0;
    size_t produced = 0;
    std::map<size_t, std::vector<std::string>> in_flight;  // batch index -> hetus asked

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
        PageCollector& page = base_page_;
        page.reset();
        try {
            decoder_.decode_base(vtj::decode::Input(body.data(), body.size(), body.capacity()), page);
            page.finish();
        } catch (const vtj::decode::PageError& e) {
            throw InterfaceFailure(std::string("perustiedot answer rejected: ") + e.what());
        }
        // Asked but not answered. With ajanTasalla true that proves absence:
        // not found (asked again after 1 h, 1 day, then weekly). Unless a
        // malformed record's hetu could not be read: then nobody can be
        // proved absent, and the unanswered stay due for the next run.
        // With ajanTasalla false they are asked again in this run.
        std::vector<std::string> answered;
        answered.reserve(page.records.size() + page.errors.size());
        bool unreadable = false;
        for (const auto& r : page.records)
            answered.push_back(r.henkilotunnus);
        for (const auto& e : page.errors) {
            if (e.henkilotunnus)
                answered.push_back(*e.henkilotunnus);
            else
                unreadable = true;
        }
        std::sort(answered.begin(), answered.end());
        std::vector<std::string> missing;
        for (const auto& h : asked)
            if (!std::binary_search(answered.begin(), answered.end(), h))
                missing.push_back(h);
        if (!page.ajan_tasalla) {
            ask_again.insert(ask_again.end(), missing.begin(), missing.end());
            missing.clear();
        } else if (unreadable) {
            missing.clear();
        }
        const int64_t returned = static_cast<int64_t>(page.records.size() + page.errors.size());
        MergeCounts m;
        xact::run([&] {
            Page p{merge_kind, kChain, base_key, base_key, &page.records, &page.errors};
            m = merge_page(run_id_, p, missing);
            // A re-fetch inside a changes run merges persons, not change records.
            if (std::strcmp(kind_, "changes") == 0)
                m.records = 0;
            counts_.add(m);
            counts_.billed += returned;
            ++counts_.pages;
            progress();
        });
        report_activity("pg_vtj: base load, " + std::to_string(counts_.persons) + " persons merged");
    };
    report_activity("pg_vtj: base load");
    client().base_parallel(vtj::wire::Client::BatchSource(source), vtj::wire::Client::BodyCallback(on_body));
    // product.md §5: persons missing from an answer with ajanTasalla false
    // are asked again in the same run (a few rounds at most; the rest stay
    // due for the next run).
    if (!ask_again.empty() && depth < kMaxAskAgain)
        base_phase(ask_again, merge_kind, depth + 1);
}

// Re-fetches persons in the current run: prohibition ended, hetu merged,
// stale. A failure leaves them marked (stale) for the next run.
void Run::refetch(std::vector<std::string> hetus) {
    std::sort(hetus.begin(), hetus.end());
    hetus.erase(std::unique(hetus.begin(), hetus.end()), hetus.end());
    base_phase(hetus, "refresh");
}

// Follows the kirjausavain chain until ajanTasalla, one transaction per page.
void Run::changes_phase() {
    std::vector<std::string> hetus = hetu_list("SELECT vtj._hetulist()", std::nullopt);
    if (hetus.empty())
        return;
    obtain_start_key(false);
    int64_t key = chain_key();

    for (int page_no = 1;; ++page_no) {
        report_activity("pg_vtj: change sync, page " + std::to_string(page_no));
        vtj::wire::Body body = client().changes(key, hetus);
        PageCollector& page = changes_page_;
        page.reset();
        try {
            decoder_.decode_changes(vtj::decode::Input(body.data(), body.size(), body.capacity()), page);
            page.finish();
        } catch (const vtj::decode::PageError& e) {
            throw InterfaceFailure(std::string("muutokset page of request key ") + std::to_string(key) +
                                   " rejected: " + e.what());
        }
        const int64_t next_key = page.viimeisin_kirjausavain;
        if (next_key < key)
            throw InterfaceFailure("muutokset page of request key " + std::to_string(key) +
                                   " returned an earlier key");
        if (next_key == key && !page.ajan_tasalla)
            throw InterfaceFailure("muutokset page of request key " + std::to_string(key) +
                                   " made no progress but is not up to date");
        MergeCounts m;
        xact::run([&] {
            Page p{"changes", kChain, key, next_key, &page.records, &page.errors};
            m = merge_page(run_id_, p);
            counts_.add(m);
            ++counts_.pages;
            progress();
        });
        if (m.discarded)
            throw InterfaceFailure("the kirjausavain moved during the run: another run applied page " +
                                   std::to_string(key));
        if (!m.refetch.empty())
            refetch(m.refetch);
        key = next_key;
        if (page.ajan_tasalla)
            break;
    }
}

void Run::execute() {
    switch (req_.kind) {
        case RunKind::Sync: {
            std::vector<std::string> due = hetu_list(
                "SELECT pg_catalog.array_agg(h) FROM vtj._base_due($1) h", settings::base_per_run);
            if (!due.empty()) {
                if (!begin("base", true)) {
                    req_.outcome = RunOutcome::AlreadyRunning;
                    return;
                }
                base_phase(due, "base");
                finish_ok();
            }
            if (!begin("changes", true)) {
                req_.outcome = RunOutcome::AlreadyRunning;
                return;
            }
            changes_phase();
            refetch(hetu_list("SELECT pg_catalog.array_agg(h) FROM vtj._refetch_due($1) h", settings::base_per_run));
            req_.result = counts_.records;
            finish_ok();
            break;
        }
        case RunKind::Base:
        case RunKind::Refresh: {
            const bool refresh = req_.kind == RunKind::Refresh;
            std::vector<std::string> hetus;
            if (req_.hetus_given) {
                for (uint32_t i = 0; i < req_.hetu_count; ++i)
                    hetus.emplace_back(req_.hetus() + static_cast<size_t>(i) * 11, 11);
            } else {
                hetus = hetu_list("SELECT pg_catalog.array_agg(h) FROM vtj._base_due($1) h", INT32_MAX);
            }
            // A refresh never advances the chain, so it needs no chain lock
            // (merges of one person are serialised in the merge itself).
            if (!begin(refresh ? "refresh" : "base", !refresh)) {
                req_.outcome = RunOutcome::AlreadyRunning;
                return;
            }
            base_phase(hetus, refresh ? "refresh" : "base");
            req_.result = refresh ? (counts_.billed > 0 ? 1 : 0) : counts_.persons;
            finish_ok();
            break;
        }
        case RunKind::Rebaseline: {
            if (!begin("rebaseline", true)) {
                req_.outcome = RunOutcome::AlreadyRunning;
                return;
            }
            obtain_start_key(true);
            base_phase(hetu_list("SELECT vtj._hetulist()", std::nullopt), "refresh");
            req_.result = counts_.billed;
            changes_phase();
            finish_ok();
            break;
        }
    }
    req_.outcome = RunOutcome::Ok;
}

void copy_out(char* dst, size_t cap, const char* src) {
    size_t n = std::min(std::strlen(src), cap - 1);
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

// Records the failure in req and, through the run, in its row and the log.
void record_failure(RunRequest& req, Run* run, const std::string& message, int sqlstate) {
    const int64_t run_id = run ? run->run_id() : 0;
    req.run_id = run_id;
    // Misuse found before the run's row existed is refused, not failed.
    req.outcome = run_id == 0 && sqlstate != 0 ? RunOutcome::Refused : RunOutcome::Failed;
    req.sqlstate = sqlstate;
    copy_out(req.message, sizeof req.message, message.c_str());
    if (run == nullptr || ProcDiePending)
        return;
    try {
        run->fail(message);
    } catch (...) {
        // The next run marks this one failed.
    }
}

}  // namespace

// A database restored elsewhere (a test copy of production) does not fetch
// until a superuser adopts it (product.md §9): refused before any request.
bool instance_refuses(RunRequest& req) {
    try {
        xact::run([] { xact::exec("SELECT vtj._instance_ok()"); });
        return false;
    } catch (const PgError& e) {
        req.outcome = RunOutcome::Refused;
        req.sqlstate = e.sqlstate();
        copy_out(req.message, sizeof req.message, e.what());
        if (e.data() && e.data()->hint)
            copy_out(req.hint, sizeof req.hint, e.data()->hint);
        return true;
    }
}

void execute_run(RunRequest& req) noexcept {
    std::unique_ptr<Run> run;
    try {
        apply_run_settings(req.settings(), req.settings_bytes);
        pg_guard([] { SetConfigOption("TimeZone", "Europe/Helsinki", PGC_SUSET, PGC_S_SESSION); });
        if (instance_refuses(req))
            return;
        run = std::make_unique<Run>(req);
        run->execute();
    } catch (const vtj::wire::WireError& e) {
        record_failure(req, run.get(), e.what(), 0);
    } catch (const InterfaceFailure& e) {
        record_failure(req, run.get(), e.what(), 0);
    } catch (const SqlError& e) {
        record_failure(req, run.get(), e.what(), e.sqlstate());
        copy_out(req.hint, sizeof req.hint, e.hint().c_str());
    } catch (const PgError& e) {
        record_failure(req, run.get(), std::string("database error during the run: ") + e.what(), e.sqlstate());
    } catch (const std::exception& e) {
        record_failure(req, run.get(), e.what(), ERRCODE_INTERNAL_ERROR);
    } catch (...) {
        record_failure(req, run.get(), "unknown error in the run", ERRCODE_INTERNAL_ERROR);
    }
    // Retention (product.md §3) at the end of every run, whoever started it,
    // whatever its outcome (issue 6; src/worker/retention.cpp). Never throws.
    worker::apply_retention_after_run(req);
}

}  // namespace pgvtj
