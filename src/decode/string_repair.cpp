#include "common/cpp_only.hpp"

#include "decode/string_repair.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace vtj::decode::detail {

std::size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) return 1;
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 == 0xE0) return cont(1, 0xA0, 0xBF) && cont(2) ? 3 : 0;
  if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (b0 == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
  if (b0 == 0xF0) return cont(1, 0x90, 0xBF) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xF1 && b0 <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

namespace {

int hex_value(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads 4 hex digits at p (bounds checked); -1 if not 4 hex digits.
long hex4(const unsigned char* p, const unsigned char* end) noexcept {
  if (end - p < 4) return -1;
  long v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = hex_value(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// Scans the string whose opening quote is at s[i]. Returns the index of the
// closing quote (or len if unclosed) and sets `bad` when the content has
// invalid UTF-8, a raw control character or an invalid escape.
std::size_t scan_string(const unsigned char* s, std::size_t len, std::size_t i, bool& bad) noexcept {
  const unsigned char* end = s + len;
  std::size_t j = i + 1;
  while (j < len) {
    const unsigned char b = s[j];
    if (b == '"') return j;
    if (b == '\\') {
      if (j + 1 >= len) return len;
      const unsigned char e = s[j + 1];
      switch (e) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          j += 2;
          continue;
        case 'u': {
          const long cp = hex4(s + j + 2, end);
          if (cp < 0) { bad = true; j += 2; continue; }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = -1;
            if (j + 7 < len && s[j + 6] == '\\' && s[j + 7] == 'u') lo = hex4(s + j + 8, end);
            if (lo >= 0xDC00 && lo <= 0xDFFF) { j += 12; continue; }
            bad = true;
            j += 6;
            continue;
          }
          if (cp >= 0xDC00 && cp <= 0xDFFF) bad = true;
          j += 6;
          continue;
        }
        default:
          bad = true;  // invalid escape: skip the backslash only
          j += 1;
          continue;
      }
    }
    if (b < 0x20) { bad = true; ++j; continue; }
    if (b < 0x80) { ++j; continue; }
    const std::size_t n = utf8_sequence_length(s + j, end);
    if (n == 0) { bad = true; ++j; continue; }
    j += n;
  }
  return len;
}

bool is_number_char(unsigned char c) noexcept {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// Whether simdjson can represent the number token t (grammar + range).
bool number_ok(const char* t, std::size_t n) noexcept {
  std::size_t i = 0;
  const bool neg = i < n && t[i] == '-';
  if (neg) ++i;
  const std::size_t int_start = i;
  if (i < n && t[i] == '0') {
    ++i;
  } else if (i < n && t[i] >= '1' && t[i] <= '9') {
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
  } else {
    return false;
  }
  const std::size_t int_end = i;
  bool is_int = true;
  if (i < n && t[i] == '.') {
    is_int = false;
    ++i;
    const std::size_t f = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == f) return false;
  }
  long exp = 0;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    is_int = false;
    ++i;
    bool eneg = false;
    if (i < n && (t[i] == '+' || t[i] == '-')) eneg = t[i++] == '-';
    const std::size_t e = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') {
      if (exp < 100000) exp = exp * 10 + (t[i] - '0');
      ++i;
    }
    if (i == e) return false;
    if (eneg) exp = -exp;
  }
  if (i != n) return false;
  if (is_int) {
    const std::size_t digits = int_end - int_start;
    if (digits < 19) return true;
    if (neg) {
      std::int64_t v = 0;
      auto r = std::from_chars(t, t + n, v);
      return r.ec == std::errc() && r.ptr == t + n;
    }
    std::uint64_t v = 0;
    auto r = std::from_chars(t, t + n, v);
    return r.ec == std::errc() && r.ptr == t + n;
  }
  // Decimal exponent of the leading significant digit.
  long lead = 0;
  bool nonzero = false;
  std::size_t k = int_start;
  for (; k < int_end; ++k) {
    if (t[k] != '0') { nonzero = true; lead = static_cast<long>(int_end - k) - 1; break; }
  }
  if (!nonzero) {
    // 0.000ddd: find the first non-zero fraction digit
    std::size_t f = int_end + 1;
    long pos = -1;
    for (; f < n && t[f] >= '0' && t[f] <= '9'; ++f, --pos) {
      if (t[f] != '0') { nonzero = true; lead = pos; break; }
    }
  }
  if (!nonzero) return true;  // zero
  const long e10 = lead + exp;
  if (e10 < 308) return true;  // underflow to 0 / subnormal is fine
  if (e10 > 308) return false;
  // Borderline: the value itself decides (1.7976931348623157e308 is fine).
  double d = 0;
  auto r = std::from_chars(t, t + n, d);
  return r.ec == std::errc();
}

}  // namespace

