// vtj._selftest_boundary(kind text): forces errors across the C++/PostgreSQL
// boundary in both directions so the tests can see what the edge makes of
// them. Superuser-only (EXECUTE is revoked from everyone; see 95_selftest.sql).
#include "pg/boundary.hpp"

extern "C" {
#include "executor/spi.h"
}

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

// Counts destructors that ran while a PostgreSQL error travelled up as a C++
// exception: proof that no longjmp skipped them.
int destructors_run = 0;

struct Witness {
    ~Witness() { ++destructors_run; }
};

[[noreturn]] void raise_pg_error_with_detail() {
    ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("forced PostgreSQL error"),
                    errdetail("this detail must not reach the client"),
                    errhint("forced hint")));
    pg_unreachable();
}

void run_failing_spi() {
    pgvtj::pg_guard([] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
    });
    // SELECT from a missing table: the error is thrown inside SPI.
    pgvtj::pg_guard([] { SPI_execute("SELECT * FROM vtj.no_such_table_for_selftest", true, 1); });
    pgvtj::pg_guard([] { SPI_finish(); });
}

}  // namespace

PG_VTJ_FUNCTION(vtj_selftest_boundary) {
    std::string kind = pgvtj::text_to_string(PG_GETARG_TEXT_PP(0));

    if (kind == "ok")
        return Int32GetDatum(destructors_run);
    if (kind == "cpp_exception")
        throw std::runtime_error("forced C++ exception");
    if (kind == "sql_error")
        throw pgvtj::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "forced SQL error", "forced hint");
    if (kind == "bad_alloc")
        throw std::bad_alloc();
    if (kind == "unknown_exception")
        throw 42;
    if (kind == "pg_error") {
        // A PostgreSQL error inside a guarded call, with C++ objects alive
        // around it: they must be destroyed, and the error must reach the
        // client with its SQLSTATE and without DETAIL.
        auto witness = std::make_unique<Witness>();
        std::vector<std::string> alive(3, "some heap text that a longjmp would leak");
        pgvtj::pg_guard([] { raise_pg_error_with_detail(); });
        return Int32GetDatum(-1);  // not reached
    }
    if (kind == "spi_error") {
        Witness witness;
        run_failing_spi();
        return Int32GetDatum(-1);
    }
    if (kind == "pg_error_caught") {
        // C++ code may catch a PostgreSQL error and carry on.
        try {
            pgvtj::pg_guard([] { raise_pg_error_with_detail(); });
        } catch (const pgvtj::PgError& e) {
            if (e.sqlstate() != ERRCODE_DIVISION_BY_ZERO)
                throw std::runtime_error("wrong SQLSTATE inside C++");
            return Int32GetDatum(1);
        }
        return Int32GetDatum(0);
    }
    if (kind == "destructors")
        return Int32GetDatum(destructors_run);
    throw pgvtj::SqlError(ERRCODE_INVALID_PARAMETER_VALUE, "unknown selftest kind");
}
