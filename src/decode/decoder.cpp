#include "common/cpp_only.hpp"

#include "decode/decoder.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <new>

#include "decode/string_repair.hpp"

namespace vtj::decode {

static_assert(kPadding >= simdjson::SIMDJSON_PADDING, "kPadding must cover simdjson's padding");

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// ---------------------------------------------------------------------------
// Known field names (generated list; one switch on length + memcmp)
// ---------------------------------------------------------------------------
enum class F : std::uint8_t {
  unknown = 0,
  tietoryhma,
  muutosattribuutti,
  turvakiellonAlaisetKentat,
  voimassaolevatTiedot,
  aktiivinenHenkilotunnus,
  muutettuHenkilotunnus,
  edellisetHenkilotunnukset,
  voimassaolo,
  etunimi,
  sukunimi,
  etunimiUTF8,
  sukunimiUTF8,
  alkupv,
  loppupv,
  nimilaji,
  nimi,
  nimiUTF8,
  kielikoodi,
  kielikoodiISO6392,
  kuollut,
  kuolinpv,
  turvakieltoAktiivinen,
  turvaLoppuPv,
  turvaLoppupv,
  paatymispv,
  katunimi,
  katunumero,
  huoneistokirjain,
  huoneistonumero,
  jakokirjain,
  postinumero,
  postitoimipaikka,
  rakennustunnus,
  osoitenumero,
  kuntakoodi,
  postiosoite,
  postiosoiteLisarivi,
  lahiosoite,
  paikkakunta,
  valtiokoodi,
  valtionimi,
  kuntaanMuuttopv,
  kuntaanMuuttoPv,
};
F field_id(std::string_view k) noexcept {
  switch (k.size()) {
    case 4:
      if (std::memcmp(k.data(), "nimi", 4) == 0) return F::nimi;
      break;
    case 6:
      if (std::memcmp(k.data(), "alkupv", 6) == 0) return F::alkupv;
      break;
    case 7:
      if (std::memcmp(k.data(), "etunimi", 7) == 0) return F::etunimi;
      if (std::memcmp(k.data(), "loppupv", 7) == 0) return F::loppupv;
      if (std::memcmp(k.data(), "kuollut", 7) == 0) return F::kuollut;
      break;
    case 8:
      if (std::memcmp(k.data(), "sukunimi", 8) == 0) return F::sukunimi;
      if (std::memcmp(k.data(), "nimilaji", 8) == 0) return F::nimilaji;
      if (std::memcmp(k.data(), "nimiUTF8", 8) == 0) return F::nimiUTF8;
      if (std::memcmp(k.data(), "kuolinpv", 8) == 0) return F::kuolinpv;
      if (std::memcmp(k.data(), "katunimi", 8) == 0) return F::katunimi;
      break;
    case 10:
      if (std::memcmp(k.data(), "tietoryhma", 10) == 0) return F::tietoryhma;
      if (std::memcmp(k.data(), "kielikoodi", 10) == 0) return F::kielikoodi;
      if (std::memcmp(k.data(), "paatymispv", 10) == 0) return F::paatymispv;
      if (std::memcmp(k.data(), "katunumero", 10) == 0) return F::katunumero;
      if (std::memcmp(k.data(), "kuntakoodi", 10) == 0) return F::kuntakoodi;
      if (std::memcmp(k.data(), "lahiosoite", 10) == 0) return F::lahiosoite;
      if (std::memcmp(k.data(), "valtionimi", 10) == 0) return F::valtionimi;
      break;
    case 11:
      if (std::memcmp(k.data(), "voimassaolo", 11) == 0) return F::voimassaolo;
      if (std::memcmp(k.data(), "etunimiUTF8", 11) == 0) return F::etunimiUTF8;
      if (std::memcmp(k.data(), "jakokirjain", 11) == 0) return F::jakokirjain;
      if (std::memcmp(k.data(), "postinumero", 11) == 0) return F::postinumero;
      if (std::memcmp(k.data(), "postiosoite", 11) == 0) return F::postiosoite;
      if (std::memcmp(k.data(), "paikkakunta", 11) == 0) return F::paikkakunta;
      if (std::memcmp(k.data(), "valtiokoodi", 11) == 0) return F::valtiokoodi;
      break;
    case 12:
      if (std::memcmp(k.data(), "sukunimiUTF8", 12) == 0) return F::sukunimiUTF8;
      if (std::memcmp(k.data(), "turvaLoppuPv", 12) == 0) return F::turvaLoppuPv;
      if (std::memcmp(k.data(), "turvaLoppupv", 12) == 0) return F::turvaLoppupv;
      if (std::memcmp(k.data(), "osoitenumero", 12) == 0) return F::osoitenumero;
      break;
    case 14:
      if (std::memcmp(k.data(), "rakennustunnus", 14) == 0) return F::rakennustunnus;
      break;
    case 15:
      if (std::memcmp(k.data(), "huoneistonumero", 15) == 0) return F::huoneistonumero;
      if (std::memcmp(k.data(), "kuntaanMuuttopv", 15) == 0) return F::kuntaanMuuttopv;
      if (std::memcmp(k.data(), "kuntaanMuuttoPv", 15) == 0) return F::kuntaanMuuttoPv;
      break;
    case 16:
      if (std::memcmp(k.data(), "huoneistokirjain", 16) == 0) return F::huoneistokirjain;
      if (std::memcmp(k.data(), "postitoimipaikka", 16) == 0) return F::postitoimipaikka;
      break;
    case 17:
      if (std::memcmp(k.data(), "muutosattribuutti", 17) == 0) return F::muutosattribuutti;
      if (std::memcmp(k.data(), "kielikoodiISO6392", 17) == 0) return F::kielikoodiISO6392;
      break;
    case 19:
      if (std::memcmp(k.data(), "postiosoiteLisarivi", 19) == 0) return F::postiosoiteLisarivi;
      break;
    case 20:
      if (std::memcmp(k.data(), "voimassaolevatTiedot", 20) == 0) return F::voimassaolevatTiedot;
      break;
    case 21:
      if (std::memcmp(k.data(), "muutettuHenkilotunnus", 21) == 0) return F::muutettuHenkilotunnus;
      if (std::memcmp(k.data(), "turvakieltoAktiivinen", 21) == 0) return F::turvakieltoAktiivinen;
      break;
    case 23:
      if (std::memcmp(k.data(), "aktiivinenHenkilotunnus", 23) == 0) return F::aktiivinenHenkilotunnus;
      break;
    case 25:
      if (std::memcmp(k.data(), "turvakiellonAlaisetKentat", 25) == 0) return F::turvakiellonAlaisetKentat;
      if (std::memcmp(k.data(), "edellisetHenkilotunnukset", 25) == 0) return F::edellisetHenkilotunnukset;
      break;
    default:
      break;
  }
  return F::unknown;
}
const char* field_name(F f) noexcept {
  switch (f) {
    case F::tietoryhma: return "tietoryhma";
    case F::muutosattribuutti: return "muutosattribuutti";
    case F::turvakiellonAlaisetKentat: return "turvakiellonAlaisetKentat";
    case F::voimassaolevatTiedot: return "voimassaolevatTiedot";
    case F::aktiivinenHenkilotunnus: return "aktiivinenHenkilotunnus";
    case F::muutettuHenkilotunnus: return "muutettuHenkilotunnus";
    case F::edellisetHenkilotunnukset: return "edellisetHenkilotunnukset";
    case F::voimassaolo: return "voimassaolo";
    case F::etunimi: return "etunimi";
    case F::sukunimi: return "sukunimi";
    case F::etunimiUTF8: return "etunimiUTF8";
    case F::sukunimiUTF8: return "sukunimiUTF8";
    case F::alkupv: return "alkupv";
    case F::loppupv: return "loppupv";
    case F::nimilaji: return "nimilaji";
    case F::nimi: return "nimi";
    case F::nimiUTF8: return "nimiUTF8";
    case F::kielikoodi: return "kielikoodi";
    case F::kielikoodiISO6392: return "kielikoodiISO6392";
    case F::kuollut: return "kuollut";
    case F::kuolinpv: return "kuolinpv";
    case F::turvakieltoAktiivinen: return "turvakieltoAktiivinen";
    case F::turvaLoppuPv: return "turvaLoppuPv";
    case F::turvaLoppupv: return "turvaLoppupv";
    case F::paatymispv: return "paatymispv";
    case F::katunimi: return "katunimi";
    case F::katunumero: return "katunumero";
    case F::huoneistokirjain: return "huoneistokirjain";
    case F::huoneistonumero: return "huoneistonumero";
    case F::jakokirjain: return "jakokirjain";
    case F::postinumero: return "postinumero";
    case F::postitoimipaikka: return "postitoimipaikka";
    case F::rakennustunnus: return "rakennustunnus";
    case F::osoitenumero: return "osoitenumero";
    case F::kuntakoodi: return "kuntakoodi";
    case F::postiosoite: return "postiosoite";
    case F::postiosoiteLisarivi: return "postiosoiteLisarivi";
    case F::lahiosoite: return "lahiosoite";
    case F::paikkakunta: return "paikkakunta";
    case F::valtiokoodi: return "valtiokoodi";
    case F::valtionimi: return "valtionimi";
    case F::kuntaanMuuttopv: return "kuntaanMuuttopv";
    case F::kuntaanMuuttoPv: return "kuntaanMuuttoPv";
    case F::unknown: break;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Fixed, content-free reasons
// ---------------------------------------------------------------------------
namespace reason {
constexpr const char* kRecordNotObject = "person record is not a JSON object";
constexpr const char* kHetuMissing = "henkilotunnus is missing";
constexpr const char* kHetuType = "henkilotunnus is not a string";
constexpr const char* kHetuFormat = "henkilotunnus does not have the hetu format";
constexpr const char* kGroupsMissing = "tietoryhmat is missing";
constexpr const char* kBadTimestamp = "muutospv is not a valid ISO-8601 timestamp";
constexpr const char* kWrongType = "field has the wrong JSON type";
constexpr const char* kDuplicate = "field occurs twice";
constexpr const char* kNul = "string contains a NUL character";
constexpr const char* kBadString = "string with invalid UTF-8, a control character or a bad escape";
constexpr const char* kBadNumber = "number out of range or malformed";
constexpr const char* kGroupNotObject = "group entry is not a JSON object";
constexpr const char* kGroupNameMissing = "group entry has no tietoryhma";
constexpr const char* kGroupNameFormat = "tietoryhma is not a group identifier";
constexpr const char* kBadMuutos = "unknown muutosattribuutti value";
constexpr const char* kBadCensorList = "turvakiellonAlaisetKentat is not a list of field names";
constexpr const char* kNestedMismatch = "voimassaolevatTiedot entry of another group";
constexpr const char* kNestedTooDeep = "voimassaolevatTiedot inside voimassaolevatTiedot";
constexpr const char* kBadDate = "date is not a valid calendar date";
constexpr const char* kBadTarkkuus = "unknown date tarkkuus";
constexpr const char* kOutOfRange = "integer out of range";
constexpr const char* kBadEnum = "unknown code value";
constexpr const char* kBadHetuField = "identity code field does not have the hetu format";
}  // namespace reason

struct RecordFailure {
  const char* reason;
  const char* field;
};

[[noreturn]] void fail(const char* why, F f = F::unknown) { throw RecordFailure{why, field_name(f)}; }

bool key_is(std::string_view k, const char* lit, std::size_t n) noexcept {
  return k.size() == n && std::memcmp(k.data(), lit, n) == 0;
}
#define VTJ_KEY_IS(k, lit) key_is((k), lit, sizeof(lit) - 1)

// ---------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------
bool digits(const char* p, int n, int& out) noexcept {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = p[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) noexcept {
  static constexpr int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : dim[m - 1];
}

// "YYYY-MM-DD" (any precision), "YYYY-MM" (KUUKAUSI, VUOSI), "YYYY" (VUOSI).
bool parse_date_text(std::string_view a, Tarkkuus t, Date& out) noexcept {
  int y = 0, m = 0, d = 0;
  const bool has_m = a.size() >= 7, has_d = a.size() == 10;
  if (!(a.size() == 10 || a.size() == 7 || a.size() == 4)) return false;
  if (!digits(a.data(), 4, y) || y < 1) return false;
  if (has_m && (a[4] != '-' || !digits(a.data() + 5, 2, m))) return false;
  if (has_d && (a[7] != '-' || !digits(a.data() + 8, 2, d))) return false;
  switch (t) {
    case Tarkkuus::Paiva:
      if (!has_d || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return false;
      break;
    case Tarkkuus::Kuukausi:
      if (!has_m || m < 1 || m > 12) return false;
      if (has_d && d > days_in_month(y, m)) return false;  // 00 or a real day
      d = 1;
      break;
    case Tarkkuus::Vuosi:
      if (has_m && m > 12) return false;
      if (has_d && (m == 0 ? d != 0 : d > days_in_month(y, m))) return false;
      m = 1;
      d = 1;
      break;
  }
  out.year = static_cast<std::int16_t>(y);
  out.month = static_cast<std::uint8_t>(m);
  out.day = static_cast<std::uint8_t>(d);
  out.tarkkuus = t;
  return true;
}

// 2019-09-24T21:00:00.000Z, fraction 0-9 digits, 'Z' or +HH:MM / -HH:MM.
bool parse_timestamp(std::string_view s, std::int64_t& micros) noexcept {
  if (s.size() < 20) return false;
  Date d;
  if (!parse_date_text(s.substr(0, 10), Tarkkuus::Paiva, d)) return false;
  int hh = 0, mi = 0, ss = 0;
  if (s[10] != 'T' || !digits(s.data() + 11, 2, hh) || s[13] != ':' || !digits(s.data() + 14, 2, mi) ||
      s[16] != ':' || !digits(s.data() + 17, 2, ss))
    return false;
  if (hh > 23 || mi > 59 || ss > 59) return false;
  std::size_t i = 19;
  std::int64_t frac = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 6) frac = frac * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0 || n > 9) return false;
    for (int k = n; k < 6; ++k) frac *= 10;
  }
  if (i >= s.size()) return false;
  int offset = 0;
  if (s[i] == 'Z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh = 0, om = 0;
    if (s.size() - i != 6 || !digits(s.data() + i + 1, 2, oh) || s[i + 3] != ':' ||
        !digits(s.data() + i + 4, 2, om) || oh > 23 || om > 59)
      return false;
    offset = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return false;
  }
  if (i != s.size()) return false;
  const std::int64_t secs = std::int64_t(d.days_since_unix_epoch()) * 86400 + hh * 3600 + mi * 60 + ss - offset;
  micros = secs * 1000000 + frac;
  return true;
}

bool identifier_ok(std::string_view s, bool upper_only) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool up = c >= 'A' && c <= 'Z', lo = c >= 'a' && c <= 'z', dig = c >= '0' && c <= '9';
    if (i == 0 ? !(up || (!upper_only && lo)) : !(up || dig || c == '_' || (!upper_only && lo))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Edunvalvonta allow-list
// ---------------------------------------------------------------------------
const std::vector<std::string_view> kAllowedKeys = {
    // containers of the guardians / attorneys
    "nykyisetEdunvalvojat", "nykyisetEdunvalvontavaltuutetut", "edunvalvojat", "edunvalvontavaltuutetut",
    "edunvalvoja", "edunvalvontavaltuutettu", "henkilo",
    // identity and name
    "henkilotunnus", "etunimet", "etunimi", "sukunimi", "etunimetUTF8", "etunimiUTF8", "sukunimiUTF8", "nimi",
    "nimiUTF8",
    // role
    "rooli", "tehtava", "tehtavat",
    // dates and their parts
    "alkupv", "loppupv", "paatymispv", "valtuutussuhteenAlkupv", "valtuutussuhteenLoppupv", "arvo", "tarkkuus",
    // bilingual texts (names of roles)
    "fi", "sv"};

bool allowed_key(std::string_view k) noexcept {
  return std::find(kAllowedKeys.begin(), kAllowedKeys.end(), k) != kAllowedKeys.end();
}

void write_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

void write_filtered(element v, std::string& out) {
  char num[40];
  switch (v.type()) {
    case element_type::OBJECT: {
      out += '{';
      bool first = true;
      for (auto kv : object(v)) {
        if (!allowed_key(kv.key)) continue;
        if (!first) out += ',';
        first = false;
        write_json_string(out, kv.key);
        out += ':';
        write_filtered(kv.value, out);
      }
      out += '}';
      break;
    }
    case element_type::ARRAY: {
      out += '[';
      bool first = true;
      for (element e : array(v)) {
        if (!first) out += ',';
        first = false;
        write_filtered(e, out);
      }
      out += ']';
      break;
    }
    case element_type::STRING: {
      std::string_view s = std::string_view(v);
      if (std::memchr(s.data(), 0, s.size()) != nullptr) fail(reason::kNul);
      write_json_string(out, s);
      break;
    }
    case element_type::INT64: {
      auto r = std::to_chars(num, num + sizeof num, std::int64_t(v));
      out.append(num, r.ptr);
      break;
    }
    case element_type::UINT64: {
      auto r = std::to_chars(num, num + sizeof num, std::uint64_t(v));
      out.append(num, r.ptr);
      break;
    }
    case element_type::DOUBLE: {
      auto r = std::to_chars(num, num + sizeof num, double(v));
      out.append(num, r.ptr);
      break;
    }
    case element_type::BOOL:
      out += bool(v) ? "true" : "false";
      break;
    case element_type::NULL_VALUE:
      out += "null";
      break;
  }
}

// ---------------------------------------------------------------------------
// Record decoding
// ---------------------------------------------------------------------------
struct Common {
  std::string_view name;
  bool has_name = false;
  Muutosattribuutti muutos = Muutosattribuutti::Puuttuu;
  bool censored = false;
  element censor_list;
  bool has_vt = false;
  element vt;
};

bool parse_muutos(std::string_view s, Muutosattribuutti& m) noexcept {
  if (VTJ_KEY_IS(s, "LISATTY")) m = Muutosattribuutti::Lisatty;
  else if (VTJ_KEY_IS(s, "MUUTETTU")) m = Muutosattribuutti::Muutettu;
  else if (VTJ_KEY_IS(s, "POISTETTU")) m = Muutosattribuutti::Poistettu;
  else if (VTJ_KEY_IS(s, "KORJATTAVA")) m = Muutosattribuutti::Korjattava;
  else if (VTJ_KEY_IS(s, "KORJATTU")) m = Muutosattribuutti::Korjattu;
  else if (VTJ_KEY_IS(s, "LISATIETO")) m = Muutosattribuutti::Lisatieto;
  else return false;
  return true;
}

class RecordDecoder {
 public:
  const char* group = nullptr;  // known group being decoded (static name)

  void decode_person(element el, std::size_t pos, PersonRecord& rec) {
    group = nullptr;
    rec.clear();
    rec.position = pos;
    object o;
    if (el.get_object().get(o) != simdjson::SUCCESS) fail(reason::kRecordNotObject);
    bool have_hetu = false, have_muutospv = false, have_groups = false;
    array groups;
    for (auto kv : o) {
      const std::string_view k = kv.key;
      if (VTJ_KEY_IS(k, "henkilotunnus")) {
        if (have_hetu) fail(reason::kDuplicate);
        have_hetu = true;
        std::string_view h;
        if (kv.value.get_string().get(h) != simdjson::SUCCESS) fail(reason::kHetuType);
        if (!hetu_shape_ok(h)) fail(reason::kHetuFormat);
        rec.henkilotunnus.assign(h.data(), h.size());
      } else if (VTJ_KEY_IS(k, "muutospv")) {
        if (have_muutospv) fail(reason::kDuplicate);
        have_muutospv = true;
        if (kv.value.is_null()) continue;
        std::string_view t;
        if (kv.value.get_string().get(t) != simdjson::SUCCESS) fail(reason::kBadTimestamp);
        std::int64_t us = 0;
        if (!parse_timestamp(t, us)) fail(reason::kBadTimestamp);
        rec.muutospv.emplace(Timestamp{std::string(t), us});
      } else if (VTJ_KEY_IS(k, "tietoryhmat")) {
        if (have_groups) fail(reason::kDuplicate);
        have_groups = true;
        if (kv.value.get_array().get(groups) != simdjson::SUCCESS) fail(reason::kWrongType);
      }
    }
    if (!have_hetu) fail(reason::kHetuMissing);
    if (!have_groups) fail(reason::kGroupsMissing);
    // Exactly one allocation when the sink moved the previous record's vector
    // away (Group is large; most entries are of unknown groups).
    std::size_t known = 0;
    for (element g : groups) {
      object go;
      std::string_view n;
      if (g.get_object().get(go) == simdjson::SUCCESS && go.at_key("tietoryhma").get_string().get(n) == simdjson::SUCCESS &&
          group_kind(n))
        ++known;
    }
    rec.tietoryhmat.reserve(known);
    std::uint32_t index = 0;
    for (element g : groups) decode_group(g, index++, rec);
    group = nullptr;
  }

 private:
  // -- scalar helpers -------------------------------------------------------
  static std::string_view str(element v, F f) {
    std::string_view s;
    if (v.get_string().get(s) != simdjson::SUCCESS) fail(reason::kWrongType, f);
    if (std::memchr(s.data(), 0, s.size()) != nullptr) fail(reason::kNul, f);
    return s;
  }
  static void opt_str(element v, F f, std::optional<std::string>& out) {
    if (v.is_null()) return out.reset();
    const std::string_view s = str(v, f);
    out.emplace(s.data(), s.size());
  }
  static void opt_hetu(element v, F f, std::optional<std::string>& out) {
    if (v.is_null()) return out.reset();
    const std::string_view s = str(v, f);
    if (!hetu_shape_ok(s)) fail(reason::kBadHetuField, f);
    out.emplace(s.data(), s.size());
  }
  static void opt_bool(element v, F f, std::optional<bool>& out) {
    if (v.is_null()) return out.reset();
    bool b = false;
    if (v.get_bool().get(b) != simdjson::SUCCESS) fail(reason::kWrongType, f);
    out = b;
  }
  static void opt_i32(element v, F f, std::optional<std::int32_t>& out) {
    if (v.is_null()) return out.reset();
    std::int64_t x = 0;
    const auto err = v.get_int64().get(x);
    if (err == simdjson::NUMBER_OUT_OF_RANGE) fail(reason::kOutOfRange, f);
    if (err != simdjson::SUCCESS) fail(reason::kWrongType, f);
    if (x < INT32_MIN || x > INT32_MAX) fail(reason::kOutOfRange, f);
    out = static_cast<std::int32_t>(x);
  }
  static void opt_date(element v, F f, std::optional<Date>& out) {
    if (v.is_null()) return out.reset();
    object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) fail(reason::kWrongType, f);
    std::string_view arvo, tark;
    bool has_arvo = false, has_tark = false;
    for (auto kv : o) {
      if (VTJ_KEY_IS(kv.key, "arvo")) {
        if (has_arvo) fail(reason::kDuplicate, f);
        has_arvo = true;
        if (kv.value.get_string().get(arvo) != simdjson::SUCCESS) fail(reason::kBadDate, f);
      } else if (VTJ_KEY_IS(kv.key, "tarkkuus")) {
        if (has_tark) fail(reason::kDuplicate, f);
        has_tark = true;
        if (kv.value.is_null()) continue;
        if (kv.value.get_string().get(tark) != simdjson::SUCCESS) fail(reason::kBadTarkkuus, f);
        if (tark.empty()) fail(reason::kBadTarkkuus, f);
      }
    }
    if (!has_arvo) fail(reason::kBadDate, f);
    Tarkkuus t = Tarkkuus::Paiva;
    if (tark.empty() || VTJ_KEY_IS(tark, "PAIVA")) t = Tarkkuus::Paiva;
    else if (VTJ_KEY_IS(tark, "KUUKAUSI")) t = Tarkkuus::Kuukausi;
    else if (VTJ_KEY_IS(tark, "VUOSI")) t = Tarkkuus::Vuosi;
    else fail(reason::kBadTarkkuus, f);
    Date d;
    if (!parse_date_text(arvo, t, d)) fail(reason::kBadDate, f);
    out = d;
  }
  static void text(element v, F f, Kieliteksti& out) {
    out = Kieliteksti{};
    if (v.is_null()) return;
    if (v.is_string()) {
      const std::string_view s = str(v, f);
      out.fi.emplace(s.data(), s.size());
      out.plain = true;
      return;
    }
    object o;
    if (v.get_object().get(o) != simdjson::SUCCESS) fail(reason::kWrongType, f);
    bool fi = false, sv = false;
    for (auto kv : o) {
      if (VTJ_KEY_IS(kv.key, "fi")) {
        if (fi) fail(reason::kDuplicate, f);
        fi = true;
        opt_str(kv.value, f, out.fi);
      } else if (VTJ_KEY_IS(kv.key, "sv")) {
        if (sv) fail(reason::kDuplicate, f);
        sv = true;
        opt_str(kv.value, f, out.sv);
      }
    }
  }

  // Iterates the payload fields of a group object: known field ids only,
  // each at most once; the four common keys are handled elsewhere.
  template <class Fn>
  static void for_fields(object o, Fn&& fn) {
    std::uint64_t seen = 0;
    for (auto kv : o) {
      const F f = field_id(kv.key);
      switch (f) {
        case F::unknown:
        case F::tietoryhma:
        case F::muutosattribuutti:
        case F::turvakiellonAlaisetKentat:
        case F::voimassaolevatTiedot:
          continue;
        default:
          break;
      }
      const std::uint64_t bit = std::uint64_t(1) << static_cast<unsigned>(f);
      if (seen & bit) fail(reason::kDuplicate, f);
      seen |= bit;
      fn(f, kv.value);
    }
  }

  // -- groups -------------------------------------------------------------------
  static Common read_common(object o) {
    Common c;
    bool seen_m = false, seen_c = false, seen_v = false;
    for (auto kv : o) {
      const std::string_view k = kv.key;
      switch (k.size()) {
        case 10:
          if (VTJ_KEY_IS(k, "tietoryhma")) {
            if (c.has_name) fail(reason::kDuplicate, F::tietoryhma);
            c.has_name = true;
            if (kv.value.get_string().get(c.name) != simdjson::SUCCESS) fail(reason::kGroupNameMissing);
          }
          break;
        case 17:
          if (VTJ_KEY_IS(k, "muutosattribuutti")) {
            if (seen_m) fail(reason::kDuplicate, F::muutosattribuutti);
            seen_m = true;
            if (kv.value.is_null()) break;
            std::string_view s;
            if (kv.value.get_string().get(s) != simdjson::SUCCESS) fail(reason::kWrongType, F::muutosattribuutti);
            if (!parse_muutos(s, c.muutos)) fail(reason::kBadMuutos, F::muutosattribuutti);
          }
          break;
        case 25:
          if (VTJ_KEY_IS(k, "turvakiellonAlaisetKentat")) {
            if (seen_c) fail(reason::kDuplicate, F::turvakiellonAlaisetKentat);
            seen_c = true;
            if (kv.value.is_null()) break;
            c.censored = true;
            c.censor_list = kv.value;
          }
          break;
        case 20:
          if (VTJ_KEY_IS(k, "voimassaolevatTiedot")) {
            if (seen_v) fail(reason::kDuplicate, F::voimassaolevatTiedot);
            seen_v = true;
            if (kv.value.is_null()) break;
            c.has_vt = true;
            c.vt = kv.value;
          }
          break;
        default:
          break;
      }
    }
    return c;
  }

  void decode_group(element el, std::uint32_t index, PersonRecord& rec) {
    group = nullptr;
    object o;
    if (el.get_object().get(o) != simdjson::SUCCESS) fail(reason::kGroupNotObject);
    Common c = read_common(o);
    if (!c.has_name) fail(reason::kGroupNameMissing);
    const std::optional<GroupKind> kind = group_kind(c.name);
    if (!kind) {
      if (!identifier_ok(c.name, true)) fail(reason::kGroupNameFormat);
      UnknownGroup& u = rec.unknown_groups.emplace_back();
      u.name.assign(c.name.data(), c.name.size());
      u.muutosattribuutti = c.muutos;
      u.index = index;
      u.censored = c.censored;
      return;
    }
    group = group_name(*kind);
    Group& g = rec.tietoryhmat.emplace_back();
    decode_entry(el, o, c, *kind, index, /*nested=*/false, g);
  }

  void decode_entry(element el, object o, const Common& c, GroupKind kind, std::uint32_t index, bool nested, Group& g) {
    g.kind = kind;
    g.muutosattribuutti = c.muutos;
    g.index = index;
    if (c.censored) {
      array list;
      if (c.censor_list.get_array().get(list) != simdjson::SUCCESS) fail(reason::kBadCensorList);
      g.censored = true;
      for (element e : list) {
        std::string_view s;
        if (e.get_string().get(s) != simdjson::SUCCESS || !identifier_ok(s, false)) fail(reason::kBadCensorList);
        g.censored_fields.emplace_back(s);
      }
      return;  // nothing else of a censored entry is kept
    }
    decode_payload(kind, el, o, g.data);
    if (c.has_vt) {
      if (nested) fail(reason::kNestedTooDeep);
      array list;
      if (c.vt.get_array().get(list) != simdjson::SUCCESS) fail(reason::kWrongType, F::voimassaolevatTiedot);
      g.has_voimassaolevat_tiedot = true;
      std::uint32_t i = 0;
      for (element e : list) {
        object eo;
        if (e.get_object().get(eo) != simdjson::SUCCESS) fail(reason::kGroupNotObject, F::voimassaolevatTiedot);
        const Common ec = read_common(eo);
        if (ec.has_name && ec.name != group_name(kind)) fail(reason::kNestedMismatch, F::voimassaolevatTiedot);
        Group& child = g.voimassaolevat_tiedot.emplace_back();
        decode_entry(e, eo, ec, kind, i++, /*nested=*/true, child);
      }
    }
  }

  static void decode_payload(GroupKind kind, element el, object o, GroupData& data) {
    switch (kind) {
      case GroupKind::HenkilotunnusKorjaus: {
        auto& x = data.emplace<HenkilotunnusKorjaus>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::voimassaolo: {
              if (v.is_null()) break;
              const std::string_view s = str(v, f);
              if (VTJ_KEY_IS(s, "AKTIIVI")) x.voimassaolo = HenkilotunnusKorjaus::Voimassaolo::Aktiivi;
              else if (VTJ_KEY_IS(s, "PASSIIVI")) x.voimassaolo = HenkilotunnusKorjaus::Voimassaolo::Passiivi;
              else fail(reason::kBadEnum, f);
              break;
            }
            case F::muutettuHenkilotunnus: opt_hetu(v, f, x.muutettu_henkilotunnus); break;
            case F::aktiivinenHenkilotunnus: opt_hetu(v, f, x.aktiivinen_henkilotunnus); break;
            case F::edellisetHenkilotunnukset: {
              if (v.is_null()) break;
              array a;
              if (v.get_array().get(a) != simdjson::SUCCESS) fail(reason::kWrongType, f);
              for (element e : a) {
                const std::string_view s = str(e, f);
                if (!hetu_shape_ok(s)) fail(reason::kBadHetuField, f);
                x.edelliset_henkilotunnukset.emplace_back(s);
              }
              break;
            }
            default: break;
          }
        });
        break;
      }
      case GroupKind::HenkilonNimi: {
        auto& x = data.emplace<HenkilonNimi>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::etunimi: opt_str(v, f, x.etunimi); break;
            case F::sukunimi: opt_str(v, f, x.sukunimi); break;
            case F::etunimiUTF8: opt_str(v, f, x.etunimi_utf8); break;
            case F::sukunimiUTF8: opt_str(v, f, x.sukunimi_utf8); break;
            case F::alkupv: opt_date(v, f, x.alkupv); break;
            case F::loppupv: opt_date(v, f, x.loppupv); break;
            default: break;
          }
        });
        break;
      }
      case GroupKind::Nimenmuutos: {
        auto& x = data.emplace<Nimenmuutos>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::nimilaji: opt_str(v, f, x.nimilaji); break;
            case F::nimi: opt_str(v, f, x.nimi); break;
            case F::nimiUTF8: opt_str(v, f, x.nimi_utf8); break;
            case F::alkupv: opt_date(v, f, x.alkupv); break;
            case F::loppupv: opt_date(v, f, x.loppupv); break;
            default: break;
          }
        });
        break;
      }
      case GroupKind::Aidinkieli:
      case GroupKind::Asiointikieli: {
        auto& x = data.emplace<Kieli>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::kielikoodi: opt_str(v, f, x.kielikoodi); break;
            case F::kielikoodiISO6392: opt_str(v, f, x.kielikoodi_iso6392); break;
            case F::nimi: opt_str(v, f, x.nimi); break;
            case F::alkupv: opt_date(v, f, x.alkupv); break;
            case F::loppupv: opt_date(v, f, x.loppupv); break;
            default: break;
          }
        });
        break;
      }
      case GroupKind::Kuolinpaiva: {
        auto& x = data.emplace<Kuolinpaiva>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::kuollut: opt_bool(v, f, x.kuollut); break;
            case F::kuolinpv: opt_date(v, f, x.kuolinpv); break;
            default: break;
          }
        });
        break;
      }
      case GroupKind::Turvakielto: {
        auto& x = data.emplace<Turvakielto>();
        std::optional<Date> alt;
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::turvakieltoAktiivinen: opt_bool(v, f, x.turvakielto_aktiivinen); break;
            case F::turvaLoppuPv: opt_date(v, f, x.turva_loppupv); break;
            case F::turvaLoppupv: opt_date(v, f, alt); break;
            default: break;
          }
        });
        if (!x.turva_loppupv) x.turva_loppupv = alt;
        break;
      }
      case GroupKind::Edunvalvonta:
      case GroupKind::Edunvalvontavaltuutus: {
        auto& x = data.emplace<Edunvalvonta>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::alkupv: opt_date(v, f, x.alkupv); break;
            case F::paatymispv: opt_date(v, f, x.paatymispv); break;
            case F::loppupv: opt_date(v, f, x.loppupv); break;
            default: break;
          }
        });
        x.tiedot.clear();
        write_filtered(el, x.tiedot);
        break;
      }
      case GroupKind::VakinainenKotimainenOsoite:
      case GroupKind::TilapainenKotimainenOsoite:
      case GroupKind::KotimainenPostiosoite:
      case GroupKind::VakinainenUlkomainenOsoite:
      case GroupKind::TilapainenUlkomainenOsoite:
      case GroupKind::UlkomainenPostiosoite:
      case GroupKind::KotimainenYhteysosoite:
      case GroupKind::UlkomainenYhteysosoite: {
        auto& x = data.emplace<Osoite>();
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::katunimi: text(v, f, x.katunimi); break;
            case F::katunumero: opt_str(v, f, x.katunumero); break;
            case F::huoneistokirjain: opt_str(v, f, x.huoneistokirjain); break;
            case F::huoneistonumero: opt_str(v, f, x.huoneistonumero); break;
            case F::jakokirjain: opt_str(v, f, x.jakokirjain); break;
            case F::postinumero: opt_str(v, f, x.postinumero); break;
            case F::postitoimipaikka: text(v, f, x.postitoimipaikka); break;
            case F::rakennustunnus: opt_str(v, f, x.rakennustunnus); break;
            case F::osoitenumero: opt_i32(v, f, x.osoitenumero); break;
            case F::kuntakoodi: opt_str(v, f, x.kuntakoodi); break;
            case F::postiosoite: text(v, f, x.postiosoite); break;
            case F::postiosoiteLisarivi: opt_str(v, f, x.postiosoite_lisarivi); break;
            case F::lahiosoite: opt_str(v, f, x.lahiosoite); break;
            case F::paikkakunta: opt_str(v, f, x.paikkakunta); break;
            case F::valtiokoodi: opt_str(v, f, x.valtiokoodi); break;
            case F::valtionimi: opt_str(v, f, x.valtionimi); break;
            case F::alkupv: opt_date(v, f, x.alkupv); break;
            case F::loppupv: opt_date(v, f, x.loppupv); break;
            default: break;
          }
        });
        break;
      }
      case GroupKind::Kotikunta: {
        auto& x = data.emplace<Kotikunta>();
        std::optional<Date> old_spelling;
        for_fields(o, [&](F f, element v) {
          switch (f) {
            case F::kuntakoodi: opt_str(v, f, x.kuntakoodi); break;
            case F::kuntaanMuuttopv: opt_date(v, f, x.kuntaan_muuttopv); break;
            case F::kuntaanMuuttoPv: opt_date(v, f, old_spelling); break;
            default: break;
          }
        });
        if (!x.kuntaan_muuttopv) {
          x.kuntaan_muuttopv = old_spelling;
        } else if (old_spelling && *old_spelling != *x.kuntaan_muuttopv) {
          x.spellings_differ = true;
        }
        break;
      }
    }
  }
};

