// Typed records decoded from VTJ-muutosrajapinta JSON (vtj-api.md §4-§7).
//
// Pure C++ (no PostgreSQL, no simdjson in this header): the merge layer and
// the glue code include it freely. Everything here is plain data the decoder
// has already validated:
//   * every std::string is valid UTF-8 and contains no NUL byte;
//   * every Date is a real calendar date (partial dates normalised, see Date);
//   * henkilotunnus values have the hetu shape (not the check character:
//     that is src/hetu's business and the merge's);
//   * groups outside the 18 of product.md §2 carry no field values at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vtj::decode {

// --------------------------------------------------------------------------
// Scalars
// --------------------------------------------------------------------------

/// `tarkkuus` of a date object.
enum class Tarkkuus : std::uint8_t { Paiva, Kuukausi, Vuosi };
const char* to_string(Tarkkuus t) noexcept;  // "PAIVA", "KUUKAUSI", "VUOSI"

/// A VTJ date object `{"arvo": "YYYY-MM-DD", "tarkkuus": ...}`.
/// A KUUKAUSI date is stored as the first day of its month and a VUOSI date
/// as 1 January of its year, whatever day (or 00) DVV put in `arvo`; the
/// precision is kept. A missing `tarkkuus` means PAIVA. Years 1..9999.
struct Date {
  std::int16_t year = 0;
  std::uint8_t month = 0;
  std::uint8_t day = 0;
  Tarkkuus tarkkuus = Tarkkuus::Paiva;

  /// "YYYY-MM-DD" of the stored (normalised) day.
  std::string iso() const;
  /// Days since 1970-01-01 (negative before). PostgreSQL's DateADT is this
  /// minus 10957 (days from 1970-01-01 to 2000-01-01).
  std::int32_t days_since_unix_epoch() const noexcept;

  friend bool operator==(const Date& a, const Date& b) noexcept {
    return a.year == b.year && a.month == b.month && a.day == b.day &&
           a.tarkkuus == b.tarkkuus;
  }
  friend bool operator!=(const Date& a, const Date& b) noexcept { return !(a == b); }
};

/// Days since 1970-01-01 of a proleptic Gregorian date (no validation).
std::int32_t days_from_civil(int year, unsigned month, unsigned day) noexcept;

/// `muutospv`: ISO-8601 timestamp as delivered ("2019-09-24T21:00:00.000Z";
/// an explicit offset "+02:00" is accepted too), validated, plus its instant.
struct Timestamp {
  std::string text;                 // exactly as delivered
  std::int64_t unix_micros = 0;     // microseconds since 1970-01-01T00:00:00Z
};

/// Bilingual text `{"fi": ..., "sv": ...}`; either side may be missing.
/// `plain` is set when DVV sent a bare string instead of the object (seen
/// assumptions for foreign postal addresses, vtj-api.md §6): it is then in
/// `fi`, the primary column.
struct Kieliteksti {
  std::optional<std::string> fi;
  std::optional<std::string> sv;
  bool plain = false;
};

/// `muutosattribuutti`; Puuttuu when the entry has none (perustiedot, and the
/// entries inside `voimassaolevatTiedot`).
enum class Muutosattribuutti : std::uint8_t {
  Puuttuu = 0,
  Lisatty,
  Muutettu,
  Poistettu,
  Korjattava,
  Korjattu,
  Lisatieto,
};
/// "LISATTY", ... ; "" for Puuttuu.
const char* to_string(Muutosattribuutti m) noexcept;

// --------------------------------------------------------------------------
// The 18 groups (product.md §2)
// --------------------------------------------------------------------------

enum class GroupKind : std::uint8_t {
  HenkilotunnusKorjaus,
  HenkilonNimi,
  Nimenmuutos,
  Aidinkieli,
  Asiointikieli,
  Kuolinpaiva,
  Turvakielto,
  Edunvalvonta,
  Edunvalvontavaltuutus,
  VakinainenKotimainenOsoite,
  TilapainenKotimainenOsoite,
  KotimainenPostiosoite,
  VakinainenUlkomainenOsoite,
  TilapainenUlkomainenOsoite,
  UlkomainenPostiosoite,
  KotimainenYhteysosoite,
  UlkomainenYhteysosoite,
  Kotikunta,
};
inline constexpr std::size_t kGroupKindCount = 18;

/// The DVV name, e.g. "VAKINAINEN_KOTIMAINEN_OSOITE" (static storage).
const char* group_name(GroupKind k) noexcept;
/// Lookup by DVV name; nullopt for any other group.
std::optional<GroupKind> group_kind(std::string_view name) noexcept;
/// True for the eight address-shaped groups (payload Osoite).
bool is_address_group(GroupKind k) noexcept;

/// HENKILOTUNNUS_KORJAUS. `aktiivinenHenkilotunnus` may be null or absent
/// (product.md §5: recorded and reported, not a crash).
struct HenkilotunnusKorjaus {
  enum class Voimassaolo : std::uint8_t { Puuttuu, Aktiivi, Passiivi };
  Voimassaolo voimassaolo = Voimassaolo::Puuttuu;
  std::optional<std::string> muutettu_henkilotunnus;
  std::optional<std::string> aktiivinen_henkilotunnus;
  std::vector<std::string> edelliset_henkilotunnukset;
};

/// HENKILON_NIMI.
struct HenkilonNimi {
  std::optional<std::string> etunimi, sukunimi, etunimi_utf8, sukunimi_utf8;
  std::optional<Date> alkupv, loppupv;
};

/// NIMENMUUTOS.
struct Nimenmuutos {
  std::optional<std::string> nimilaji, nimi, nimi_utf8;
  std::optional<Date> alkupv, loppupv;
};

