// Transactions and SPI for code that runs outside a client's transaction: the
// run worker. Every call goes through pg_guard, so a PostgreSQL error becomes
// a PgError and the transaction is rolled back before it propagates.
//
//   pgvtj::xact::run([&] {
//       auto n = pgvtj::xact::exec("UPDATE ... WHERE id = $1", {pgvtj::xact::int8(id)});
//   });
//
// No transaction is open outside run(): HTTP waits happen between runs.
#pragma once

#include "pg/boundary.hpp"

extern "C" {
#include "access/xact.h"
#include "executor/spi.h"
#include "utils/snapmgr.h"
}

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace pgvtj::xact {

struct Param {
    Oid type;
    Datum value;
    bool isnull;
};

inline Param int8(int64_t v) { return {INT8OID, Int64GetDatum(v), false}; }
inline Param int4(int32_t v) { return {INT4OID, Int32GetDatum(v), false}; }
inline Param boolean(bool v) { return {BOOLOID, BoolGetDatum(v), false}; }
inline Param null_of(Oid type) { return {type, (Datum)0, true}; }
// palloc'd text in the current (transaction) memory context.
Param text(const std::string& v);
Param opt_text(const std::optional<std::string>& v);
// A datum built by the caller (e.g. an array), with its type.
inline Param datum(Oid type, Datum v) { return {type, v, false}; }

// Runs `body` in its own transaction with a snapshot and SPI connected, then
// commits. Any exception rolls the transaction back and propagates.
void run(const std::function<void()>& body);

// Executes one statement (its plan is prepared once per process and kept).
// Returns SPI_processed; rows are read with the accessors below until the
// next exec.
uint64_t exec(const char* sql, std::initializer_list<Param> params = {}, bool read_only = false);

uint64_t rows();
std::optional<int64_t> get_int8(uint64_t row, int col);
std::optional<int32_t> get_int4(uint64_t row, int col);
std::optional<bool> get_bool(uint64_t row, int col);
std::optional<std::string> get_text(uint64_t row, int col);
// The column as a Datum (valid until the transaction ends).
Datum get_datum(uint64_t row, int col, bool* isnull);

// Text array helpers for the bulk transfer.
Datum text_array(const std::vector<std::string>& values);
std::vector<std::string> text_array_values(Datum array);

}  // namespace pgvtj::xact
