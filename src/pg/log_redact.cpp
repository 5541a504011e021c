// Keeping hetus out of the server log (product.md §8).
//
// 1. emit_log_hook (installed by _PG_init, so in every process when pg_vtj is
//    preloaded): with vtj.log_redact = on, for every message that goes to the
//    server log
//      - the STATEMENT line is hidden (hide_stmt) when the statement
//        (debug_query_string) or the internal query contains a hetu-shaped
//        token;
//      - every hetu-shaped token of message, detail, detail_log, hint, context
//        and internal query is replaced with "[hetu]".
//    That covers PostgreSQL's own errors, log_statement lines, duration logs
//    and bind-parameter details (log_parameter_max_length, and the CONTEXT
//    of log_parameter_max_length_on_error). The replacement is done in place
//    (the text only gets shorter), so the hook allocates nothing and cannot
//    fail; the client receives the same redacted text. The hook then calls
//    the hook that was installed before it.
//
//    A hetu-shaped token: 11 characters DDMMYY C NNN Q — six digits, a
//    century sign (- + A-F U-Y), three digits (any individual number, not only
//    900-999), a check character (0-9 A-F H J-N P R-Y); letters in either case
//    — with no ASCII letter or digit immediately before or after it.
//
// 2. vtj._raise(sqlstate, message, hint): raises an ERROR marked errhidestmt,
//    so the server log gets no STATEMENT line, whether or not the hook is
//    installed. The register functions, whose statements carry hetus,
//    re-raise their errors through it (PL/pgSQL RAISE cannot hide the
//    statement).
//
// Everything in this file except vtj._raise is plain C-style code: no
// allocation, no exception, no ereport.
#include "pg/log_redact.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "tcop/tcopprot.h"
}

#include <cstring>
#include <string>

