// The VTJ-muutosrajapinta HTTP client (spec/vtj-api.md §1-§4, §8).
//
// Pure C++ on libcurl: no PostgreSQL header, errors are exceptions. One Client
// owns a curl multi handle and a small pool of easy handles; every request,
// single or parallel, runs through the multi handle, driven from the calling
// thread with curl_multi_poll in short slices so that `should_abort` is
// honoured within about `poll_interval_ms`. Connections are kept in the multi
// handle's cache and reused across calls for the Client's lifetime.
//
// Messages of WireError never contain a response body, a hetu, the password,
// the Authorization header or URL userinfo (product.md §8).
//
// Thread safety: a Client is used by one thread at a time. libcurl's global
// state is initialised lazily (std::call_once) by the first Client
// constructor, never at library load and never by ClientConfig validation,
// so the PostgreSQL postmaster never gets it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vtj::wire {

// ---------------------------------------------------------------------------
// Errors

enum class ErrorKind {
    Http,               // a non-2xx status (after retries for 5xx/429)
    Timeout,            // connect or total timeout (after retries)
    Connection,         // connect failure, reset, partial body, ... (after retries)
    Tls,                // certificate verification, handshake, client cert
    TooLarge,           // response larger than max_response_bytes
    Aborted,            // should_abort returned true
    RetryAfterTooLong,  // Retry-After longer than max_retry_after_s
    Config,             // invalid ClientConfig (before any request)
    BadResponse,        // a 2xx answer the client itself must read is malformed
                        // (only start_key; record bodies are the decoder's job)
};

// "http", "timeout", "connection", "tls", "too_large", "aborted",
// "retry_after_too_long", "config", "bad_response".
const char* to_string(ErrorKind kind) noexcept;

class WireError : public std::runtime_error {
public:
    WireError(ErrorKind kind, const char* phase, const std::string& message, long http_status = 0,
              int curl_code = 0, int attempts = 0);

    ErrorKind kind() const noexcept { return kind_; }
    // The last HTTP status seen (0 when no response arrived).
    long http_status() const noexcept { return http_status_; }
    // The last CURLcode (0 = CURLE_OK).
    int curl_code() const noexcept { return curl_code_; }
    // "kirjausavain", "muutokset", "perustiedot" or "config" (a static string).
    const char* phase() const noexcept { return phase_; }
    // Attempts made for the failing request (0 when none was sent).
    int attempts() const noexcept { return attempts_; }

private:
    ErrorKind kind_;
    const char* phase_;
    long http_status_;
    int curl_code_;
    int attempts_;
};

// ---------------------------------------------------------------------------
// Response body

// Zeroed bytes guaranteed after the data (>= simdjson::SIMDJSON_PADDING; a
// static_assert in client.cpp checks it), so the decoder can parse in place:
//   simdjson::padded_string_view(body.data(), body.size(), body.capacity())
inline constexpr std::size_t kBodyPadding = 64;

class Body {
public:
    Body() noexcept = default;
    Body(Body&& other) noexcept;
    Body& operator=(Body&& other) noexcept;
    Body(const Body&) = delete;
    Body& operator=(const Body&) = delete;
    ~Body();

    // A Body holding a copy of `bytes` (tests, fuzzing, the decoder's tools).
    static Body copy_of(std::string_view bytes);

    // Never null: an empty body still points at kBodyPadding zero bytes.
    const char* data() const noexcept;
    std::size_t size() const noexcept { return size_; }
    // Allocated bytes from data(); always >= size() + kBodyPadding, and the
    // kBodyPadding bytes after the data are zero.
    std::size_t capacity() const noexcept;
    std::string_view view() const noexcept { return {data(), size_}; }
    bool empty() const noexcept { return size_ == 0; }

    long http_status = 0;   // final HTTP status (2xx)
    int attempts = 0;       // requests sent for this body (1 = no retry)
    double elapsed_s = 0;   // first attempt start to completion, backoff included
    std::size_t index = 0;  // batch index in a parallel fetch, else 0

private:
    friend struct BodyAccess;
    char* buf_ = nullptr;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;
};

// ---------------------------------------------------------------------------
// Configuration

struct ClientConfig {
    // e.g. https://ss.example/r1/FI/GOV/0245437-2/VTJmutpa/VTJmutpa/api/v1
    // http or https only; no userinfo, query or fragment; a trailing '/' is
    // ignored. Endpoints are appended as "/kirjausavain/...", "/muutokset", ...
    std::string base_url;
    std::string xroad_client;  // X-Road-Client header, e.g. FI/MUN/0123456-7/vtj-test
    std::string username;      // HTTP Basic (no ':' allowed)
    std::string password;
    std::string tls_ca_file;    // PEM CA bundle; empty = system trust store
    std::string tls_cert_file;  // client certificate (mTLS), PEM
    std::string tls_key_file;   // its key, PEM (empty: key inside tls_cert_file)
    std::string version = "dev";  // User-Agent: pg_vtj/<version>

