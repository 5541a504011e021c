// The caller's vtj.* settings travel to the run worker (product.md §4: a run
// "runs as the caller with the caller's vtj.* settings"), and become the
// wire client's configuration there.
#pragma once

#include "wire/client.hpp"

#include <string>

namespace pgvtj {

// Refuses a run whose connection settings are missing or unsafe (before any
// request). Throws SqlError. `in_caller`: also refuse vtj.password when the
// library was not preloaded (it may have been visible to other users).
void check_connection_settings(bool in_caller = true);

// "name\0value\0" pairs of every vtj.* setting, as the caller sees them.
std::string serialize_run_settings();

// In the run worker: applies the pairs as session settings.
void apply_run_settings(const char* pairs, size_t bytes);

// The wire client's configuration from the current settings; reads
// vtj.password_file (which must belong to the server's OS user, mode 0600 or
// stricter). Throws SqlError.
vtj::wire::ClientConfig client_config_from_settings();

}  // namespace pgvtj