// The hetu of a failed record, when it can be read unambiguously and has the
// hetu shape; never throws except bad_alloc.
std::optional<std::string> readable_hetu(element el) {
  object o;
  if (el.get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  std::optional<std::string> found;
  int count = 0;
  for (auto kv : o) {
    if (!VTJ_KEY_IS(kv.key, "henkilotunnus")) continue;
    if (++count > 1) return std::nullopt;
    std::string_view s;
    if (kv.value.get_string().get(s) != simdjson::SUCCESS || !hetu_shape_ok(s)) return std::nullopt;
    found.emplace(s.data(), s.size());
  }
  return found;
}

const char* page_error_text(simdjson::error_code e) noexcept {
  switch (e) {
    case simdjson::EMPTY: return "response body is empty";
    case simdjson::DEPTH_ERROR: return "response is nested too deeply";
    case simdjson::CAPACITY: return "response is too large to parse";
    case simdjson::UTF8_ERROR: return "response is not valid UTF-8 outside person records";
    case simdjson::UNESCAPED_CHARS: return "response has a raw control character outside person records";
    case simdjson::STRING_ERROR: return "response has a malformed string outside person records";
    case simdjson::NUMBER_ERROR: return "response has a malformed number outside person records";
    case simdjson::UNCLOSED_STRING: return "response is truncated or not JSON (unclosed string)";
    case simdjson::T_ATOM_ERROR:
    case simdjson::F_ATOM_ERROR:
    case simdjson::N_ATOM_ERROR: return "response is not valid JSON (bad literal)";
    default: return "response is not valid JSON or is truncated";
  }
}

// Collects a page into vectors.
template <class Page>
class CollectSink final : public RecordSink {
 public:
  explicit CollectSink(Page& p) : page_(p) {}
  void on_header(const PageHeader& h) override {
    if constexpr (std::is_same_v<Page, ChangesPage>) page_.viimeisin_kirjausavain = h.viimeisin_kirjausavain;
    page_.ajan_tasalla = h.ajan_tasalla;
    page_.records.reserve(h.record_count);
  }
  void on_record(PersonRecord&& r) override { page_.records.push_back(std::move(r)); }
  void on_error(RecordError&& e) override { page_.errors.push_back(std::move(e)); }

 private:
  Page& page_;
};

}  // namespace

