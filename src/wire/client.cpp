#include "common/cpp_only.hpp"

// The libcurl engine of the wire client. Every request, single or parallel,
// is a Job driven through the Client's one curl multi handle by an Engine
// that lives for the duration of one call:
//
//   loop: poll should_abort -> start due jobs (new ones while slots are free,
//         retries whose backoff has passed) -> curl_multi_perform ->
//         classify finished transfers (deliver / schedule retry / throw) ->
//         hand one finished body to the caller -> curl_multi_poll (short slice)
//
// A job waiting for its retry keeps its slot, so at most `parallel` requests
// are in flight, and at most 2 * `parallel` bodies exist at once (in flight
// plus finished but not yet handed to the caller). Nothing here blocks longer
// than poll_interval_ms without polling should_abort (except the caller's own
// callbacks).

#include <curl/curl.h>
#include <simdjson.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "wire/body_access.hpp"
#include "wire/client.hpp"

namespace vtj::wire {

namespace {

using Clock = std::chrono::steady_clock;

const char* const kPhaseKey = "kirjausavain";
const char* const kPhaseChanges = "muutokset";
const char* const kPhaseBase = "perustiedot";

std::once_flag g_curl_once;

void global_init() {
    std::call_once(g_curl_once, [] {
        const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK)
            throw WireError(ErrorKind::Config, "config",
                            std::string("libcurl initialisation failed: ") + curl_easy_strerror(rc), 0,
                            static_cast<int>(rc));
    });
}

struct EasyCleanup {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct MultiCleanup {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct SlistCleanup {
    void operator()(curl_slist* s) const noexcept { curl_slist_free_all(s); }
};

struct Easy {
    std::unique_ptr<CURL, EasyCleanup> h;
    char errbuf[CURL_ERROR_SIZE] = {};
};

long ceil_ms(Clock::duration d) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(d).count();
    if (ms > std::numeric_limits<long>::max()) return std::numeric_limits<long>::max();
    return static_cast<long>(ms);
}

std::string attempts_text(int n) {
    return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
}

// ---------------------------------------------------------------------------

struct Job {
    Client::Impl* impl = nullptr;
    const char* phase = "";
    std::string context;  // e.g. "key 5446623400", "batch 3" (never personal data)
    std::string url;
    std::string payload;
    bool post = false;
    std::size_t index = 0;

    int attempts = 0;
    bool started = false;
    Clock::time_point first_start{};
    Clock::time_point ready_at{};
    Easy* easy = nullptr;

    Body body;
    bool too_large = false;
    bool has_retry_after = false;
    std::string retry_after;  // raw value from the current response's headers
};

}  // namespace

struct Client::Impl {
    ClientConfig cfg;
    std::string base;  // base_url without a trailing '/'
    std::string user_agent;
    std::string basic_b64;  // only to redact it from curl's error text
    // Declaration order is destruction order reversed: the easy handles
    // (never attached when no call is running) are cleaned up before the
    // header lists and the multi handle, as libcurl asks.
    std::unique_ptr<CURLM, MultiCleanup> multi;
    std::unique_ptr<curl_slist, SlistCleanup> get_headers;
    std::unique_ptr<curl_slist, SlistCleanup> post_headers;
    std::vector<std::unique_ptr<Easy>> easies;  // every handle made
    std::vector<Easy*> idle;                    // those not attached to a job
    ClientStats stats;
    std::mt19937_64 rng;

    // Set from inside curl callbacks, examined after curl_multi_perform.
    bool abort_seen = false;
    std::exception_ptr callback_error;