/// AIDINKIELI and ASIOINTIKIELI.
struct Kieli {
  std::optional<std::string> kielikoodi, kielikoodi_iso6392, nimi;
  std::optional<Date> alkupv, loppupv;
};

/// KUOLINPAIVA.
struct Kuolinpaiva {
  std::optional<bool> kuollut;
  std::optional<Date> kuolinpv;
};

/// TURVAKIELTO (`turvaLoppuPv`; the spelling `turvaLoppupv` is accepted too).
struct Turvakielto {
  std::optional<bool> turvakielto_aktiivinen;
  std::optional<Date> turva_loppupv;
};

/// EDUNVALVONTA and EDUNVALVONTAVALTUUTUS. Field names are unconfirmed
/// (vtj-api.md §6): the three dates if present, plus `tiedot`, a compact JSON
/// object holding only allow-listed keys (the guardian's / attorney's hetu,
/// names, role and dates, at any depth; never an address or anything else).
/// The allow-list is `edunvalvonta_allowed_keys()` in decoder.hpp.
struct Edunvalvonta {
  std::optional<Date> alkupv, paatymispv, loppupv;
  std::string tiedot = "{}";
};

/// Every address-shaped group: VAKINAINEN_/TILAPAINEN_KOTIMAINEN_OSOITE,
/// KOTIMAINEN_POSTIOSOITE, VAKINAINEN_/TILAPAINEN_ULKOMAINEN_OSOITE,
/// ULKOMAINEN_POSTIOSOITE, KOTIMAINEN_/ULKOMAINEN_YHTEYSOSOITE. Each group
/// accepts every field (the YHTEYSOSOITE shapes are unconfirmed); what a
/// group did not carry stays empty.
struct Osoite {
  Kieliteksti katunimi;
  std::optional<std::string> katunumero, huoneistokirjain, huoneistonumero, jakokirjain;
  std::optional<std::string> postinumero;
  Kieliteksti postitoimipaikka;
  std::optional<std::string> rakennustunnus;
  std::optional<std::int32_t> osoitenumero;
  std::optional<std::string> kuntakoodi;
  Kieliteksti postiosoite;
  std::optional<std::string> postiosoite_lisarivi;
  std::optional<std::string> lahiosoite, paikkakunta, valtiokoodi, valtionimi;
  std::optional<Date> alkupv, loppupv;
};

/// KOTIKUNTA. `kuntaanMuuttopv`, or the older duplicate spelling
/// `kuntaanMuuttoPv` when only that one is present (when both are, the
/// former wins; `spellings_differ` tells whether they disagreed).
struct Kotikunta {
  std::optional<std::string> kuntakoodi;
  std::optional<Date> kuntaan_muuttopv;
  bool spellings_differ = false;
};

using GroupData = std::variant<std::monostate,  // censored stub: no values
                               HenkilotunnusKorjaus, HenkilonNimi, Nimenmuutos, Kieli,
                               Kuolinpaiva, Turvakielto, Edunvalvonta, Osoite, Kotikunta>;

/// One entry of one of the 18 groups.
struct Group {
  GroupKind kind = GroupKind::HenkilonNimi;
  Muutosattribuutti muutosattribuutti = Muutosattribuutti::Puuttuu;
  /// Index of this entry in the person's `tietoryhmat` array (known and
  /// unknown groups share the numbering), or in `voimassaolevatTiedot`.
  std::uint32_t index = 0;
  /// Censored stub (`turvakiellonAlaisetKentat` present): `data` is
  /// monostate and `censored_fields` lists the withheld field names as DVV
  /// sent them. Nothing else of a censored entry is kept.
  bool censored = false;
  std::vector<std::string> censored_fields;
  /// `voimassaolevatTiedot` was present (POISTETTU); an empty array then
  /// means "no valid entries left", so presence is kept apart from size.
  bool has_voimassaolevat_tiedot = false;
  std::vector<Group> voimassaolevat_tiedot;  // same kind, decoded as entries
  GroupData data;

  template <class T> const T* get() const noexcept { return std::get_if<T>(&data); }
  template <class T> T* get() noexcept { return std::get_if<T>(&data); }
};

/// Any group outside the 18: only its name and muutosattribuutti (data
/// minimisation: its fields are neither stored nor validated).
struct UnknownGroup {
  std::string name;
  Muutosattribuutti muutosattribuutti = Muutosattribuutti::Puuttuu;
  std::uint32_t index = 0;  // position in the person's `tietoryhmat`
  bool censored = false;    // it was a censored stub
};

/// One element of `muutokset` or `perustiedot`.
struct PersonRecord {
  std::size_t position = 0;          // 0-based index in the page's array
  std::string henkilotunnus;
  std::optional<Timestamp> muutospv; // /muutokset only
  std::vector<Group> tietoryhmat;    // the 18 groups, in delivery order
  std::vector<UnknownGroup> unknown_groups;

  void clear() noexcept;             // keeps capacity for reuse
};

/// A person record that could not be decoded. Content-free by construction:
/// `reason`, `group` and `field` point to static strings of the decoder (a
/// group or field name only when it is one of the decoder's own known names),
/// never to input bytes. `henkilotunnus` is set when the record's hetu could
/// be read and has the hetu shape.
struct RecordError {
  std::size_t position = 0;
  const char* reason = "";
  const char* group = nullptr;
  const char* field = nullptr;
  std::optional<std::string> henkilotunnus;

  /// "record 3: <reason> (group X, field y)" - without the hetu.
  std::string message() const;
};

}  // namespace vtj::decode
