#include "pg/settings.hpp"

namespace pgvtj::settings {

char* base_url = nullptr;
char* xroad_client = nullptr;
char* username = nullptr;
char* password = nullptr;
char* password_file = nullptr;
char* tls_ca_file = nullptr;
char* tls_cert_file = nullptr;
char* tls_key_file = nullptr;

int http_timeout_ms = 30000;
int http_connect_timeout_ms = 10000;
int http_retries = 3;
int max_retry_after_s = 60;
int http_parallel = 2;
int batch_size = 1000;
int base_per_run = 10000;
int max_response_kb = 256 * 1024;
char* turvakielto_rule = nullptr;
bool allow_test_hetus = true;
bool log_redact = true;
int run_log_level = LOG;
char* hmac_key_file = nullptr;

char* worker_databases = nullptr;
int sync_interval_s = 3600;
int journal_retention_min = 30 * 24 * 60;
int history_retention_min = 30 * 24 * 60;
int change_retention_min = 90 * 24 * 60;
int run_retention_min = 2 * 365 * 24 * 60;
int admin_log_retention_min = 5 * 365 * 24 * 60;
int deceased_retention_min = -1;

bool loaded_at_start = false;

namespace {

const char* show_password() { return "********"; }

// A password set with ALTER DATABASE/ROLE ... SET (or a function's SET clause)
// is stored in pg_db_role_setting, which every role can read: refused.
bool check_password(char** newval, void** extra, GucSource source) {
    (void)extra;
    const bool per_object = source == PGC_S_TEST || source == PGC_S_DATABASE || source == PGC_S_USER ||
                            source == PGC_S_DATABASE_USER;
    if (per_object && *newval != nullptr && (*newval)[0] != '\0') {
        GUC_check_errmsg("vtj.password cannot be set per database, role or function");
        GUC_check_errdetail("Such settings are stored in pg_db_role_setting or pg_proc, which every role can read.");
        GUC_check_errhint("Use vtj.password_file, or vtj.password in postgresql.conf.");
        return false;
    }
    return true;
}

const struct config_enum_entry run_log_levels[] = {
    {"debug1", DEBUG1, false}, {"info", INFO, false},       {"notice", NOTICE, false},
    {"warning", WARNING, false}, {"log", LOG, false},       {nullptr, 0, false},
};

void define_string(const char* name, const char* doc, char** var, const char* boot, GucContext ctx,
                   int flags = 0) {
    DefineCustomStringVariable(name, doc, nullptr, var, boot, ctx, flags, nullptr, nullptr, nullptr);
}

void define_int(const char* name, const char* doc, int* var, int boot, int min, int max,
                GucContext ctx, int flags = 0) {
    DefineCustomIntVariable(name, doc, nullptr, var, boot, min, max, ctx, flags, nullptr, nullptr,
                            nullptr);
}

constexpr int kDayMin = 24 * 60;

}  // namespace

void define_all() {
    const int secret = GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE;

    define_string("vtj.base_url", "Base URL of VTJ-muutosrajapinta, ending in /api/v1.", &base_url,
                  "", PGC_SUSET);
    define_string("vtj.xroad_client", "X-Road client id: instance/class/member/subsystem.",
                  &xroad_client, "", PGC_SUSET);
    define_string("vtj.username", "API user name issued by DVV.", &username, "", PGC_SUSET,
                  GUC_SUPERUSER_ONLY);
    DefineCustomStringVariable("vtj.password", "API password (prefer vtj.password_file).", nullptr,
                               &password, "", PGC_SUSET, secret, check_password, nullptr, show_password);
    define_string("vtj.password_file",
                  "File holding the API password; owned by the server's user, mode 0600.",
                  &password_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY);
    define_string("vtj.tls_ca_file", "CA bundle that verifies the server's certificate.",
                  &tls_ca_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY);
    define_string("vtj.tls_cert_file", "Client certificate for the X-Road security server.",
                  &tls_cert_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY);
    define_string("vtj.tls_key_file", "Private key of the client certificate.", &tls_key_file, "",
                  PGC_SUSET, GUC_SUPERUSER_ONLY);

    define_int("vtj.http_timeout_ms", "Total time limit of one HTTP request.", &http_timeout_ms,
               30000, 100, 3600 * 1000, PGC_SUSET, GUC_UNIT_MS);
    define_int("vtj.http_connect_timeout_ms", "Connect time limit of one HTTP request.",
               &http_connect_timeout_ms, 10000, 100, 600 * 1000, PGC_SUSET, GUC_UNIT_MS);
    define_int("vtj.http_retries", "Retries of a failed request (5xx, 429, connection errors).",
               &http_retries, 3, 0, 20, PGC_SUSET);
    define_int("vtj.max_retry_after", "Longest Retry-After honoured; a longer one fails the run.",
               &max_retry_after_s, 60, 0, 3600, PGC_SUSET, GUC_UNIT_S);
    define_int("vtj.http_parallel", "Base-load requests in flight at once.", &http_parallel, 2, 1,
               8, PGC_SUSET);
    define_int("vtj.batch_size", "Hetus per /perustiedot request.", &batch_size, 1000, 1, 1000,
               PGC_SUSET);
    define_int("vtj.base_per_run", "Persons base-loaded by one vtj.sync() run.", &base_per_run,
               10000, 1, INT_MAX, PGC_SUSET);
    define_int("vtj.max_response_bytes", "Largest response body accepted.", &max_response_kb,
               256 * 1024, 64, INT_MAX / 1024, PGC_SUSET, GUC_UNIT_KB);
    define_string("vtj.turvakielto_rule", "The turvakielto rule the merge applies.",
                  &turvakielto_rule, "TIEDOT_SENSUROIDAAN", PGC_SIGHUP);
    DefineCustomBoolVariable("vtj.allow_test_hetus",
                             "Accept test hetus (individual number 900-999).", nullptr,
                             &allow_test_hetus, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("vtj.log_redact", "Redact hetu-shaped tokens in the server log.",
                             nullptr, &log_redact, true, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomEnumVariable("vtj.run_log_level", "Level of the one log line per run.", nullptr,
                             &run_log_level, LOG, run_log_levels, PGC_SUSET, 0, nullptr, nullptr,
                             nullptr);
    define_string("vtj.hmac_key_file", "Key file for the hetu HMAC of the admin log.",
                  &hmac_key_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY);

    define_string("vtj.worker_databases", "Databases whose register the background worker syncs.",
                  &worker_databases, "", PGC_SIGHUP, GUC_LIST_INPUT);
    define_int("vtj.sync_interval", "Time between background syncs; 0 = off.", &sync_interval_s,
               3600, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_S);
    define_int("vtj.journal_retention", "How long journal rows are kept.", &journal_retention_min,
               30 * kDayMin, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN);
    define_int("vtj.history_retention", "How long ended addresses, languages and municipalities are kept.",
               &history_retention_min, 30 * kDayMin, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN);
    define_int("vtj.change_retention", "How long change-feed rows are kept.",
               &change_retention_min, 90 * kDayMin, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN);
    define_int("vtj.run_retention", "How long run history is kept.", &run_retention_min,
               2 * 365 * kDayMin, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN);
    define_int("vtj.admin_log_retention", "How long the admin log is kept.",
               &admin_log_retention_min, 5 * 365 * kDayMin, 0, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN);
    define_int("vtj.deceased_retention",
               "End registrations of persons dead longer than this; -1 = never.",
               &deceased_retention_min, -1, -1, INT_MAX, PGC_SIGHUP, GUC_UNIT_MIN);

    MarkGUCPrefixReserved("vtj");
}

}  // namespace pgvtj::settings
