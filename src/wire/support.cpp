#include "common/cpp_only.hpp"

// The parts of the wire layer that need no libcurl: errors, the padded body
// buffer, request JSON and ClientConfig validation (safe in the postmaster).

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <simdjson.h>

#include "wire/body_access.hpp"
#include "wire/client.hpp"

namespace vtj::wire {

static_assert(kBodyPadding >= simdjson::SIMDJSON_PADDING,
              "Body padding must cover simdjson's in-place parsing slack");

// ---------------------------------------------------------------------------
// Errors

const char* to_string(ErrorKind kind) noexcept {
    switch (kind) {
        case ErrorKind::Http: return "http";
        case ErrorKind::Timeout: return "timeout";
        case ErrorKind::Connection: return "connection";
        case ErrorKind::Tls: return "tls";
        case ErrorKind::TooLarge: return "too_large";
        case ErrorKind::Aborted: return "aborted";
        case ErrorKind::RetryAfterTooLong: return "retry_after_too_long";
        case ErrorKind::Config: return "config";
        case ErrorKind::BadResponse: return "bad_response";
    }
    return "unknown";
}

WireError::WireError(ErrorKind kind, const char* phase, const std::string& message,
                     long http_status, int curl_code, int attempts)
    : std::runtime_error(message),
      kind_(kind),
      phase_(phase ? phase : ""),
      http_status_(http_status),
      curl_code_(curl_code),
      attempts_(attempts) {}

// ---------------------------------------------------------------------------
// Body

namespace {
// The buffer of an empty Body: data() is never null and is followed by zeros.
alignas(64) const char kEmptyPadding[kBodyPadding] = {};
}  // namespace

Body::Body(Body&& other) noexcept
    : http_status(other.http_status),
      attempts(other.attempts),
      elapsed_s(other.elapsed_s),
      index(other.index),
      buf_(other.buf_),
      size_(other.size_),
      cap_(other.cap_) {
    other.buf_ = nullptr;
    other.size_ = 0;
    other.cap_ = 0;
}

Body& Body::operator=(Body&& other) noexcept {
    if (this != &other) {
        std::free(buf_);
        buf_ = other.buf_;
        size_ = other.size_;
        cap_ = other.cap_;
        http_status = other.http_status;
        attempts = other.attempts;
        elapsed_s = other.elapsed_s;
        index = other.index;
        other.buf_ = nullptr;
        other.size_ = 0;
        other.cap_ = 0;
    }
    return *this;
}

Body::~Body() { std::free(buf_); }

const char* Body::data() const noexcept { return buf_ ? buf_ : kEmptyPadding; }

std::size_t Body::capacity() const noexcept { return buf_ ? cap_ : kBodyPadding; }

Body Body::copy_of(std::string_view bytes) {
    Body b;
    BodyAccess::append(b, bytes.data(), bytes.size());
    BodyAccess::finish(b);
    return b;
}

void BodyAccess::reserve(Body& b, std::size_t data_bytes) {
    const std::size_t want = data_bytes + kBodyPadding;
    if (want <= b.cap_) return;
    void* p = std::realloc(b.buf_, want);
    if (!p) throw std::bad_alloc();
    b.buf_ = static_cast<char*>(p);
    b.cap_ = want;
}

void BodyAccess::append(Body& b, const char* p, std::size_t n) {
    const std::size_t need = b.size_ + n;
    if (need + kBodyPadding > b.cap_) {
        std::size_t grow = b.cap_ * 2;
        if (grow < 16384) grow = 16384;
        BodyAccess::reserve(b, need > grow ? need : grow);
    }
    if (n) std::memcpy(b.buf_ + b.size_, p, n);
    b.size_ = need;
}

void BodyAccess::clear(Body& b) noexcept { b.size_ = 0; }

void BodyAccess::finish(Body& b) {
    if (!b.buf_) {
        if (b.size_ == 0) return;  // the shared zero padding serves
        BodyAccess::reserve(b, b.size_);
    }
    std::memset(b.buf_ + b.size_, 0, kBodyPadding);
}

// ---------------------------------------------------------------------------
// Request JSON

namespace {

void append_json_string(std::string& out, const std::string& s, std::size_t position) {
    if (!simdjson::validate_utf8(s.data(), s.size())) {
        throw std::invalid_argument("hetulista entry " + std::to_string(position + 1) +
                                    " is not valid UTF-8");
    }
    static const char hex[] = "0123456789abcdef";
    out.push_back('"');
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\u00";
                    out.push_back(hex[c >> 4]);
                    out.push_back(hex[c & 0xf]);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
    }
    out.push_back('"');
}

void append_hetulista(std::string& out, const std::vector<std::string>& hetus) {
    out += "\"hetulista\":[";
    for (std::size_t i = 0; i < hetus.size(); ++i) {
        if (i) out.push_back(',');
        append_json_string(out, hetus[i], i);
    }
    out.push_back(']');
}

std::size_t estimate(const std::vector<std::string>& hetus) {
    std::size_t n = 64;
    for (const auto& h : hetus) n += h.size() + 3;
    return n;
}

}  // namespace

