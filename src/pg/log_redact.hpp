// Server-log redaction of hetu-shaped tokens (product.md §8), see
// log_redact.cpp. install() is called once from _PG_init.
#pragma once

#include <cstddef>

namespace pgvtj::log_redact {

// Chains pg_vtj's emit_log_hook in front of the hook installed before it.
void install() noexcept;

// Replaces every hetu-shaped token of the NUL-terminated `s` with "[hetu]"
// in place (the text only gets shorter). Returns the number replaced.
// Allocates nothing; safe in any memory situation.
size_t redact_in_place(char* s) noexcept;

// True when `s` (may be NULL) contains a hetu-shaped token.
bool contains_hetu(const char* s) noexcept;

}  // namespace pgvtj::log_redact
