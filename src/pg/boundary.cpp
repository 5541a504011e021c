#include "pg/boundary.hpp"

#include <cstring>
#include <new>

namespace pgvtj {

const char* PgError::what() const noexcept {
    return (edata_ && edata_->message) ? edata_->message : "PostgreSQL error";
}

static void copy_text(char* dst, size_t cap, const char* src) noexcept {
    if (!src)
        return;
    size_t n = std::strlen(src);
    if (n >= cap)
        n = cap - 1;
    std::memcpy(dst, src, n);
    dst[n] = '\0';
}

void capture_current_exception(EdgeError& out) noexcept {
    out.set = true;
    try {
        throw;
    } catch (const PgError& e) {
        out.pg = e.data();
    } catch (const SqlError& e) {
        out.sqlstate = e.sqlstate();
        copy_text(out.message, sizeof out.message, e.what());
        copy_text(out.hint, sizeof out.hint, e.hint().c_str());
        copy_text(out.detail, sizeof out.detail, e.detail().c_str());
    } catch (const std::bad_alloc&) {
        out.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_text(out.message, sizeof out.message, "out of memory in pg_vtj");
    } catch (const std::exception& e) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(out.message, sizeof out.message, e.what());
    } catch (...) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(out.message, sizeof out.message, "unknown C++ exception in pg_vtj");
    }
}

void raise_edge_error(EdgeError& err) {
    if (err.pg) {
        // A PostgreSQL error from below: keep its SQLSTATE, message and hint;
        // drop what can carry data (DETAIL holds key values, CONTEXT the
        // statement) and keep the statement out of the server log.
        ErrorData* edata = err.pg;
        edata->detail = nullptr;
        edata->detail_log = nullptr;
        edata->context = nullptr;
        edata->internalquery = nullptr;
        edata->internalpos = 0;
        edata->hide_stmt = true;
        edata->hide_ctx = true;
        ReThrowError(edata);
    }
    ereport(ERROR, (errcode(err.sqlstate), errmsg("%s", err.message),
                    err.hint[0] ? errhint("%s", err.hint) : 0,
                    err.detail[0] ? errdetail("%s", err.detail) : 0, errhidestmt(true)));
    pg_unreachable();
}

std::string text_to_string(const text* t) {
    return std::string(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

text* string_to_text(const std::string& s) {
    return cstring_to_text_with_len(s.data(), static_cast<int>(s.size()));
}

}  // namespace pgvtj