bool hetu_shape_ok(std::string_view s) noexcept {
  if (s.size() != 11) return false;
  for (int i : {0, 1, 2, 3, 4, 5, 7, 8, 9})
    if (s[i] < '0' || s[i] > '9') return false;
  const char c = s[6];
  if (!(c == '-' || c == '+' || (c >= 'A' && c <= 'F') || (c >= 'U' && c <= 'Y'))) return false;
  const char k = s[10];
  static constexpr std::string_view kCheck = "0123456789ABCDEFHJKLMNPRSTUVWXY";
  return kCheck.find(k) != std::string_view::npos;
}

const std::vector<std::string_view>& edunvalvonta_allowed_keys() { return kAllowedKeys; }

// ---------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------
struct Decoder::Impl {
  simdjson::dom::parser parser;
  std::vector<char> scratch;
  PageStats stats;
  PersonRecord rec;
  RecordDecoder rd;
  std::vector<detail::Taint> taint;

  const char* copy_to_scratch(const Input& in) {
    const std::size_t need = in.size + simdjson::SIMDJSON_PADDING;
    if (scratch.size() < need) scratch.resize(need);
    if (in.size > 0) std::memcpy(scratch.data(), in.data, in.size);
    std::memset(scratch.data() + in.size, ' ', simdjson::SIMDJSON_PADDING);
    return scratch.data();
  }

