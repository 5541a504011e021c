#include "common/cpp_only.hpp"

#include "decode/records.hpp"

#include <cstdio>
#include <cstring>

namespace vtj::decode {

const char* to_string(Tarkkuus t) noexcept {
  switch (t) {
    case Tarkkuus::Paiva: return "PAIVA";
    case Tarkkuus::Kuukausi: return "KUUKAUSI";
    case Tarkkuus::Vuosi: return "VUOSI";
  }
  return "";
}

const char* to_string(Muutosattribuutti m) noexcept {
  switch (m) {
    case Muutosattribuutti::Puuttuu: return "";
    case Muutosattribuutti::Lisatty: return "LISATTY";
    case Muutosattribuutti::Muutettu: return "MUUTETTU";
    case Muutosattribuutti::Poistettu: return "POISTETTU";
    case Muutosattribuutti::Korjattava: return "KORJATTAVA";
    case Muutosattribuutti::Korjattu: return "KORJATTU";
    case Muutosattribuutti::Lisatieto: return "LISATIETO";
  }
  return "";
}

// Howard Hinnant's days_from_civil.
std::int32_t days_from_civil(int y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

std::string Date::iso() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(year), static_cast<unsigned>(month),
                static_cast<unsigned>(day));
  return buf;
}

std::int32_t Date::days_since_unix_epoch() const noexcept { return days_from_civil(year, month, day); }

namespace {
constexpr std::string_view kGroupNames[kGroupKindCount] = {
    "HENKILOTUNNUS_KORJAUS",
    "HENKILON_NIMI",
    "NIMENMUUTOS",
    "AIDINKIELI",
    "ASIOINTIKIELI",
    "KUOLINPAIVA",
    "TURVAKIELTO",
    "EDUNVALVONTA",
    "EDUNVALVONTAVALTUUTUS",
    "VAKINAINEN_KOTIMAINEN_OSOITE",
    "TILAPAINEN_KOTIMAINEN_OSOITE",
    "KOTIMAINEN_POSTIOSOITE",
    "VAKINAINEN_ULKOMAINEN_OSOITE",
    "TILAPAINEN_ULKOMAINEN_OSOITE",
    "ULKOMAINEN_POSTIOSOITE",
    "KOTIMAINEN_YHTEYSOSOITE",
    "ULKOMAINEN_YHTEYSOSOITE",
    "KOTIKUNTA",
};
}  // namespace

const char* group_name(GroupKind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < kGroupKindCount ? kGroupNames[i].data() : "";
}

std::optional<GroupKind> group_kind(std::string_view name) noexcept {
  // Cheap reject: every known name is 9..28 bytes of [A-Z_].
  if (name.size() < 9 || name.size() > 28) return std::nullopt;
  for (std::size_t i = 0; i < kGroupKindCount; ++i) {
    if (kGroupNames[i] == name) return static_cast<GroupKind>(i);
  }
  return std::nullopt;
}

bool is_address_group(GroupKind k) noexcept {
  switch (k) {
    case GroupKind::VakinainenKotimainenOsoite:
    case GroupKind::TilapainenKotimainenOsoite:
    case GroupKind::KotimainenPostiosoite:
    case GroupKind::VakinainenUlkomainenOsoite:
    case GroupKind::TilapainenUlkomainenOsoite:
    case GroupKind::UlkomainenPostiosoite:
    case GroupKind::KotimainenYhteysosoite:
    case GroupKind::UlkomainenYhteysosoite:
      return true;
    default:
      return false;
  }
}

void PersonRecord::clear() noexcept {
  position = 0;
  henkilotunnus.clear();
  muutospv.reset();
  tietoryhmat.clear();
  unknown_groups.clear();
}

std::string RecordError::message() const {
  std::string m = "record " + std::to_string(position) + ": " + reason;
  if (group != nullptr || field != nullptr) {
    m += " (";
    if (group != nullptr) {
      m += "group ";
      m += group;
    }
    if (field != nullptr) {
      if (group != nullptr) m += ", ";
      m += "field ";
      m += field;
    }
    m += ")";
  }
  return m;
}

}  // namespace vtj::decode
