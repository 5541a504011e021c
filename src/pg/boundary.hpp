// The C++/PostgreSQL boundary. Two rules, two tools:
//
// 1. No C++ exception crosses into PostgreSQL. Every SQL-callable function is
//    written with PG_VTJ_FUNCTION(name) { ... }: its body runs inside
//    call_cpp(), which catches everything, lets the C++ frames unwind, and only
//    then raises ereport (or re-raises a PostgreSQL error with its SQLSTATE).
//
// 2. No PostgreSQL longjmp crosses C++ frames with destructors. C++ code calls
//    into PostgreSQL through pg_guard([&]{ ... }): a PostgreSQL ERROR inside is
//    caught with PG_TRY, copied, and thrown on as a PgError. The lambda itself
//    must hold no objects with destructors.
//
// Errors that reach the edge lose DETAIL and CONTEXT (they can carry key
// values, i.e. hetus) and are marked errhidestmt (product.md §8).
#pragma once

#include "pg/pg_headers.hpp"

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace pgvtj {

// A PostgreSQL error caught by pg_guard, on its way to the edge.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* edata) : edata_(edata) {}
    const char* what() const noexcept override;
    ErrorData* data() const noexcept { return edata_; }
    int sqlstate() const noexcept { return edata_ ? edata_->sqlerrcode : ERRCODE_INTERNAL_ERROR; }

private:
    ErrorData* edata_;  // palloc'd in the caller's memory context
};

// An error C++ code raises on purpose; becomes ereport(ERROR) at the edge.
class SqlError : public std::runtime_error {
public:
    SqlError(int sqlstate, const std::string& message, const std::string& hint = std::string(),
             const std::string& detail = std::string())
        : std::runtime_error(message), sqlstate_(sqlstate), hint_(hint), detail_(detail) {}
    int sqlstate() const noexcept { return sqlstate_; }
    const std::string& hint() const noexcept { return hint_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    int sqlstate_;
    std::string hint_;
    std::string detail_;
};

// What the edge keeps of a caught exception: plain buffers, nothing with a
// destructor, so ereport can longjmp over it.
struct EdgeError {
    bool set = false;
    ErrorData* pg = nullptr;
    int sqlstate = 0;
    char message[1024] = {0};
    char hint[512] = {0};
    char detail[512] = {0};
};

// Fills `out` from the exception in flight. Call only inside a catch block.
void capture_current_exception(EdgeError& out) noexcept;

// Raises `err` as a PostgreSQL error. Call only once no C++ frame with a
// destructor is left between here and PostgreSQL.
[[noreturn]] void raise_edge_error(EdgeError& err);

template <typename Impl>
Datum call_cpp(Impl impl, FunctionCallInfo fcinfo) {
    EdgeError err;
    Datum result = (Datum)0;
    try {
        result = impl(fcinfo);
    } catch (...) {
        capture_current_exception(err);
    }
    if (err.set)
        raise_edge_error(err);
    return result;
}

// The one PG_TRY of the guard: runs `body` (a void callable) and turns a
// PostgreSQL error into a PgError after the longjmp has landed here.
template <typename Body>
void guarded_call(Body& body) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile caught = nullptr;
    PG_TRY();
    {
        body();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        caught = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (caught)
        throw PgError(caught);
}

template <typename Func>
auto pg_guard(Func&& func) -> decltype(func()) {
    using Result = decltype(func());
    static_assert(std::is_void_v<Result> || std::is_trivially_destructible_v<Result>,
                  "pg_guard returns only trivially destructible values");
    if constexpr (std::is_void_v<Result>) {
        guarded_call(func);
    } else {
        Result result{};
        auto assign = [&] { result = func(); };
        guarded_call(assign);
        return result;
    }
}

// Text helpers that never throw into PostgreSQL.
std::string text_to_string(const text* t);
text* string_to_text(const std::string& s);  // palloc; call from the edge or under pg_guard

}  // namespace pgvtj

// Declares an SQL-callable function whose body runs behind the boundary:
//
//   PG_VTJ_FUNCTION(vtj_hetu_valid) { ... return BoolGetDatum(ok); }
#define PG_VTJ_FUNCTION(name)                                               \
    extern "C" {                                                            \
    PG_FUNCTION_INFO_V1(name);                                              \
    }                                                                       \
    static Datum name##_impl(FunctionCallInfo fcinfo);                      \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                               \
        return pgvtj::call_cpp(name##_impl, fcinfo);                        \
    }                                                                       \
    static Datum name##_impl([[maybe_unused]] FunctionCallInfo fcinfo)
