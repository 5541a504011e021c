// Page decoders for VTJ-muutosrajapinta responses (vtj-api.md §2-§7).
//
//   vtj::decode::Decoder dec;                      // reuse across pages
//   dec.decode_changes(Input{buf, len, cap}, sink); // streaming, or
//   ChangesPage page = dec.decode_changes(input);  // collected
//
// Contract
// * The whole page is parsed and its structure validated before the sink
//   sees anything: a malformed page (not JSON, truncated, top level not an
//   object, `viimeisinKirjausavain` / `ajanTasalla` / `muutokset` /
//   `perustiedot` missing or of the wrong type, duplicate top-level keys)
//   throws PageError and the sink gets no call at all.
// * Otherwise the sink gets on_header() once, then for every element of the
//   record array, in order, exactly one of on_record() / on_error().
// * A malformed person record (wrong types, missing or misshapen
//   henkilotunnus, bad date or muutospv, a string with NUL, invalid UTF-8 or a
//   raw control character, an unknown muutosattribuutti, ...) is a
//   RecordError for that element only; the others decode normally.
// * Nothing the decoder throws or reports contains input content.
// * Exceptions: PageError for bad input; std::bad_alloc; whatever the sink
//   throws propagates unchanged (the page is then abandoned).
//
// Not thread-safe: one Decoder per thread. Records passed to the sink are the
// sink's to keep (move from them); the decoder reuses the object afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "decode/records.hpp"

namespace vtj::decode {

/// Bytes of readable slack the parser needs after the JSON (equals
/// simdjson's SIMDJSON_PADDING, checked at compile time in decoder.cpp).
inline constexpr std::size_t kPadding = 64;

/// The bytes of one response body. Zero-copy when `capacity - size >=
/// kPadding`, i.e. the buffer the JSON lives in has at least kPadding more
/// readable bytes after the JSON (their values do not matter); otherwise the
/// decoder copies the body into a reused internal buffer (correct, slower).
/// The bytes must stay unchanged during the call; they are never written.
struct Input {
  const char* data = nullptr;
  std::size_t size = 0;
  std::size_t capacity = 0;  // readable bytes starting at data (>= size)

  Input() = default;
  Input(const char* d, std::size_t s, std::size_t cap) noexcept
      : data(d), size(s), capacity(cap < s ? s : cap) {}
  /// Unpadded bytes: always copied.
  explicit Input(std::string_view s) noexcept : data(s.data()), size(s.size()), capacity(s.size()) {}
  /// Anything with data()/size()/capacity(): simdjson::padded_string_view,
  /// std::string, a std::vector<char> the wire client received into.
  template <class Buf,
            class = decltype(std::declval<const Buf&>().capacity()),
            class = decltype(std::declval<const Buf&>().data()),
            class = std::enable_if_t<!std::is_same_v<std::decay_t<Buf>, Input>>>
  Input(const Buf& b) noexcept  // NOLINT(google-explicit-constructor)
      : Input(reinterpret_cast<const char*>(b.data()), b.size(), b.capacity()) {}
  /// The caller promises kPadding readable bytes after data + size.
  static Input padded(const char* d, std::size_t s) noexcept { return Input(d, s, s + kPadding); }
};

/// A malformed page. The message is a fixed, content-free text.
class PageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class PageKind : std::uint8_t { Changes, Base };

/// Top-level fields of a page, delivered before any record.
struct PageHeader {
  PageKind kind = PageKind::Changes;
  std::int64_t viimeisin_kirjausavain = -1;  // /muutokset only (>= 0), else -1
  bool ajan_tasalla = false;
  std::size_t record_count = 0;              // elements in the record array
};

/// Streaming consumer. Called in order: on_header, then per element
/// on_record or on_error. The record may be moved from.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void on_header(const PageHeader& header) { (void)header; }
  virtual void on_record(PersonRecord&& record) = 0;
  virtual void on_error(RecordError&& error) = 0;
};

/// Unknown group name -> number of entries in the page (records in error not
/// counted).
using UnknownGroupCounts = std::map<std::string, std::uint64_t, std::less<>>;

struct PageStats {
  std::size_t records = 0;        // decoded person records
  std::size_t errors = 0;         // RecordErrors
  std::size_t known_groups = 0;   // entries of the 18 groups (top level)
  std::size_t censored_groups = 0;
  std::size_t unknown_groups = 0;
  UnknownGroupCounts unknown_group_counts;
  bool utf8_repaired = false;     // the invalid-string isolation path ran
  std::size_t bytes = 0;
};

struct ChangesPage {
  std::int64_t viimeisin_kirjausavain = -1;
  bool ajan_tasalla = false;
  std::vector<PersonRecord> records;
  std::vector<RecordError> errors;
  PageStats stats;
};

struct BasePage {
  bool ajan_tasalla = false;
  std::vector<PersonRecord> records;
  std::vector<RecordError> errors;
  PageStats stats;
};

/// Holds the simdjson parser and scratch buffers; reuse it for every page so
/// steady-state decoding does not reallocate parser memory. After a page
/// larger than kRetainBytes the parser memory is released again, so one huge
/// page does not pin its memory for the life of the process.
class Decoder {
 public:
  static constexpr std::size_t kRetainBytes = std::size_t(32) << 20;

  Decoder();
  ~Decoder();
  Decoder(Decoder&&) noexcept;
  Decoder& operator=(Decoder&&) noexcept;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  /// `POST /muutokset` response.
  void decode_changes(Input in, RecordSink& sink);
  ChangesPage decode_changes(Input in);
  /// `POST /perustiedot` (and `/perustiedot-vko`) response.
  void decode_base(Input in, RecordSink& sink);
  BasePage decode_base(Input in);
  /// `GET /kirjausavain/{date}` response `{"viimeisinKirjausavain": n}`,
  /// n a non-negative int64. Throws PageError.
  std::int64_t decode_start_key(Input in);

  /// Statistics of the last page decoded (also filled when it threw).
  const PageStats& last_stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// One-shot conveniences (a temporary Decoder each: prefer a Decoder).
ChangesPage decode_changes(Input in);
BasePage decode_base(Input in);
std::int64_t decode_start_key(Input in);

/// The keys kept in Edunvalvonta::tiedot (at any depth).
const std::vector<std::string_view>& edunvalvonta_allowed_keys();

/// True if s has the hetu shape ^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]$
/// (no date or check-character test).
bool hetu_shape_ok(std::string_view s) noexcept;

}  // namespace vtj::decode
