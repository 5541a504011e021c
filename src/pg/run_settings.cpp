#include "pg/run_settings.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace pgvtj {

namespace {

// Every setting a run reads. Worker and retention settings are PGC_SIGHUP and
// the same everywhere, so they need not travel.
const char* const kRunSettings[] = {
    "vtj.base_url",         "vtj.xroad_client",       "vtj.username",         "vtj.password",
    "vtj.password_file",    "vtj.tls_ca_file",        "vtj.tls_cert_file",    "vtj.tls_key_file",
    "vtj.http_timeout_ms",  "vtj.http_connect_timeout_ms", "vtj.http_retries", "vtj.max_retry_after",
    "vtj.http_parallel",    "vtj.batch_size",         "vtj.base_per_run",     "vtj.max_response_bytes",
    "vtj.allow_test_hetus", "vtj.run_log_level",      "vtj.hmac_key_file",
};

bool empty(const char* s) { return s == nullptr || s[0] == '\0'; }

std::string read_password_file(const char* path) {
    struct stat st;
    if (stat(path, &st) != 0)
        throw SqlError(ERRCODE_CONFIG_FILE_ERROR, "vtj.password_file cannot be read",
                       std::string("stat failed: ") + std::strerror(errno));
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        throw SqlError(ERRCODE_CONFIG_FILE_ERROR,
                       "vtj.password_file must be a regular file owned by the database server's user with mode 0600 or stricter");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw SqlError(ERRCODE_CONFIG_FILE_ERROR, "vtj.password_file cannot be read");
    std::stringstream buf;
    buf << in.rdbuf();
    std::string pw = buf.str();
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r'))
        pw.pop_back();
    if (pw.empty())
        throw SqlError(ERRCODE_CONFIG_FILE_ERROR, "vtj.password_file is empty");
    return pw;
}

}  // namespace

void check_connection_settings(bool in_caller) {
    using namespace settings;
    if (empty(base_url))
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "vtj.base_url is not set",
                       "Set it in postgresql.conf or with ALTER DATABASE ... SET as a superuser.");
    if (empty(xroad_client))
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "vtj.xroad_client is not set");
    if (empty(username))
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "vtj.username is not set");
    if (empty(password) && empty(password_file))
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "neither vtj.password_file nor vtj.password is set");
    if (in_caller && !empty(password) && !loaded_at_start)
        throw SqlError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                       "vtj.password is set but pg_vtj was not preloaded, so the setting may have been visible",
                       "Put pg_vtj in shared_preload_libraries and prefer vtj.password_file.");
    // Syntax of the URL etc., without any request or file access.
    vtj::wire::ClientConfig cfg;
    cfg.base_url = base_url;
    cfg.xroad_client = xroad_client;
    cfg.username = username;
    cfg.password = "x";
    try {
        cfg.validate();
    } catch (const vtj::wire::WireError& e) {
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, e.what());
    }
}

std::string serialize_run_settings() {
    std::string out;
    for (const char* name : kRunSettings) {
        const char* value = pg_guard([&] { return GetConfigOption(name, true, false); });
        if (!value)
            continue;
        out.append(name).push_back('\0');
        out.append(value).push_back('\0');
    }
    return out;
}

void apply_run_settings(const char* pairs, size_t bytes) {
    size_t at = 0;
    while (at < bytes) {
        const char* name = pairs + at;
        at += std::strlen(name) + 1;
        if (at >= bytes)
            break;
        const char* value = pairs + at;
        at += std::strlen(value) + 1;
        pg_guard([&] { SetConfigOption(name, value, PGC_SUSET, PGC_S_SESSION); });
    }
}

vtj::wire::ClientConfig client_config_from_settings() {
    using namespace settings;
    check_connection_settings(false);
    vtj::wire::ClientConfig cfg;
    cfg.base_url = base_url;
    cfg.xroad_client = xroad_client;
    cfg.username = username;
    cfg.password = !empty(password_file) ? read_password_file(password_file) : std::string(password);
    if (!empty(tls_ca_file))
        cfg.tls_ca_file = tls_ca_file;
    if (!empty(tls_cert_file))
        cfg.tls_cert_file = tls_cert_file;
    if (!empty(tls_key_file))
        cfg.tls_key_file = tls_key_file;
    cfg.version = PG_VTJ_VERSION;
    cfg.connect_timeout_ms = http_connect_timeout_ms;
    cfg.request_timeout_ms = http_timeout_ms;
    cfg.retries = http_retries;
    cfg.max_retry_after_s = max_retry_after_s;
    cfg.max_response_bytes = static_cast<size_t>(max_response_kb) * 1024;
    cfg.parallel = http_parallel;
    return cfg;
}

}  // namespace pgvtj
