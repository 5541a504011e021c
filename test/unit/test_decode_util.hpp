// Helpers shared by the decoder tests (test/unit/test_decode*.cpp).
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "decode/decoder.hpp"

namespace vtj_test {

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open test file " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline std::string data_path(const std::string& name) {
  return std::string(VTJ_SOURCE_DIR) + "/test/unit/data/" + name;
}

/// The sandbox capture: the project's byte-identical copy, else shared/.
inline std::string fixture_text() {
  try {
    return read_file(data_path("dvv-sandbox/perustiedot-response.json"));
  } catch (const std::exception&) {
    return read_file(std::string(VTJ_SHARED_DIR) + "/fixtures/dvv-sandbox/perustiedot-response.json");
  }
}

/// Replaces the first occurrence of `from` after `after` (must exist).
inline std::string replace_once(std::string s, const std::string& from, const std::string& to,
                                const std::string& after = "") {
  std::size_t start = after.empty() ? 0 : s.find(after);
  if (start == std::string::npos) throw std::runtime_error("anchor not found: " + after);
  const std::size_t p = s.find(from, start);
  if (p == std::string::npos) throw std::runtime_error("text not found: " + from);
  s.replace(p, from.size(), to);
  return s;
}

inline const vtj::decode::PersonRecord* find_person(const std::vector<vtj::decode::PersonRecord>& recs,
                                                    const std::string& hetu) {
  for (const auto& r : recs)
    if (r.henkilotunnus == hetu) return &r;
  return nullptr;
}

inline std::vector<const vtj::decode::Group*> groups_of(const vtj::decode::PersonRecord& r,
                                                        vtj::decode::GroupKind k) {
  std::vector<const vtj::decode::Group*> out;
  for (const auto& g : r.tietoryhmat)
    if (g.kind == k) out.push_back(&g);
  return out;
}

inline vtj::decode::Date ymd(int y, int m, int d,
                             vtj::decode::Tarkkuus t = vtj::decode::Tarkkuus::Paiva) {
  vtj::decode::Date x;
  x.year = static_cast<std::int16_t>(y);
  x.month = static_cast<std::uint8_t>(m);
  x.day = static_cast<std::uint8_t>(d);
  x.tarkkuus = t;
  return x;
}

}  // namespace vtj_test