    Easy* acquire();
    void release(Easy* e) noexcept { idle.push_back(e); }
    std::string sanitize(const char* text) const;
    long backoff_ms(int retry_no);
};

// ---------------------------------------------------------------------------
// curl callbacks: never let an exception cross them.

namespace {

size_t on_write(char* p, size_t size, size_t nmemb, void* ud) {
    Job& j = *static_cast<Job*>(ud);
    Client::Impl& im = *j.impl;
    const size_t n = size * nmemb;
    try {
        const size_t max = im.cfg.max_response_bytes;
        if (n > max || j.body.size() > max - n) {
            j.too_large = true;
            return 0;  // != n: curl stops with CURLE_WRITE_ERROR
        }
        if (j.body.size() == 0 && j.body.capacity() <= kBodyPadding && j.easy) {
            curl_off_t cl = -1;
            if (curl_easy_getinfo(j.easy->h.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
                    CURLE_OK &&
                cl > 0 && static_cast<unsigned long long>(cl) <= max)
                BodyAccess::reserve(j.body, static_cast<size_t>(cl));
        }
        BodyAccess::append(j.body, p, n);
        im.stats.bytes += n;
        return n;
    } catch (...) {
        im.callback_error = std::current_exception();
        return 0;
    }
}

size_t on_header(char* p, size_t size, size_t nitems, void* ud) {
    Job& j = *static_cast<Job*>(ud);
    const size_t n = size * nitems;
    try {
        if (n >= 5 && std::memcmp(p, "HTTP/", 5) == 0) {
            // A new response (after a 1xx, or the only one): forget earlier headers.
            j.has_retry_after = false;
            j.retry_after.clear();
        } else if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
            size_t b = 12, e = n;
            while (b < e && (p[b] == ' ' || p[b] == '\t')) ++b;
            while (e > b && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' ' || p[e - 1] == '\t'))
                --e;
            j.retry_after.assign(p + b, std::min<size_t>(e - b, 128));
            j.has_retry_after = true;
        }
    } catch (...) {
        j.impl->callback_error = std::current_exception();
        return 0;
    }
    return n;
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    Job& j = *static_cast<Job*>(ud);
    Client::Impl& im = *j.impl;
    if (im.abort_seen || im.callback_error) return 1;
    if (!im.cfg.should_abort) return 0;
    try {
        if (im.cfg.should_abort()) {
            im.abort_seen = true;
            return 1;
        }
    } catch (...) {
        im.callback_error = std::current_exception();
        return 1;
    }
    return 0;
}

// Retry-After: delta-seconds or an HTTP-date. False when absent or unreadable.
bool parse_retry_after(const std::string& v, long long& seconds) {
    if (v.empty()) return false;
    if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        long long s = 0;
        for (char c : v) {
            if (s > (std::numeric_limits<long long>::max() - 9) / 10) {
                seconds = std::numeric_limits<long long>::max();
                return true;
            }
            s = s * 10 + (c - '0');
        }
        seconds = s;
        return true;
    }
    const time_t t = curl_getdate(v.c_str(), nullptr);
    if (t == static_cast<time_t>(-1)) return false;
    const time_t now = std::time(nullptr);
    seconds = t > now ? static_cast<long long>(t - now) : 0;
    return true;
}

struct Classified {
    ErrorKind kind;
    bool retryable;
};

// TLS failures that a retry cannot fix (certificate, verification, alerts).
bool tls_deterministic(const std::string& err) {
    return err.find("alert") != std::string::npos || err.find("certificate") != std::string::npos ||
           err.find("verify") != std::string::npos;
}

Classified classify(CURLcode rc, const std::string& err) {
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
            return {ErrorKind::Timeout, true};
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_BAD_CONTENT_ENCODING:
        case CURLE_WEIRD_SERVER_REPLY:
            return {ErrorKind::Connection, true};
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
            // TLS 1.3 reports a refused client certificate as an alert on the
            // first read after the handshake (or, racing with it, as a broken
            // pipe: then it is a Connection error). OpenSSL library errors
            // ("SSL routines") are TLS errors; an alert is final.
            if (err.find("alert") != std::string::npos) return {ErrorKind::Tls, false};
            if (err.find("SSL routines") != std::string::npos) return {ErrorKind::Tls, true};
            return {ErrorKind::Connection, true};
        case CURLE_SSL_CONNECT_ERROR:
            return {ErrorKind::Tls, !tls_deterministic(err)};
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_USE_SSL_FAILED:
        case CURLE_SSL_CLIENTCERT:
            return {ErrorKind::Tls, false};
        case CURLE_FILESIZE_EXCEEDED:
            return {ErrorKind::TooLarge, false};
        case CURLE_ABORTED_BY_CALLBACK:
            return {ErrorKind::Aborted, false};
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            return {ErrorKind::Config, false};
        default:
            return {ErrorKind::Connection, false};
    }
}

