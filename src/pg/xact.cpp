#include "pg/xact.hpp"

extern "C" {
#include "pgstat.h"
#include "utils/array.h"
}

#include <unordered_map>

namespace pgvtj::xact {

namespace {

// Plans kept for the life of the process, keyed by the SQL text's address
// (every caller passes a string literal).
std::unordered_map<const char*, SPIPlanPtr>& plan_cache() {
    static std::unordered_map<const char*, SPIPlanPtr> plans;
    return plans;
}

}  // namespace

Param text(const std::string& v) {
    Datum d = pg_guard([&] { return PointerGetDatum(cstring_to_text_with_len(v.data(), (int)v.size())); });
    return {TEXTOID, d, false};
}

Param opt_text(const std::optional<std::string>& v) {
    return v ? text(*v) : null_of(TEXTOID);
}

void run(const std::function<void()>& body) {
    pg_guard([] {
        SetCurrentStatementStartTimestamp();
        StartTransactionCommand();
        PushActiveSnapshot(GetTransactionSnapshot());
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "pg_vtj: SPI_connect failed");
    });
    try {
        body();
        pg_guard([] {
            SPI_finish();
            PopActiveSnapshot();
            CommitTransactionCommand();
            pgstat_report_stat(false);
        });
    } catch (...) {
        pg_guard([] { AbortCurrentTransaction(); });
        throw;
    }
}

uint64_t exec(const char* sql, std::initializer_list<Param> params, bool read_only) {
    const int n = static_cast<int>(params.size());
    Oid types[32];
    Datum values[32];
    char nulls[32];
    if (n > 32)
        throw std::invalid_argument("too many SPI parameters");
    int i = 0;
    for (const auto& p : params) {
        types[i] = p.type;
        values[i] = p.value;
        nulls[i] = p.isnull ? 'n' : ' ';
        ++i;
    }
    auto& plans = plan_cache();
    auto it = plans.find(sql);
    SPIPlanPtr plan = it == plans.end() ? nullptr : it->second;
    if (!plan) {
        plan = pg_guard([&] {
            SPIPlanPtr p = SPI_prepare(sql, n, types);
            if (!p)
                elog(ERROR, "pg_vtj: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
            SPI_keepplan(p);
            return p;
        });
        plans.emplace(sql, plan);
    }
    int rc = pg_guard([&] { return SPI_execute_plan(plan, values, nulls, read_only, 0); });
    if (rc < 0)
        throw std::runtime_error(std::string("SPI_execute_plan failed: ") + SPI_result_code_string(rc));
    return SPI_processed;
}

uint64_t rows() { return SPI_processed; }

Datum get_datum(uint64_t row, int col, bool* isnull) {
    return pg_guard([&] { return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull); });
}

std::optional<int64_t> get_int8(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_datum(row, col, &isnull);
    if (isnull)
        return std::nullopt;
    return DatumGetInt64(d);
}

std::optional<int32_t> get_int4(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_datum(row, col, &isnull);
    if (isnull)
        return std::nullopt;
    return DatumGetInt32(d);
}

std::optional<bool> get_bool(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_datum(row, col, &isnull);
    if (isnull)
        return std::nullopt;
    return DatumGetBool(d);
}

std::optional<std::string> get_text(uint64_t row, int col) {
    bool isnull = false;
    Datum d = get_datum(row, col, &isnull);
    if (isnull)
        return std::nullopt;
    ::text* t = pg_guard([&] { return reinterpret_cast<::text*>(PG_DETOAST_DATUM_PACKED(d)); });
    return text_to_string(t);
}

Datum text_array(const std::vector<std::string>& values) {
    std::vector<Datum> elems;
    elems.reserve(values.size());
    for (const auto& v : values)
        elems.push_back(pg_guard([&] { return PointerGetDatum(cstring_to_text_with_len(v.data(), (int)v.size())); }));
    return pg_guard([&] {
        return PointerGetDatum(construct_array(elems.data(), (int)elems.size(), TEXTOID, -1, false, TYPALIGN_INT));
    });
}

std::vector<std::string> text_array_values(Datum array) {
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pg_guard([&] {
        deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count);
    });
    std::vector<std::string> out;
    out.reserve(count);
    for (int i = 0; i < count; ++i)
        if (!nulls[i])
            out.push_back(text_to_string(reinterpret_cast<::text*>(pg_guard([&] { return DatumGetPointer(PointerGetDatum(PG_DETOAST_DATUM_PACKED(elems[i]))); }))));
    return out;
}

}  // namespace pgvtj::xact
