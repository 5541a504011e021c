// The vtj.* settings (product.md §3). Defined in _PG_init; read through these
// globals by the glue. Connection settings are PGC_SUSET; vtj.password is never
// shown to anyone (SHOW prints ********; hidden from pg_settings).
#pragma once

#include "pg/pg_headers.hpp"

namespace pgvtj::settings {

// connection
extern char* base_url;
extern char* xroad_client;
extern char* username;
extern char* password;
extern char* password_file;
extern char* tls_ca_file;
extern char* tls_cert_file;
extern char* tls_key_file;

// behaviour
extern int http_timeout_ms;
extern int http_connect_timeout_ms;
extern int http_retries;
extern int max_retry_after_s;
extern int http_parallel;
extern int batch_size;
extern int base_per_run;
extern int max_response_kb;
extern char* turvakielto_rule;
extern bool allow_test_hetus;
extern bool log_redact;
extern int run_log_level;
extern char* hmac_key_file;

// worker and retention
extern char* worker_databases;
extern int sync_interval_s;
extern int journal_retention_min;
extern int history_retention_min;
extern int change_retention_min;
extern int run_retention_min;
extern int admin_log_retention_min;
extern int deceased_retention_min;

// True when the library was loaded through shared_preload_libraries.
extern bool loaded_at_start;

void define_all();

}  // namespace pgvtj::settings