const char* kind_text(ErrorKind k) {
    switch (k) {
        case ErrorKind::Timeout: return "timed out";
        case ErrorKind::Connection: return "connection error";
        case ErrorKind::Tls: return "TLS error";
        case ErrorKind::Config: return "configuration error";
        default: return "error";
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// Impl helpers

std::string Client::Impl::sanitize(const char* text) const {
    std::string s;
    for (const char* p = text; *p && s.size() < 240; ++p) {
        const unsigned char c = static_cast<unsigned char>(*p);
        s.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    // Belt and braces: libcurl's messages carry host names, never credentials,
    // but make sure.
    for (const std::string* secret : {&cfg.password, &basic_b64}) {
        if (secret->size() < 3) continue;
        for (size_t at; (at = s.find(*secret)) != std::string::npos;) s.replace(at, secret->size(), "***");
    }
    return s;
}

long Client::Impl::backoff_ms(int retry_no) {
    long b = cfg.backoff_initial_ms;
    for (int i = 1; i < retry_no; ++i) {
        if (b >= cfg.backoff_max_ms / 2) {
            b = cfg.backoff_max_ms;
            break;
        }
        b *= 2;
    }
    b = std::min(b, cfg.backoff_max_ms);
    std::uniform_int_distribution<long> jitter(b / 2, b);
    return jitter(rng);
}

Easy* Client::Impl::acquire() {
    if (!idle.empty()) {
        Easy* e = idle.back();
        idle.pop_back();
        return e;
    }
    auto e = std::make_unique<Easy>();
    e->h.reset(curl_easy_init());
    if (!e->h) throw WireError(ErrorKind::Config, "config", "libcurl could not create a transfer handle");
    CURL* h = e->h.get();
    bool ok = true;
    auto set = [&ok](CURLcode rc) { ok = ok && rc == CURLE_OK; };
    set(curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L));
    set(curl_easy_setopt(h, CURLOPT_ERRORBUFFER, e->errbuf));
    set(curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_write));
    set(curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header));
    set(curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &on_progress));
    set(curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L));
    set(curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https"));
    set(curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"));
    set(curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L));
    set(curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg.connect_timeout_ms));
    set(curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg.request_timeout_ms));
    set(curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(cfg.max_response_bytes)));
    set(curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str()));
    set(curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC)));
    set(curl_easy_setopt(h, CURLOPT_USERNAME, cfg.username.c_str()));
    set(curl_easy_setopt(h, CURLOPT_PASSWORD, cfg.password.c_str()));
    set(curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip"));
    // No proxy, whatever http_proxy/https_proxy say in the server's environment.
    set(curl_easy_setopt(h, CURLOPT_PROXY, ""));
    set(curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L));
    set(curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 128L * 1024L));
    set(curl_easy_setopt(h, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)));
    if (!cfg.tls_ca_file.empty()) set(curl_easy_setopt(h, CURLOPT_CAINFO, cfg.tls_ca_file.c_str()));
    if (!cfg.tls_cert_file.empty()) set(curl_easy_setopt(h, CURLOPT_SSLCERT, cfg.tls_cert_file.c_str()));
    if (!cfg.tls_key_file.empty()) set(curl_easy_setopt(h, CURLOPT_SSLKEY, cfg.tls_key_file.c_str()));
    if (!ok)
        throw WireError(ErrorKind::Config, "config",
                        "the installed libcurl lacks an option pg_vtj needs (libcurl >= 7.85 with TLS)");
    easies.push_back(std::move(e));
    return easies.back().get();
}

// ---------------------------------------------------------------------------
// Engine

namespace {

class Engine {
public:
    using Source = std::function<bool(Job&)>;
    using Done = std::function<void(Body&&)>;

    Engine(Client::Impl& im, const char* phase, int slots) : im_(im), phase_(phase), slots_(slots) {}
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    ~Engine() {
        for (auto& j : jobs_)
            if (j->easy) detach(*j);
        im_.abort_seen = false;
        im_.callback_error = nullptr;
    }

    void run(const Source& source, const Done& done) {
        try {
            run_loop(source, done);
        } catch (const WireError& e) {
            if (e.kind() == ErrorKind::Aborted)
                throw;
            // Answers that arrived before the failure are handed over first:
            // a batch DVV has answered (and billed) is merged, not fetched again.
            while (!ready_.empty()) {
                Body b = std::move(ready_.front());
                ready_.pop_front();
                done(std::move(b));
            }
            throw;
        }
    }

private:
    void run_loop(const Source& source, const Done& done) {
        im_.abort_seen = false;
        im_.callback_error = nullptr;
        bool source_done = false;
        for (;;) {
            check_abort();
            if (fill(source, source_done)) {
                perform();
                collect();
            }
            if (!ready_.empty()) {
                Body b = std::move(ready_.front());
                ready_.pop_front();
                done(std::move(b));
                // Read what arrived meanwhile, so that transfers in flight
                // progress between callbacks too.
                perform();
                collect();
                continue;
            }
            if (jobs_.empty()) return;
            if (!any_in_flight()) {
                wait_for_retry();
                continue;
            }
            poll();
            perform();
            collect();
        }
    }