namespace pgvtj::log_redact {

namespace {

inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline bool is_alnum(char c) noexcept {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

inline char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

inline bool is_century_sign(char c) noexcept {
    c = upper(c);
    return c == '-' || c == '+' || (c >= 'A' && c <= 'F') || (c >= 'U' && c <= 'Y');
}

// [0-9A-FHJ-NPR-Y]
inline bool is_check_char(char c) noexcept {
    c = upper(c);
    return is_digit(c) || (c >= 'A' && c <= 'F') || c == 'H' || (c >= 'J' && c <= 'N') || c == 'P' ||
           (c >= 'R' && c <= 'Y');
}

constexpr size_t kHetuLength = 11;
constexpr char kReplacement[] = "[hetu]";
constexpr size_t kReplacementLength = sizeof kReplacement - 1;
static_assert(kReplacementLength <= kHetuLength, "the replacement must not be longer than a hetu");

// A hetu-shaped token starts at s[i] (the caller knows s[i - 1], if any, is
// not alphanumeric). Reads at most s[i + 11], stopping at the terminating NUL.
bool token_at(const char* s) noexcept {
    for (size_t k = 0; k < 6; ++k)
        if (!is_digit(s[k]))
            return false;
    if (!is_century_sign(s[6]))
        return false;
    for (size_t k = 7; k < 10; ++k)
        if (!is_digit(s[k]))
            return false;
    if (!is_check_char(s[10]))
        return false;
    return !is_alnum(s[11]);  // s[11] is the NUL when the token ends the text
}

emit_log_hook_type previous_hook = nullptr;

void redact_field(char* s) noexcept {
    if (s != nullptr)
        redact_in_place(s);
}

void emit_log(ErrorData* edata) {
    if (edata != nullptr && settings::log_redact) {
        if (contains_hetu(debug_query_string) || contains_hetu(edata->internalquery))
            edata->hide_stmt = true;
        redact_field(edata->message);
        redact_field(edata->detail);
        redact_field(edata->detail_log);
        redact_field(edata->hint);
        redact_field(edata->context);
        if (edata->internalquery != nullptr && redact_in_place(edata->internalquery) > 0)
            edata->internalpos = 0;
    }
    if (previous_hook != nullptr)
        previous_hook(edata);
}

}  // namespace

bool contains_hetu(const char* s) noexcept {
    if (s == nullptr)
        return false;
    bool boundary = true;  // the previous character is not alphanumeric
    for (const char* p = s; *p != '\0'; ++p) {
        if (boundary && is_digit(*p) && token_at(p))
            return true;
        boundary = !is_alnum(*p);
    }
    return false;
}

size_t redact_in_place(char* s) noexcept {
    if (s == nullptr)
        return 0;
    size_t replaced = 0;
    char* out = s;
    const char* in = s;
    bool boundary = true;
    while (*in != '\0') {
        if (boundary && is_digit(*in) && token_at(in)) {
            // out <= in always: the replacement is shorter than the token.
            std::memcpy(out, kReplacement, kReplacementLength);
            out += kReplacementLength;
            in += kHetuLength;
            ++replaced;
            boundary = false;  // the token's last character was alphanumeric
            continue;
        }
        boundary = !is_alnum(*in);
        *out++ = *in++;
    }
    *out = '\0';
    return replaced;
}

void install() noexcept {
    previous_hook = emit_log_hook;
    emit_log_hook = emit_log;
}

}  // namespace pgvtj::log_redact

// vtj._raise(sqlstate text, message text, hint text DEFAULT NULL) RETURNS void:
// raises ERROR with that SQLSTATE, message and hint, without DETAIL or
// CONTEXT, marked errhidestmt (no STATEMENT line in the server log). The
// error is raised under pg_guard and re-raised at the edge, which strips what
// the PL/pgSQL callers' context callbacks added (their source lines) and
// hides statement and context. A malformed SQLSTATE becomes XX000. Internal:
// EXECUTE granted to nobody (the extension's SECURITY DEFINER functions call
// it as its owner).
PG_VTJ_FUNCTION(vtj_raise) {
    int code = ERRCODE_INTERNAL_ERROR;
    if (!PG_ARGISNULL(0)) {
        const std::string state = pgvtj::text_to_string(PG_GETARG_TEXT_PP(0));
        bool ok = state.size() == 5;
        for (char c : state)
            ok = ok && ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'));
        if (ok && state.compare(0, 2, "00") != 0)  // never "successful completion"
            code = MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]);
    }
    const std::string message =
        PG_ARGISNULL(1) ? std::string("pg_vtj error") : pgvtj::text_to_string(PG_GETARG_TEXT_PP(1));
    const std::string hint = PG_ARGISNULL(2) ? std::string() : pgvtj::text_to_string(PG_GETARG_TEXT_PP(2));
    const char* msg = message.c_str();
    const char* hnt = hint.empty() ? nullptr : hint.c_str();
    pgvtj::pg_guard([&] {
        ereport(ERROR, (errcode(code), errmsg("%s", msg), hnt ? errhint("%s", hnt) : 0, errhidestmt(true),
                        errhidecontext(true)));
    });
    return (Datum)0;  // not reached: pg_guard threw the error on as a PgError
}

// vtj._log_redact(text) RETURNS text: the text as the hook would write it to
// the server log (for the tests of the token rules). STRICT; internal.
PG_VTJ_FUNCTION(vtj_log_redact) {
    const text* in = PG_GETARG_TEXT_PP(0);
    const size_t len = VARSIZE_ANY_EXHDR(in);
    char* buf = static_cast<char*>(pgvtj::pg_guard([&] { return palloc(len + 1); }));
    std::memcpy(buf, VARDATA_ANY(in), len);
    buf[len] = '\0';  // an embedded NUL (impossible in text) would end the text early
    pgvtj::log_redact::redact_in_place(buf);
    text* out = pgvtj::pg_guard([&] { return cstring_to_text(buf); });
    PG_RETURN_TEXT_P(out);
}
