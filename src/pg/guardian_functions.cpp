// vtj._guardian_tiedot(jsonb): the merge's second filter of guardianship
// details (product.md §3). The allow-list is the decoder's own
// (vtj::decode::edunvalvonta_allowed_keys), so the two cannot drift apart.
// In C++ because the merge calls it for every EDUNVALVONTA entry it stores
// or journals: the recursive SQL version cost more than the rest of a change
// page's journal.
#include "pg/boundary.hpp"

#include "decode/decoder.hpp"

extern "C" {
#include "utils/jsonb.h"
}

#include <algorithm>
#include <string_view>

namespace {

bool allowed(const JsonbValue& key) noexcept {
    const auto& keys = vtj::decode::edunvalvonta_allowed_keys();
    const std::string_view k(key.val.string.val, static_cast<size_t>(key.val.string.len));
    return std::find(keys.begin(), keys.end(), k) != keys.end();
}

// Copies `in`, leaving out every object member whose key is not allowed
// (with its whole value), at any depth. Arrays and scalars are kept, so a
// top-level scalar comes back as it was. Runs inside pg_guard: nothing here
// has a destructor.
Jsonb* filter(Jsonb* in) {
    JsonbParseState* state = nullptr;
    JsonbValue* result = nullptr;
    JsonbValue v;
    JsonbIterator* it = JsonbIteratorInit(&in->root);
    JsonbIteratorToken tok;
    int skip_depth = 0;  // > 0 while inside the value of a dropped key
    bool skip_value = false;  // the next value belongs to a dropped key
    while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
        if (skip_depth > 0) {
            if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
                ++skip_depth;
            else if (tok == WJB_END_OBJECT || tok == WJB_END_ARRAY)
                --skip_depth;
            continue;
        }
        if (skip_value) {
            skip_value = false;
            if (tok == WJB_BEGIN_OBJECT || tok == WJB_BEGIN_ARRAY)
                skip_depth = 1;
            continue;  // a scalar value (WJB_VALUE) or the start of a dropped container
        }
        switch (tok) {
            case WJB_KEY:
                if (!allowed(v)) {
                    skip_value = true;
                    continue;
                }
                result = pushJsonbValue(&state, tok, &v);
                break;
            case WJB_BEGIN_OBJECT:
            case WJB_BEGIN_ARRAY:
                result = pushJsonbValue(&state, tok, &v);  // keeps rawScalar
                break;
            case WJB_END_OBJECT:
            case WJB_END_ARRAY:
                result = pushJsonbValue(&state, tok, nullptr);
                break;
            default:  // WJB_VALUE, WJB_ELEM
                result = pushJsonbValue(&state, tok, &v);
                break;
        }
    }
    return JsonbValueToJsonb(result);
}

}  // namespace

// vtj._guardian_tiedot(jsonb) RETURNS jsonb, STRICT IMMUTABLE.
PG_VTJ_FUNCTION(vtj_guardian_tiedot) {
    Jsonb* in = pgvtj::pg_guard([&] { return PG_GETARG_JSONB_P(0); });
    return pgvtj::pg_guard([&] { return JsonbPGetDatum(filter(in)); });
}