    Client::Impl& im_;
    const char* phase_;
    int slots_;
    std::vector<std::unique_ptr<Job>> jobs_;  // in flight or waiting for a retry
    std::deque<Body> ready_;

    bool any_in_flight() const {
        return std::any_of(jobs_.begin(), jobs_.end(), [](const auto& j) { return j->easy != nullptr; });
    }

    int max_attempts() const {
        int n = 0;
        for (const auto& j : jobs_) n = std::max(n, j->attempts);
        return n;
    }

    [[noreturn]] void throw_aborted(int attempts) {
        throw WireError(ErrorKind::Aborted, phase_,
                        std::string("VTJ ") + phase_ + " request aborted (cancelled by the caller)", 0,
                        static_cast<int>(CURLE_ABORTED_BY_CALLBACK), attempts);
    }

    void check_abort() {
        if (im_.cfg.should_abort && im_.cfg.should_abort()) throw_aborted(max_attempts());
    }

    // Starts due retries and new jobs while slots are free. True if any started.
    bool fill(const Source& source, bool& source_done) {
        bool started = false;
        const auto now = Clock::now();
        for (auto& j : jobs_) {
            if (!j->easy && j->ready_at <= now) {
                attach(*j);
                started = true;
            }
        }
        // At most slots_ jobs in flight (or waiting for a retry) and at most
        // 2 * slots_ bodies alive (in flight plus finished, not yet handed over).
        while (!source_done && static_cast<int>(jobs_.size()) < slots_ &&
               static_cast<int>(jobs_.size() + ready_.size()) < 2 * slots_) {
            auto j = std::make_unique<Job>();
            j->impl = &im_;
            j->phase = phase_;
            if (!source(*j)) {
                source_done = true;
                break;
            }
            jobs_.push_back(std::move(j));
            attach(*jobs_.back());
            started = true;
        }
        return started;
    }