  void release_if_large(std::size_t size) {
    if (size > kRetainBytes) {
      parser = simdjson::dom::parser{};
      std::vector<char>().swap(scratch);
    }
  }

  // Parses the page; on a lexical error inside person records, isolates them
  // (taint) and parses a repaired copy. Throws PageError.
  element parse(const Input& in, std::string_view records_key) {
    stats = PageStats{};
    stats.bytes = in.size;
    taint.clear();
    if (in.size == 0 || in.data == nullptr) throw PageError(page_error_text(simdjson::EMPTY));
    const char* buf = in.data;
    bool copied = false;
    if (in.capacity - in.size < simdjson::SIMDJSON_PADDING) {
      buf = copy_to_scratch(in);
      copied = true;
    }
    element root;
    auto err = parser.parse(buf, in.size, false).get(root);
    if (err == simdjson::MEMALLOC) throw std::bad_alloc();
    const bool lexical = err == simdjson::UTF8_ERROR || err == simdjson::UNESCAPED_CHARS ||
                         err == simdjson::STRING_ERROR || err == simdjson::NUMBER_ERROR;
    if (lexical && !records_key.empty()) {
      if (!copied) buf = copy_to_scratch(in);
      detail::RepairResult r = detail::repair_lexical_errors(scratch.data(), in.size, records_key);
      if (r.outside_records || r.repaired == 0) throw PageError(page_error_text(err));
      err = parser.parse(scratch.data(), in.size, false).get(root);
      if (err == simdjson::MEMALLOC) throw std::bad_alloc();
      if (err != simdjson::SUCCESS) throw PageError(page_error_text(err));
      taint = std::move(r.taint);
      stats.utf8_repaired = true;
    } else if (err != simdjson::SUCCESS) {
      throw PageError(page_error_text(err));
    }
    return root;
  }

