// SQL functions over the hetu rules of src/hetu.
#include "pg/boundary.hpp"
#include "pg/settings.hpp"

#include "hetu/hetu.hpp"

#include <string_view>
#include <vector>

namespace {

std::string_view text_view(const text* t) {
    return std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

vtj::hetu::Verdict verdict_of(const text* t) {
    return vtj::hetu::check(text_view(t), pgvtj::settings::allow_test_hetus);
}

}  // namespace

// vtj.hetu_valid(text) RETURNS boolean: the validation of vtj.add_person,
// without raising. STRICT.
PG_VTJ_FUNCTION(vtj_hetu_valid) {
    const text* code = PG_GETARG_TEXT_PP(0);
    return BoolGetDatum(verdict_of(code) == vtj::hetu::Verdict::Valid);
}

// vtj._hetu_problem(text) RETURNS text: NULL when valid, else the sentence
// naming the failing rule (no part of the input). STRICT.
PG_VTJ_FUNCTION(vtj_hetu_problem) {
    const text* code = PG_GETARG_TEXT_PP(0);
    auto verdict = verdict_of(code);
    if (verdict == vtj::hetu::Verdict::Valid)
        PG_RETURN_NULL();
    return PointerGetDatum(cstring_to_text(vtj::hetu::describe(verdict)));
}

// vtj._hetu_invalid_positions(text[]) RETURNS int[]: 1-based positions of
// invalid (or NULL) elements, in order; empty when all are valid. One pass in
// C++ so a 100,000-element bulk add costs milliseconds.
PG_VTJ_FUNCTION(vtj_hetu_invalid_positions) {
    ArrayType* codes = PG_GETARG_ARRAYTYPE_P(0);
    if (ARR_NDIM(codes) > 1)
        throw pgvtj::SqlError(ERRCODE_ARRAY_SUBSCRIPT_ERROR, "hetus must be a one-dimensional array");
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pgvtj::pg_guard([&] { deconstruct_array(codes, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &count); });
    std::vector<Datum> bad;
    for (int i = 0; i < count; ++i) {
        const bool invalid = nulls[i] || verdict_of(reinterpret_cast<const text*>(
                                              pgvtj::pg_guard([&] { return DatumGetPointer(PointerGetDatum(PG_DETOAST_DATUM_PACKED(elems[i]))); }))) !=
                                              vtj::hetu::Verdict::Valid;
        if (invalid)
            bad.push_back(Int32GetDatum(i + 1));
    }
    ArrayType* result = pgvtj::pg_guard([&] {
        return construct_array(bad.data(), static_cast<int>(bad.size()), INT4OID, sizeof(int32), true, TYPALIGN_INT);
    });
    PG_RETURN_ARRAYTYPE_P(result);
}