    void attach(Job& j) {
        Easy* e = im_.acquire();
        CURL* h = e->h.get();
        e->errbuf[0] = '\0';
        bool ok = curl_easy_setopt(h, CURLOPT_URL, j.url.c_str()) == CURLE_OK;
        if (j.post) {
            ok = ok && curl_easy_setopt(h, CURLOPT_HTTPHEADER, im_.post_headers.get()) == CURLE_OK;
            ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                        static_cast<curl_off_t>(j.payload.size())) == CURLE_OK;
            ok = ok && curl_easy_setopt(h, CURLOPT_POSTFIELDS, j.payload.data()) == CURLE_OK;
        } else {
            ok = ok && curl_easy_setopt(h, CURLOPT_HTTPHEADER, im_.get_headers.get()) == CURLE_OK;
            ok = ok && curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) == CURLE_OK;
        }
        ok = ok && curl_easy_setopt(h, CURLOPT_WRITEDATA, &j) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_HEADERDATA, &j) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_XFERINFODATA, &j) == CURLE_OK;
        ok = ok && curl_easy_setopt(h, CURLOPT_PRIVATE, static_cast<void*>(&j)) == CURLE_OK;
        if (!ok) {
            im_.release(e);
            throw WireError(ErrorKind::Config, phase_, "libcurl rejected a request option");
        }
        BodyAccess::clear(j.body);
        j.too_large = false;
        j.has_retry_after = false;
        j.retry_after.clear();
        const CURLMcode mc = curl_multi_add_handle(im_.multi.get(), h);
        if (mc != CURLM_OK) {
            im_.release(e);
            throw WireError(ErrorKind::Connection, phase_,
                            std::string("VTJ ") + phase_ + " request could not start: " + curl_multi_strerror(mc));
        }
        j.easy = e;
        if (!j.started) {
            j.started = true;
            j.first_start = Clock::now();
        }
        ++j.attempts;
        ++im_.stats.requests;
        if (j.attempts > 1) ++im_.stats.retries;
    }

    void detach(Job& j) noexcept {
        if (!j.easy) return;
        curl_multi_remove_handle(im_.multi.get(), j.easy->h.get());
        im_.release(j.easy);
        j.easy = nullptr;
    }

    void rethrow_callback_error() {
        if (im_.callback_error) {
            std::exception_ptr e = std::move(im_.callback_error);
            im_.callback_error = nullptr;
            std::rethrow_exception(e);
        }
    }

    void perform() {
        int running = 0;
        const CURLMcode mc = curl_multi_perform(im_.multi.get(), &running);
        rethrow_callback_error();
        if (im_.abort_seen) throw_aborted(max_attempts());
        if (mc != CURLM_OK)
            throw WireError(ErrorKind::Connection, phase_,
                            std::string("VTJ ") + phase_ + " request failed: " + curl_multi_strerror(mc));
    }

    void poll() {
        long t = im_.cfg.poll_interval_ms;
        long ct = -1;
        if (curl_multi_timeout(im_.multi.get(), &ct) == CURLM_OK && ct >= 0 && ct < t) t = ct;
        const auto now = Clock::now();
        for (const auto& j : jobs_)
            if (!j->easy) t = std::min(t, std::max(0L, ceil_ms(j->ready_at - now)));
        int numfds = 0;
        const CURLMcode mc = curl_multi_poll(im_.multi.get(), nullptr, 0, static_cast<int>(t), &numfds);
        if (mc != CURLM_OK)
            throw WireError(ErrorKind::Connection, phase_,
                            std::string("VTJ ") + phase_ + " request failed: " + curl_multi_strerror(mc));
    }

    void wait_for_retry() {
        auto earliest = Clock::time_point::max();
        for (const auto& j : jobs_) earliest = std::min(earliest, j->ready_at);
        const long remaining = ceil_ms(earliest - Clock::now());
        if (remaining <= 0) return;
        const int slice = static_cast<int>(std::min(remaining, im_.cfg.poll_interval_ms));
        if (im_.cfg.sleep)
            im_.cfg.sleep(slice);
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(slice));
    }

    void collect() {
        CURLMsg* m;
        int left = 0;
        while ((m = curl_multi_info_read(im_.multi.get(), &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            CURL* h = m->easy_handle;
            const CURLcode rc = m->data.result;  // m is invalid once h is removed
            char* priv = nullptr;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
            finish(*reinterpret_cast<Job*>(priv), rc);
        }
    }

    std::string failure_prefix(const Job& j) const {
        std::string s = std::string("VTJ ") + phase_ + " request";
        if (!j.context.empty()) s += " (" + j.context + ")";
        return s + " failed after " + attempts_text(j.attempts) + ": ";
    }

    void finish(Job& j, CURLcode rc) {
        CURL* h = j.easy->h.get();
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        long connects = 0;
        if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
            im_.stats.connections += static_cast<std::uint64_t>(connects);
        const std::string err = j.easy->errbuf;
        detach(j);
        rethrow_callback_error();
        if (im_.abort_seen) throw_aborted(j.attempts);

        if (rc == CURLE_OK && status >= 200 && status < 300) {
            succeed(j, status);
            return;
        }

        ErrorKind kind;
        bool retryable;
        std::string what;
        if (rc == CURLE_OK) {
            kind = ErrorKind::Http;
            retryable = status == 429 || status >= 500;
            what = "HTTP " + std::to_string(status);
        } else if (j.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
            kind = ErrorKind::TooLarge;
            retryable = false;
            what = "response larger than max_response_bytes (" + std::to_string(im_.cfg.max_response_bytes) +
                   " bytes)";
        } else {
            const Classified c = classify(rc, err);
            kind = c.kind;
            retryable = c.retryable;
            if (kind == ErrorKind::Aborted) throw_aborted(j.attempts);
            what = std::string(kind_text(kind)) + " (curl " + std::to_string(static_cast<int>(rc)) + ": " +
                   im_.sanitize(err.empty() ? curl_easy_strerror(rc) : err.c_str()) + ")";
            if (status > 0) what += " after HTTP " + std::to_string(status) + " headers";
        }

        long long ra_s = -1;
        if (rc == CURLE_OK && (status == 429 || status == 503) && j.has_retry_after &&
            parse_retry_after(j.retry_after, ra_s) && ra_s > im_.cfg.max_retry_after_s) {
            throw WireError(ErrorKind::RetryAfterTooLong, phase_,
                            failure_prefix(j) + "HTTP " + std::to_string(status) + " with Retry-After " +
                                std::to_string(ra_s) + " s, longer than max_retry_after (" +
                                std::to_string(im_.cfg.max_retry_after_s) + " s)",
                            status, 0, j.attempts);
        }
        if (!retryable || j.attempts > im_.cfg.retries)
            throw WireError(kind, phase_, failure_prefix(j) + what, status, static_cast<int>(rc), j.attempts);

        const long wait_ms = ra_s >= 0 ? static_cast<long>(ra_s) * 1000L : im_.backoff_ms(j.attempts);
        j.ready_at = Clock::now() + std::chrono::milliseconds(wait_ms);
    }

    void succeed(Job& j, long status) {
        BodyAccess::finish(j.body);
        Body b = std::move(j.body);
        b.http_status = status;
        b.attempts = j.attempts;
        b.index = j.index;
        b.elapsed_s = std::chrono::duration<double>(Clock::now() - j.first_start).count();
        ready_.push_back(std::move(b));
        auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const auto& p) { return p.get() == &j; });
        if (it != jobs_.end()) jobs_.erase(it);
    }
};