  void decode_page(const Input& in, PageKind kind, RecordSink& sink) {
    struct Guard {
      Impl& self;
      std::size_t size;
      ~Guard() { self.release_if_large(size); }
    } guard{*this, in.size};

    const std::string_view records_key = kind == PageKind::Changes ? "muutokset" : "perustiedot";
    element root = parse(in, records_key);
    object top;
    if (root.get_object().get(top) != simdjson::SUCCESS) throw PageError("top level of the response is not a JSON object");
    PageHeader header;
    header.kind = kind;
    bool have_key = false, have_at = false, have_records = false;
    array records;
    for (auto kv : top) {
      const std::string_view k = kv.key;
      if (VTJ_KEY_IS(k, "viimeisinKirjausavain")) {
        if (have_key) throw PageError("viimeisinKirjausavain occurs twice");
        have_key = true;
        if (kind != PageKind::Changes) continue;
        std::int64_t key = 0;
        if (kv.value.get_int64().get(key) != simdjson::SUCCESS || key < 0)
          throw PageError("viimeisinKirjausavain is not a non-negative 64-bit integer");
        header.viimeisin_kirjausavain = key;
      } else if (VTJ_KEY_IS(k, "ajanTasalla")) {
        if (have_at) throw PageError("ajanTasalla occurs twice");
        have_at = true;
        if (kv.value.get_bool().get(header.ajan_tasalla) != simdjson::SUCCESS)
          throw PageError("ajanTasalla is not a boolean");
      } else if (k == records_key) {
        if (have_records) throw PageError(kind == PageKind::Changes ? "muutokset occurs twice" : "perustiedot occurs twice");
        have_records = true;
        if (kv.value.get_array().get(records) != simdjson::SUCCESS)
          throw PageError(kind == PageKind::Changes ? "muutokset is not an array" : "perustiedot is not an array");
      }
    }
    if (kind == PageKind::Changes && !have_key) throw PageError("viimeisinKirjausavain is missing");
    if (!have_at) throw PageError("ajanTasalla is missing");
    if (!have_records) throw PageError(kind == PageKind::Changes ? "muutokset is missing" : "perustiedot is missing");
    header.record_count = records.size();

    sink.on_header(header);
    std::size_t pos = 0;
    for (element el : records) {
      const detail::Taint t = pos < taint.size() ? taint[pos] : detail::Taint::None;
      if (t != detail::Taint::None) {
        RecordError e;
        e.position = pos;
        e.reason = (static_cast<unsigned char>(t) & static_cast<unsigned char>(detail::Taint::String))
                       ? reason::kBadString
                       : reason::kBadNumber;
        e.henkilotunnus = readable_hetu(el);
        ++stats.errors;
        sink.on_error(std::move(e));
        ++pos;
        continue;
      }
      bool ok = true;
      RecordError e;
      try {
        rd.decode_person(el, pos, rec);
      } catch (const RecordFailure& f) {
        ok = false;
        e.position = pos;
        e.reason = f.reason;
        e.field = f.field;
        e.group = rd.group;
      }
      if (!ok) {
        e.henkilotunnus = readable_hetu(el);
        ++stats.errors;
        sink.on_error(std::move(e));
      } else {
        ++stats.records;
        stats.known_groups += rec.tietoryhmat.size();
        for (const Group& g : rec.tietoryhmat) stats.censored_groups += g.censored ? 1 : 0;
        stats.unknown_groups += rec.unknown_groups.size();
        for (const UnknownGroup& u : rec.unknown_groups) {
          auto it = stats.unknown_group_counts.find(std::string_view(u.name));
          if (it == stats.unknown_group_counts.end()) it = stats.unknown_group_counts.emplace(u.name, 0).first;
          ++it->second;
        }
        sink.on_record(std::move(rec));
        rec.clear();
      }
      ++pos;
    }
  }