RepairResult repair_lexical_errors(char* cbuf, std::size_t len, std::string_view records_key) {
  RepairResult res;
  auto* buf = reinterpret_cast<unsigned char*>(cbuf);
  std::size_t depth = 0;
  bool top_is_object = false;
  bool d1_expect_key = false;
  bool d1_key_is_records = false;   // last key read at depth 1
  bool d1_records_value = false;    // ':' after the records key seen
  bool in_records = false;          // inside the record array (depth >= 2)
  bool awaiting_element = false;    // next value at depth 2 starts an element
  long element = -1;

  auto start_value = [&]() {
    if (in_records && depth == 2 && awaiting_element) {
      ++element;
      awaiting_element = false;
      res.taint.push_back(Taint::None);
    }
  };
  auto mark = [&](Taint t) {
    if (in_records && element >= 0 && depth >= 2) {
      auto& slot = res.taint[static_cast<std::size_t>(element)];
      slot = static_cast<Taint>(static_cast<unsigned char>(slot) | static_cast<unsigned char>(t));
      ++res.repaired;
      return true;
    }
    res.outside_records = true;
    return false;
  };

  std::size_t i = 0;
  while (i < len) {
    const unsigned char c = buf[i];
    switch (c) {
      case ' ': case '\t': case '\n': case '\r':
        ++i;
        break;
      case '"': {
        start_value();
        bool bad = false;
        const std::size_t close = scan_string(buf, len, i, bad);
        if (close >= len) {  // unclosed string: truncated or broken page
          res.outside_records = true;
          return res;
        }
        if (depth == 1 && top_is_object && d1_expect_key) {
          d1_key_is_records = !bad && std::string_view(cbuf + i + 1, close - i - 1) == records_key;
        }
        d1_records_value = false;
        if (bad && mark(Taint::String)) std::memset(buf + i + 1, '?', close - i - 1);
        i = close + 1;
        break;
      }
      case '{': case '[':
        start_value();
        ++depth;
        if (depth == 1) {
          top_is_object = c == '{';
          d1_expect_key = true;
        } else if (depth == 2 && c == '[' && d1_records_value) {
          in_records = true;
          awaiting_element = true;
          element = -1;
          res.taint.clear();
        }
        d1_records_value = false;
        ++i;
        break;
      case '}': case ']':
        if (depth == 0) { res.outside_records = true; return res; }
        if (depth == 2 && in_records) in_records = false;
        --depth;
        ++i;
        break;
      case ':':
        if (depth == 1) {
          d1_expect_key = false;
          d1_records_value = d1_key_is_records;
        }
        ++i;
        break;
      case ',':
        if (depth == 1) { d1_expect_key = true; d1_records_value = false; }
        if (depth == 2 && in_records) awaiting_element = true;
        ++i;
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          start_value();
          d1_records_value = false;
          std::size_t j = i;
          while (j < len && is_number_char(buf[j])) ++j;
          if (!number_ok(cbuf + i, j - i) && mark(Taint::Number)) {
            buf[i] = '0';
            std::memset(buf + i + 1, ' ', j - i - 1);
          }
          i = j;
        } else if (c >= 'a' && c <= 'z') {  // true / false / null (checked by simdjson)
          start_value();
          d1_records_value = false;
          while (i < len && buf[i] >= 'a' && buf[i] <= 'z') ++i;
        } else {
          res.outside_records = true;  // stray byte outside strings
          ++i;
        }
        break;
    }
  }
  if (!top_is_object) res.outside_records = true;
  return res;
}

}  // namespace vtj::decode::detail