std::string changes_request_json(std::int64_t key, const std::vector<std::string>& hetus) {
    std::string out;
    out.reserve(estimate(hetus));
    out += "{\"viimeisinKirjausavain\":";
    out += std::to_string(key);
    out.push_back(',');
    append_hetulista(out, hetus);
    out.push_back('}');
    return out;
}

std::string base_request_json(const std::vector<std::string>& hetus) {
    std::string out;
    out.reserve(estimate(hetus));
    out.push_back('{');
    append_hetulista(out, hetus);
    out.push_back('}');
    return out;
}

// ---------------------------------------------------------------------------
// Config validation (no libcurl: may run in the postmaster)

namespace {

[[noreturn]] void config_error(const std::string& msg) {
    throw WireError(ErrorKind::Config, "config", "invalid VTJ client configuration: " + msg);
}

bool has_control(const std::string& s) {
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f) return true;
    return false;
}

bool istarts_with(const std::string& s, const char* prefix) {
    const std::size_t n = std::strlen(prefix);
    if (s.size() < n) return false;
    for (std::size_t i = 0; i < n; ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

void check_url(const std::string& url) {
    if (url.empty()) config_error("base_url is empty");
    if (url.find('\0') != std::string::npos || has_control(url))
        config_error("base_url contains a control character");
    for (unsigned char c : url)
        if (c == ' ' || c >= 0x80) config_error("base_url contains a space or a non-ASCII character");
    std::size_t rest;
    if (istarts_with(url, "https://"))
        rest = 8;
    else if (istarts_with(url, "http://"))
        rest = 7;
    else
        config_error("base_url must start with http:// or https://");
    if (url.find('?') != std::string::npos) config_error("base_url must not contain a query ('?')");
    if (url.find('#') != std::string::npos) config_error("base_url must not contain a fragment ('#')");
    const std::size_t slash = url.find('/', rest);
    const std::string authority = url.substr(rest, slash == std::string::npos ? std::string::npos : slash - rest);
    if (authority.find('@') != std::string::npos)
        config_error("base_url must not contain user information ('user:password@'); "
                     "use the username and password settings");
    if (authority.empty() || authority[0] == ':') config_error("base_url has no host");
    if (authority.find('\\') != std::string::npos) config_error("base_url has a malformed host");
}

void check_text(const std::string& value, const char* name, bool allow_empty) {
    if (!allow_empty && value.empty()) config_error(std::string(name) + " is empty");
    if (value.find('\0') != std::string::npos || has_control(value))
        config_error(std::string(name) + " contains a control character");
}

}  // namespace

void ClientConfig::validate() const {
    check_url(base_url);
    check_text(xroad_client, "xroad_client", false);
    for (unsigned char c : xroad_client)
        if (c == ' ' || c >= 0x80) config_error("xroad_client contains a space or a non-ASCII character");
    check_text(username, "username", false);
    if (username.find(':') != std::string::npos) config_error("username must not contain ':'");
    // The password may hold any character except NUL, CR and LF; say nothing
    // about its content.
    if (password.find('\0') != std::string::npos || password.find('\r') != std::string::npos ||
        password.find('\n') != std::string::npos)
        config_error("password contains a NUL or line-break character");
    check_text(tls_ca_file, "tls_ca_file", true);
    check_text(tls_cert_file, "tls_cert_file", true);
    check_text(tls_key_file, "tls_key_file", true);
    if (!tls_key_file.empty() && tls_cert_file.empty())
        config_error("tls_key_file is set but tls_cert_file is not");
    if ((!tls_ca_file.empty() || !tls_cert_file.empty()) && !istarts_with(base_url, "https://"))
        config_error("TLS files are set but base_url does not use https://");
    check_text(version, "version", false);
    if (connect_timeout_ms <= 0) config_error("connect_timeout_ms must be positive");
    if (request_timeout_ms <= 0) config_error("request_timeout_ms must be positive");
    if (retries < 0 || retries > 100) config_error("retries must be between 0 and 100");
    if (backoff_initial_ms <= 0) config_error("backoff_initial_ms must be positive");
    if (backoff_max_ms < backoff_initial_ms)
        config_error("backoff_max_ms must be at least backoff_initial_ms");
    if (max_retry_after_s < 0) config_error("max_retry_after_s must not be negative");
    if (max_response_bytes == 0) config_error("max_response_bytes must be positive");
    if (max_response_bytes > (std::size_t{1} << 40)) config_error("max_response_bytes is too large");
    if (parallel < 1 || parallel > 8) config_error("parallel must be between 1 and 8");
    if (poll_interval_ms < 1 || poll_interval_ms > 1000)
        config_error("poll_interval_ms must be between 1 and 1000");
}

}  // namespace vtj::wire