  std::int64_t decode_start_key(const Input& in) {
    struct Guard {
      Impl& self;
      std::size_t size;
      ~Guard() { self.release_if_large(size); }
    } guard{*this, in.size};
    element root = parse(in, {});
    object top;
    if (root.get_object().get(top) != simdjson::SUCCESS) throw PageError("top level of the response is not a JSON object");
    bool have = false;
    std::int64_t key = -1;
    for (auto kv : top) {
      if (!VTJ_KEY_IS(kv.key, "viimeisinKirjausavain")) continue;
      if (have) throw PageError("viimeisinKirjausavain occurs twice");
      have = true;
      if (kv.value.get_int64().get(key) != simdjson::SUCCESS || key < 0)
        throw PageError("viimeisinKirjausavain is not a non-negative 64-bit integer");
    }
    if (!have) throw PageError("viimeisinKirjausavain is missing");
    return key;
  }
};

Decoder::Decoder() : impl_(std::make_unique<Impl>()) {}
Decoder::~Decoder() = default;
Decoder::Decoder(Decoder&&) noexcept = default;
Decoder& Decoder::operator=(Decoder&&) noexcept = default;

void Decoder::decode_changes(Input in, RecordSink& sink) { impl_->decode_page(in, PageKind::Changes, sink); }
void Decoder::decode_base(Input in, RecordSink& sink) { impl_->decode_page(in, PageKind::Base, sink); }

ChangesPage Decoder::decode_changes(Input in) {
  ChangesPage page;
  CollectSink<ChangesPage> sink(page);
  impl_->decode_page(in, PageKind::Changes, sink);
  page.stats = impl_->stats;
  return page;
}

BasePage Decoder::decode_base(Input in) {
  BasePage page;
  CollectSink<BasePage> sink(page);
  impl_->decode_page(in, PageKind::Base, sink);
  page.stats = impl_->stats;
  return page;
}

std::int64_t Decoder::decode_start_key(Input in) { return impl_->decode_start_key(in); }

const PageStats& Decoder::last_stats() const noexcept { return impl_->stats; }

ChangesPage decode_changes(Input in) { return Decoder().decode_changes(in); }
BasePage decode_base(Input in) { return Decoder().decode_base(in); }
std::int64_t decode_start_key(Input in) { return Decoder().decode_start_key(in); }

}  // namespace vtj::decode
