// Isolation of lexically bad strings and numbers to the person records that
// contain them (decoder-internal).
//
// simdjson validates UTF-8, control characters, escapes and numbers for the
// whole document before any record can be read, so one person's broken name
// would fail the whole page. On such an error the decoder copies the page and
// calls repair_lexical_errors(): a scalar structural scan that finds every
// string holding invalid UTF-8, a raw control character or an invalid escape
// (and every number simdjson cannot represent), works out which element of the
// page's record array holds it, and overwrites it in the copy with harmless
// bytes (string content -> '?', number -> "0" and spaces). Those elements are
// then reported as RecordErrors whatever they decode to.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace vtj::decode::detail {

enum class Taint : unsigned char { None = 0, String = 1, Number = 2 };

struct RepairResult {
  /// A bad byte, string or number outside every element of the record array,
  /// an unclosed string, or no record array at all: the page stays malformed.
  bool outside_records = false;
  /// Per element of the record array (index = position): what was blanked.
  std::vector<Taint> taint;
  std::size_t repaired = 0;  // strings + numbers overwritten
};

/// Scans buf[0, len) (a JSON text whose top-level object has the record array
/// under `records_key`) and repairs it in place.
RepairResult repair_lexical_errors(char* buf, std::size_t len, std::string_view records_key);

/// Length of the valid UTF-8 sequence starting at p (< end), 0 if invalid.
std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept;

}  // namespace vtj::decode::detail