bool valid_date(const std::string& d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (d[i] < '0' || d[i] > '9') return false;
    const int month = (d[5] - '0') * 10 + (d[6] - '0');
    const int day = (d[8] - '0') * 10 + (d[9] - '0');
    return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

void check_base_batch(const std::vector<std::string>& hetus, std::size_t index) {
    if (hetus.empty())
        throw std::invalid_argument("perustiedot batch " + std::to_string(index) + " is empty");
    if (hetus.size() > Client::kMaxBaseBatch)
        throw std::invalid_argument("perustiedot batch " + std::to_string(index) + " has " +
                                    std::to_string(hetus.size()) + " hetus; at most " +
                                    std::to_string(Client::kMaxBaseBatch) + " are allowed per request");
}

std::string base64(const std::string& in) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                           (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
        out += {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
    }
    if (i + 1 == in.size()) {
        const unsigned v = static_cast<unsigned char>(in[i]) << 16;
        out += {tbl[v >> 18], tbl[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
        out += {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '='};
    }
    return out;
}

curl_slist* append_header(curl_slist* list, const std::string& h) {
    curl_slist* n = curl_slist_append(list, h.c_str());
    if (!n) {
        curl_slist_free_all(list);
        throw std::bad_alloc();
    }
    return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// Client

Client::Client(ClientConfig config) {
    config.validate();
    for (const auto& [file, name] : {std::pair{&config.tls_ca_file, "tls_ca_file"},
                                     std::pair{&config.tls_cert_file, "tls_cert_file"},
                                     std::pair{&config.tls_key_file, "tls_key_file"}}) {
        if (!file->empty() && access(file->c_str(), R_OK) != 0)
            throw WireError(ErrorKind::Config, "config",
                            std::string("invalid VTJ client configuration: ") + name + " (" + *file +
                                ") is not readable");
    }
    global_init();

    auto im = std::make_unique<Impl>();
    im->cfg = std::move(config);
    im->base = im->cfg.base_url;
    while (!im->base.empty() && im->base.back() == '/') im->base.pop_back();
    im->user_agent = "pg_vtj/" + im->cfg.version;
    im->basic_b64 = base64(im->cfg.username + ":" + im->cfg.password);

    im->multi.reset(curl_multi_init());
    if (!im->multi) throw WireError(ErrorKind::Config, "config", "libcurl could not create a multi handle");
    curl_multi_setopt(im->multi.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(im->cfg.parallel));

    curl_slist* g = nullptr;
    g = append_header(g, "Accept: application/json");
    g = append_header(g, "X-Road-Client: " + im->cfg.xroad_client);
    im->get_headers.reset(g);
    curl_slist* p = nullptr;
    p = append_header(p, "Accept: application/json");
    p = append_header(p, "Content-Type: application/json");
    p = append_header(p, "X-Road-Client: " + im->cfg.xroad_client);
    p = append_header(p, "Expect:");  // no 100-continue round trip for large hetulista bodies
    im->post_headers.reset(p);

    std::random_device rd;
    im->rng.seed((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
    impl_ = std::move(im);
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

namespace {
Client::Impl& need(const std::unique_ptr<Client::Impl>& p) {
    if (!p) throw std::logic_error("vtj::wire::Client used after it was moved from");
    return *p;
}
}  // namespace

const ClientStats& Client::stats() const noexcept { return impl_->stats; }
const ClientConfig& Client::config() const noexcept { return impl_->cfg; }

std::int64_t Client::start_key(const std::string& yyyy_mm_dd) {
    Impl& im = need(impl_);
    if (!valid_date(yyyy_mm_dd)) throw std::invalid_argument("kirjausavain date must be YYYY-MM-DD");
    Body result;
    bool have = false;
    Engine engine(im, kPhaseKey, 1);
    engine.run(
        [&](Job& j) {
            if (have) return false;
            have = true;
            j.url = im.base + "/kirjausavain/" + yyyy_mm_dd;
            j.context = "date " + yyyy_mm_dd;
            return true;
        },
        [&](Body&& b) { result = std::move(b); });

    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(result.data(), result.size(), false).get(doc) != simdjson::SUCCESS)
        throw WireError(ErrorKind::BadResponse, kPhaseKey, "VTJ kirjausavain answer is not valid JSON",
                        result.http_status, 0, result.attempts);
    std::int64_t key = 0;
    if (doc["viimeisinKirjausavain"].get_int64().get(key) != simdjson::SUCCESS || key < 0)
        throw WireError(ErrorKind::BadResponse, kPhaseKey,
                        "VTJ kirjausavain answer has no non-negative integer viimeisinKirjausavain",
                        result.http_status, 0, result.attempts);
    return key;
}

Body Client::changes(std::int64_t key, const std::vector<std::string>& hetus) {
    Impl& im = need(impl_);
    std::string payload = changes_request_json(key, hetus);
    Body result;
    bool have = false;
    Engine engine(im, kPhaseChanges, 1);
    engine.run(
        [&](Job& j) {
            if (have) return false;
            have = true;
            j.url = im.base + "/muutokset";
            j.post = true;
            j.payload = std::move(payload);
            j.context = "key " + std::to_string(key);
            return true;
        },
        [&](Body&& b) { result = std::move(b); });
    return result;
}

Body Client::base(const std::vector<std::string>& hetus) {
    Impl& im = need(impl_);
    check_base_batch(hetus, 0);
    std::string payload = base_request_json(hetus);
    Body result;
    bool have = false;
    Engine engine(im, kPhaseBase, 1);
    engine.run(
        [&](Job& j) {
            if (have) return false;
            have = true;
            j.url = im.base + "/perustiedot";
            j.post = true;
            j.payload = std::move(payload);
            return true;
        },
        [&](Body&& b) { result = std::move(b); });
    return result;
}

namespace {

// Runs the parallel base fetch over batches handed out by `next` (nullptr = no
// more); each batch is checked when it is taken.
void run_base_parallel(Client::Impl& im, const std::function<const std::vector<std::string>*()>& next,
                       const Client::BodyCallback& on_body) {
    std::size_t index = 0;
    Engine engine(im, kPhaseBase, im.cfg.parallel);
    engine.run(
        [&](Job& j) {
            const std::vector<std::string>* batch = next();
            if (!batch) return false;
            check_base_batch(*batch, index);
            j.url = im.base + "/perustiedot";
            j.post = true;
            j.payload = base_request_json(*batch);
            j.index = index;
            j.context = "batch " + std::to_string(index);
            ++index;
            return true;
        },
        on_body);
}

}  // namespace

void Client::base_parallel(const std::vector<std::vector<std::string>>& batches, const BodyCallback& on_body) {
    Impl& im = need(impl_);
    for (std::size_t i = 0; i < batches.size(); ++i) check_base_batch(batches[i], i);
    std::size_t next = 0;
    run_base_parallel(
        im, [&]() { return next < batches.size() ? &batches[next++] : nullptr; }, on_body);
}

void Client::base_parallel(const BatchSource& next_batch, const BodyCallback& on_body) {
    Impl& im = need(impl_);
    std::vector<std::string> batch;
    run_base_parallel(
        im,
        [&]() -> const std::vector<std::string>* {
            batch.clear();
            return next_batch(batch) ? &batch : nullptr;
        },
        on_body);
}

}  // namespace vtj::wire