    long connect_timeout_ms = 10000;  // per attempt
    long request_timeout_ms = 30000;  // per attempt, total (connect included)
    int retries = 3;                  // extra attempts after the first one
    long backoff_initial_ms = 500;    // wait before retry n: equal jitter in
    long backoff_max_ms = 30000;      //   [b/2, b], b = min(max, initial*2^(n-1))
    long max_retry_after_s = 60;      // a longer Retry-After fails at once
    std::size_t max_response_bytes = 256u << 20;
    int parallel = 2;                 // base_parallel requests in flight, 1..8
    long poll_interval_ms = 50;       // longest slice between should_abort polls

    // Polled from curl's progress callback and between poll/sleep slices. When
    // it returns true, transfers stop and WireError{Aborted} is thrown. It may
    // also throw; that exception then propagates unchanged (after cleanup).
    std::function<bool()> should_abort;
    // Used for backoff waits when nothing is in flight (e.g. a latch wait);
    // called with at most poll_interval_ms. May return early. Default: sleep.
    std::function<void(int ms)> sleep;

    // Syntax checks only (no libcurl call, no file access): safe anywhere,
    // e.g. in a GUC check hook of the postmaster. Throws WireError{Config}.
    void validate() const;
};

struct ClientStats {
    std::uint64_t requests = 0;     // attempts sent
    std::uint64_t retries = 0;      // attempts that were retries
    std::uint64_t connections = 0;  // new connections opened (CURLINFO_NUM_CONNECTS)
    std::uint64_t bytes = 0;        // response bytes received (all attempts)
};

// ---------------------------------------------------------------------------
// Client

class Client {
public:
    static constexpr std::size_t kMaxBaseBatch = 1000;

    // Validates the config (WireError{Config}), checks that the TLS files are
    // readable, initialises libcurl's global state once per process.
    explicit Client(ClientConfig config);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // GET {base}/kirjausavain/{YYYY-MM-DD} -> viimeisinKirjausavain.
    // std::invalid_argument for a malformed date (before any request);
    // WireError{BadResponse} when the answer lacks a non-negative integer key.
    std::int64_t start_key(const std::string& yyyy_mm_dd);

    // POST {base}/muutokset {"viimeisinKirjausavain":key,"hetulista":[...]}.
    Body changes(std::int64_t key, const std::vector<std::string>& hetus);

    // POST {base}/perustiedot {"hetulista":[...]} (never a tietoryhmat field).
    // std::invalid_argument when empty or more than kMaxBaseBatch hetus.
    Body base(const std::vector<std::string>& hetus);

    // Parallel base fetch: up to config.parallel requests in flight. Each body
    // is passed to `on_body` in COMPLETION order (not submission order);
    // Body::index is the batch's position in submission order. Replacement
    // requests are sent before a finished body is handed over, so the server
    // works while on_body runs; no transfer is driven during on_body itself
    // (responses wait in socket buffers), so keep it well below
    // request_timeout_ms or requests in flight may time out (and be retried).
    // At most 2 * parallel bodies exist at once (in flight + finished).
    // Each batch is retried on its own (retries, backoff, Retry-After); the
    // first batch that fails for good throws. If on_body (or should_abort)
    // throws, the remaining transfers are abandoned cleanly and the exception
    // propagates unchanged; the Client stays usable.
    using BodyCallback = std::function<void(Body&& body)>;
    // All batches are checked (non-empty, <= kMaxBaseBatch) before any request.
    void base_parallel(const std::vector<std::vector<std::string>>& batches,
                       const BodyCallback& on_body);
    // Streaming form: `next_batch` fills its argument (cleared beforehand) and
    // returns false when there are no more batches; it is called only when a
    // slot is free, so hetus need not all be in memory at once. A batch that
    // is empty or too large throws std::invalid_argument when it is produced.
    using BatchSource = std::function<bool(std::vector<std::string>& batch)>;
    void base_parallel(const BatchSource& next_batch, const BodyCallback& on_body);

    const ClientStats& stats() const noexcept;
    const ClientConfig& config() const noexcept;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

// JSON request bodies (exposed for tests). Strings are escaped per RFC 8259;
// std::invalid_argument if a string is not valid UTF-8 (the message names the
// position only).
std::string changes_request_json(std::int64_t key, const std::vector<std::string>& hetus);
std::string base_request_json(const std::vector<std::string>& hetus);

}  // namespace vtj::wire
