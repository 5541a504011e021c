// Decoder: per-group details (muutosattribuutti, dates, timestamps, hetu
// corrections, municipality spellings, guardianship allow-list, contact and
// foreign addresses, censored stubs, nulls and unknown content).
#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <tuple>
#include <vector>

#include "decode/decoder.hpp"
#include "test_decode_util.hpp"

using namespace vtj::decode;
using vtj_test::ymd;

namespace {

constexpr const char* kHetu = "050505-906S";

// Decodes one person with the given groups; expects success.
PersonRecord one(const std::string& groups, const std::string& extra = "") {
  const std::string page = std::string(R"({"viimeisinKirjausavain":7,"ajanTasalla":true,"muutokset":[{"henkilotunnus":")") +
                           kHetu + "\"" + extra + R"(,"tietoryhmat":[)" + groups + "]}]}";
  ChangesPage p = decode_changes(Input(std::string_view(page)));
  if (!p.errors.empty()) {
    ADD_FAILURE() << "unexpected record error: " << p.errors[0].message();
    return {};
  }
  EXPECT_EQ(p.records.size(), 1u);
  return p.records.empty() ? PersonRecord{} : std::move(p.records[0]);
}

// Decodes one person; returns the error (expects one).
RecordError one_error(const std::string& groups, const std::string& extra = "") {
  const std::string page = std::string(R"({"viimeisinKirjausavain":7,"ajanTasalla":true,"muutokset":[{"henkilotunnus":")") +
                           kHetu + "\"" + extra + R"(,"tietoryhmat":[)" + groups + "]}]}";
  ChangesPage p = decode_changes(Input(std::string_view(page)));
  EXPECT_TRUE(p.records.empty());
  if (p.errors.size() != 1) {
    ADD_FAILURE() << "expected one record error";
    return {};
  }
  return p.errors[0];
}

}  // namespace

TEST(DecodeGroups, EveryMuutosattribuutti) {
  const PersonRecord r = one(
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"091"},)"
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"MUUTETTU","kuntakoodi":"049"},)"
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"POISTETTU","kuntakoodi":"049","voimassaolevatTiedot":[]},)"
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"KORJATTAVA","kuntakoodi":"092"},)"
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"KORJATTU","kuntakoodi":"091"},)"
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATIETO","kuntakoodi":"091"},)"
      R"({"tietoryhma":"KOTIKUNTA","kuntakoodi":"091"},)"
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":null,"kuntakoodi":"091"},)"
      R"({"tietoryhma":"SUKUPUOLI","muutosattribuutti":"KORJATTU","sukupuoli":"NAINEN"},)"
      R"({"tietoryhma":"SUKUPUOLI","muutosattribuutti":"KORJATTAVA","sukupuoli":"MIES"})");
  const std::vector<Muutosattribuutti> want = {
      Muutosattribuutti::Lisatty,   Muutosattribuutti::Muutettu, Muutosattribuutti::Poistettu,
      Muutosattribuutti::Korjattava, Muutosattribuutti::Korjattu, Muutosattribuutti::Lisatieto,
      Muutosattribuutti::Puuttuu,   Muutosattribuutti::Puuttuu};
  ASSERT_EQ(r.tietoryhmat.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(r.tietoryhmat[i].muutosattribuutti, want[i]) << i;
    EXPECT_EQ(r.tietoryhmat[i].index, i);
  }
  EXPECT_TRUE(r.tietoryhmat[2].has_voimassaolevat_tiedot);
  EXPECT_TRUE(r.tietoryhmat[2].voimassaolevat_tiedot.empty());
  EXPECT_FALSE(r.tietoryhmat[1].has_voimassaolevat_tiedot);
  ASSERT_EQ(r.unknown_groups.size(), 2u);
  EXPECT_EQ(r.unknown_groups[0].name, "SUKUPUOLI");
  EXPECT_EQ(r.unknown_groups[0].muutosattribuutti, Muutosattribuutti::Korjattu);
  EXPECT_EQ(r.unknown_groups[0].index, 8u);
  EXPECT_EQ(r.unknown_groups[1].muutosattribuutti, Muutosattribuutti::Korjattava);
  EXPECT_STREQ(to_string(Muutosattribuutti::Korjattava), "KORJATTAVA");
  EXPECT_STREQ(to_string(Muutosattribuutti::Puuttuu), "");
}

TEST(DecodeGroups, VoimassaolevatTiedotDecodedAsEntries) {
  const PersonRecord r = one(
      R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"POISTETTU","katunimi":{"fi":"Vanhatie"},)"
      R"("alkupv":{"arvo":"2001-02-03","tarkkuus":"PAIVA"},"voimassaolevatTiedot":[)"
      R"({"katunimi":{"fi":"Uusitie","sv":"Nyvägen"},"katunumero":"1","osoitenumero":1,"alkupv":{"arvo":"2020-01","tarkkuus":"KUUKAUSI"}},)"
      R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","turvakiellonAlaisetKentat":["katunimi"]}]},)"
      R"({"tietoryhma":"NIMENMUUTOS","muutosattribuutti":"POISTETTU","nimilaji":"NYKYINEN_ETUNIMI","nimi":"A","voimassaolevatTiedot":null})");
  ASSERT_EQ(r.tietoryhmat.size(), 2u);
  const Group& g = r.tietoryhmat[0];
  EXPECT_EQ(g.get<Osoite>()->katunimi.fi, std::optional<std::string>("Vanhatie"));
  ASSERT_TRUE(g.has_voimassaolevat_tiedot);
  ASSERT_EQ(g.voimassaolevat_tiedot.size(), 2u);
  const Group& a = g.voimassaolevat_tiedot[0];
  EXPECT_EQ(a.kind, GroupKind::VakinainenKotimainenOsoite);
  EXPECT_EQ(a.index, 0u);
  EXPECT_EQ(a.muutosattribuutti, Muutosattribuutti::Puuttuu);
  EXPECT_EQ(a.get<Osoite>()->katunimi.sv, std::optional<std::string>("Nyvägen"));
  EXPECT_EQ(a.get<Osoite>()->alkupv, std::optional<Date>(ymd(2020, 1, 1, Tarkkuus::Kuukausi)));
  const Group& b = g.voimassaolevat_tiedot[1];
  EXPECT_EQ(b.index, 1u);
  EXPECT_TRUE(b.censored);
  EXPECT_EQ(b.muutosattribuutti, Muutosattribuutti::Lisatty);
  EXPECT_FALSE(r.tietoryhmat[1].has_voimassaolevat_tiedot);
}

TEST(DecodeGroups, HenkilotunnusKorjausNullOrAbsentActive) {
  const PersonRecord r = one(
      R"({"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"LISATTY","voimassaolo":"AKTIIVI",)"
      R"("muutettuHenkilotunnus":"060606-907H","aktiivinenHenkilotunnus":null,"edellisetHenkilotunnukset":["050505-906S"]},)"
      R"({"tietoryhma":"HENKILOTUNNUS_KORJAUS","muutosattribuutti":"MUUTETTU","voimassaolo":"PASSIIVI",)"
      R"("muutettuHenkilotunnus":"050505-906S"},)"
      R"({"tietoryhma":"HENKILOTUNNUS_KORJAUS","edellisetHenkilotunnukset":null,"voimassaolo":null})");
  ASSERT_EQ(r.tietoryhmat.size(), 3u);
  const auto& a = *r.tietoryhmat[0].get<HenkilotunnusKorjaus>();
  EXPECT_EQ(a.voimassaolo, HenkilotunnusKorjaus::Voimassaolo::Aktiivi);
  EXPECT_FALSE(a.aktiivinen_henkilotunnus.has_value());
  EXPECT_EQ(a.muutettu_henkilotunnus, std::optional<std::string>("060606-907H"));
  EXPECT_EQ(a.edelliset_henkilotunnukset, std::vector<std::string>{"050505-906S"});
  const auto& b = *r.tietoryhmat[1].get<HenkilotunnusKorjaus>();
  EXPECT_EQ(b.voimassaolo, HenkilotunnusKorjaus::Voimassaolo::Passiivi);
  EXPECT_FALSE(b.aktiivinen_henkilotunnus.has_value());
  EXPECT_TRUE(b.edelliset_henkilotunnukset.empty());
  const auto& c = *r.tietoryhmat[2].get<HenkilotunnusKorjaus>();
  EXPECT_EQ(c.voimassaolo, HenkilotunnusKorjaus::Voimassaolo::Puuttuu);
  EXPECT_FALSE(c.muutettu_henkilotunnus.has_value());
}

TEST(DecodeGroups, KotikuntaBothSpellings) {
  const PersonRecord r = one(
      R"({"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2015-08-01","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"KOTIKUNTA","kuntakoodi":"049","kuntaanMuuttoPv":{"arvo":"2016-09-02","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"KOTIKUNTA","kuntakoodi":"564","kuntaanMuuttopv":{"arvo":"2017-10-03","tarkkuus":"PAIVA"},)"
      R"("kuntaanMuuttoPv":{"arvo":"2017-10-03","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"KOTIKUNTA","kuntakoodi":"890","kuntaanMuuttoPv":{"arvo":"2018-01-01","tarkkuus":"PAIVA"},)"
      R"("kuntaanMuuttopv":{"arvo":"2018-11-04","tarkkuus":"PAIVA"}})");
  ASSERT_EQ(r.tietoryhmat.size(), 4u);
  const auto k = [&](std::size_t i) { return *r.tietoryhmat[i].get<Kotikunta>(); };
  EXPECT_EQ(k(0).kuntaan_muuttopv, std::optional<Date>(ymd(2015, 8, 1)));
  EXPECT_EQ(k(1).kuntaan_muuttopv, std::optional<Date>(ymd(2016, 9, 2)));
  EXPECT_EQ(k(1).kuntakoodi, std::optional<std::string>("049"));
  EXPECT_EQ(k(2).kuntaan_muuttopv, std::optional<Date>(ymd(2017, 10, 3)));
  EXPECT_FALSE(k(2).spellings_differ);
  EXPECT_EQ(k(3).kuntaan_muuttopv, std::optional<Date>(ymd(2018, 11, 4)));
  EXPECT_TRUE(k(3).spellings_differ);
}

TEST(DecodeGroups, TurvakieltoAndKuolinpaiva) {
  const PersonRecord r = one(
      R"({"tietoryhma":"TURVAKIELTO","muutosattribuutti":"MUUTETTU","turvakieltoAktiivinen":false},)"
      R"({"tietoryhma":"TURVAKIELTO","turvakieltoAktiivinen":true,"turvaLoppupv":{"arvo":"2030-01-01","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"KORJATTAVA","kuollut":true,"kuolinpv":{"arvo":"2024-04-29","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"KUOLINPAIVA","muutosattribuutti":"KORJATTU","kuollut":false})");
  ASSERT_EQ(r.tietoryhmat.size(), 4u);
  EXPECT_EQ(r.tietoryhmat[0].get<Turvakielto>()->turvakielto_aktiivinen, std::optional<bool>(false));
  EXPECT_FALSE(r.tietoryhmat[0].get<Turvakielto>()->turva_loppupv.has_value());
  EXPECT_EQ(r.tietoryhmat[1].get<Turvakielto>()->turva_loppupv, std::optional<Date>(ymd(2030, 1, 1)));
  EXPECT_EQ(r.tietoryhmat[2].get<Kuolinpaiva>()->kuollut, std::optional<bool>(true));
  EXPECT_EQ(r.tietoryhmat[3].get<Kuolinpaiva>()->kuollut, std::optional<bool>(false));
  EXPECT_FALSE(r.tietoryhmat[3].get<Kuolinpaiva>()->kuolinpv.has_value());
}

TEST(DecodeGroups, Languages) {
  const PersonRecord r = one(
      R"({"tietoryhma":"AIDINKIELI","kielikoodi":"98","kielikoodiISO6392":"fse","nimi":"viittomakieli",)"
      R"("alkupv":{"arvo":"1990-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2000-01-01","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"ASIOINTIKIELI","kielikoodi":"sv","kielikoodiISO6392":"swe"})");
  const Kieli& a = *r.tietoryhmat[0].get<Kieli>();
  EXPECT_EQ(r.tietoryhmat[0].kind, GroupKind::Aidinkieli);
  EXPECT_EQ(a.kielikoodi, std::optional<std::string>("98"));
  EXPECT_EQ(a.kielikoodi_iso6392, std::optional<std::string>("fse"));
  EXPECT_EQ(a.nimi, std::optional<std::string>("viittomakieli"));
  EXPECT_EQ(a.loppupv, std::optional<Date>(ymd(2000, 1, 1)));
  EXPECT_EQ(r.tietoryhmat[1].kind, GroupKind::Asiointikieli);
  EXPECT_FALSE(r.tietoryhmat[1].get<Kieli>()->nimi.has_value());
}

TEST(DecodeGroups, NamesAndNameChanges) {
  const PersonRecord r = one(
      R"({"tietoryhma":"HENKILON_NIMI","etunimi":"Aatu","sukunimi":"Ahonen Tes","etunimiUTF8":"Åatu","sukunimiUTF8":"Ahonen Tes",)"
      R"("alkupv":{"arvo":"2000-01-01","tarkkuus":"PAIVA"},"loppupv":{"arvo":"2001-01-01","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"NIMENMUUTOS","nimilaji":"NYKYINEN_KUTSUMANIMI","nimi":"Aatu","nimiUTF8":"Åatu",)"
      R"("alkupv":{"arvo":"2000","tarkkuus":"VUOSI"}})");
  const HenkilonNimi& n = *r.tietoryhmat[0].get<HenkilonNimi>();
  EXPECT_EQ(n.etunimi_utf8, std::optional<std::string>("Åatu"));
  EXPECT_EQ(n.loppupv, std::optional<Date>(ymd(2001, 1, 1)));
  const Nimenmuutos& m = *r.tietoryhmat[1].get<Nimenmuutos>();
  EXPECT_EQ(m.nimilaji, std::optional<std::string>("NYKYINEN_KUTSUMANIMI"));
  EXPECT_EQ(m.nimi_utf8, std::optional<std::string>("Åatu"));
  EXPECT_EQ(m.alkupv, std::optional<Date>(ymd(2000, 1, 1, Tarkkuus::Vuosi)));
}

// ---------------------------------------------------------------------------
// Dates and timestamps
// ---------------------------------------------------------------------------
TEST(DecodeDates, PrecisionAndValidation) {
  struct Case {
    const char* arvo;
    const char* tarkkuus;  // nullptr: key absent
    bool ok;
    int y, m, d;
    Tarkkuus t;
  };
  const std::vector<Case> cases = {
      {"2024-02-29", "PAIVA", true, 2024, 2, 29, Tarkkuus::Paiva},
      {"2000-02-29", "PAIVA", true, 2000, 2, 29, Tarkkuus::Paiva},
      {"1900-02-29", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2023-02-29", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2024-04-31", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2024-00-10", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2024-01-00", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"0000-01-01", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"0001-01-01", "PAIVA", true, 1, 1, 1, Tarkkuus::Paiva},
      {"9999-12-31", "PAIVA", true, 9999, 12, 31, Tarkkuus::Paiva},
      {"2024-1-01", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2024/01/01", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {" 2024-01-01", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2024-01-01T00:00:00Z", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2010-11", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"", "PAIVA", false, 0, 0, 0, Tarkkuus::Paiva},
      {"2024-05-02", nullptr, true, 2024, 5, 2, Tarkkuus::Paiva},
      {"2010-11-01", "KUUKAUSI", true, 2010, 11, 1, Tarkkuus::Kuukausi},
      {"2010-11-00", "KUUKAUSI", true, 2010, 11, 1, Tarkkuus::Kuukausi},
      {"2010-11-15", "KUUKAUSI", true, 2010, 11, 1, Tarkkuus::Kuukausi},
      {"2010-11", "KUUKAUSI", true, 2010, 11, 1, Tarkkuus::Kuukausi},
      {"2010-13-01", "KUUKAUSI", false, 0, 0, 0, Tarkkuus::Kuukausi},
      {"2010-00-00", "KUUKAUSI", false, 0, 0, 0, Tarkkuus::Kuukausi},
      {"2010-02-30", "KUUKAUSI", false, 0, 0, 0, Tarkkuus::Kuukausi},
      {"1970", "KUUKAUSI", false, 0, 0, 0, Tarkkuus::Kuukausi},
      {"1970", "VUOSI", true, 1970, 1, 1, Tarkkuus::Vuosi},
      {"1970-01-01", "VUOSI", true, 1970, 1, 1, Tarkkuus::Vuosi},
      {"1970-00-00", "VUOSI", true, 1970, 1, 1, Tarkkuus::Vuosi},
      {"1970-06-00", "VUOSI", true, 1970, 1, 1, Tarkkuus::Vuosi},
      {"1970-06", "VUOSI", true, 1970, 1, 1, Tarkkuus::Vuosi},
      {"1970-00-05", "VUOSI", false, 0, 0, 0, Tarkkuus::Vuosi},
      {"1970-13-01", "VUOSI", false, 0, 0, 0, Tarkkuus::Vuosi},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.arvo) + " " + (c.tarkkuus ? c.tarkkuus : "(none)"));
    std::string date = std::string(R"({"arvo":")") + c.arvo + "\"";
    if (c.tarkkuus) date += std::string(R"(,"tarkkuus":")") + c.tarkkuus + "\"";
    date += "}";
    const std::string g = R"({"tietoryhma":"KUOLINPAIVA","kuollut":true,"kuolinpv":)" + date + "}";
    if (c.ok) {
      const PersonRecord r = one(g);
      ASSERT_EQ(r.tietoryhmat.size(), 1u);
      EXPECT_EQ(r.tietoryhmat[0].get<Kuolinpaiva>()->kuolinpv, std::optional<Date>(ymd(c.y, c.m, c.d, c.t)));
    } else {
      const RecordError e = one_error(g);
      EXPECT_STREQ(e.field, "kuolinpv");
      EXPECT_STREQ(e.group, "KUOLINPAIVA");
      EXPECT_EQ(e.henkilotunnus, std::optional<std::string>(kHetu));
    }
  }
  // tarkkuus null means PAIVA too
  const PersonRecord r = one(R"({"tietoryhma":"KUOLINPAIVA","kuolinpv":{"arvo":"2024-05-02","tarkkuus":null}})");
  EXPECT_EQ(r.tietoryhmat[0].get<Kuolinpaiva>()->kuolinpv, std::optional<Date>(ymd(2024, 5, 2)));
}

TEST(DecodeDates, DayNumbers) {
  EXPECT_EQ(ymd(1970, 1, 1).days_since_unix_epoch(), 0);
  EXPECT_EQ(ymd(2000, 1, 1).days_since_unix_epoch(), 10957);
  EXPECT_EQ(ymd(1969, 12, 31).days_since_unix_epoch(), -1);
  EXPECT_EQ(ymd(2024, 2, 29).days_since_unix_epoch(), 19782);
  EXPECT_EQ(ymd(1, 1, 1).days_since_unix_epoch(), -719162);
  EXPECT_EQ(ymd(2010, 11, 1, Tarkkuus::Kuukausi).iso(), "2010-11-01");
  EXPECT_EQ(ymd(7, 3, 9).iso(), "0007-03-09");
}

TEST(DecodeDates, Muutospv) {
  const std::int64_t base = std::int64_t(days_from_civil(2024, 5, 1)) * 86400;
  const std::vector<std::pair<std::string, std::int64_t>> ok = {
      {"2024-05-01T21:00:00.000Z", (base + 21 * 3600) * 1000000},
      {"2024-05-01T21:00:00Z", (base + 21 * 3600) * 1000000},
      {"2024-05-01T21:00:00.5Z", (base + 21 * 3600) * 1000000 + 500000},
      {"2024-05-01T21:00:00.123456789Z", (base + 21 * 3600) * 1000000 + 123456},
      {"2024-05-02T00:00:00+03:00", (base + 21 * 3600) * 1000000},
      {"2024-05-01T20:00:00-01:00", (base + 21 * 3600) * 1000000},
  };
  for (const auto& [text, us] : ok) {
    SCOPED_TRACE(text);
    const PersonRecord r = one("", ",\"muutospv\":\"" + text + "\"");
    ASSERT_TRUE(r.muutospv.has_value());
    EXPECT_EQ(r.muutospv->text, text);
    EXPECT_EQ(r.muutospv->unix_micros, us);
  }
  EXPECT_FALSE(one("", ",\"muutospv\":null").muutospv.has_value());
  for (const char* bad : {"2024-05-01T24:00:00Z", "2024-05-01 21:00:00Z", "2024-05-01T21:00:00", "2024-05-01T21:00Z",
                          "2024-05-01T21:00:00.Z", "2024-05-01T21:00:00.1234567891Z", "2024-02-30T21:00:00Z",
                          "2024-05-01T21:00:00+3:00", "2024-05-01T21:00:00Zx", "2024-05-01T21:60:00Z", ""}) {
    SCOPED_TRACE(bad);
    const RecordError e = one_error("", std::string(",\"muutospv\":\"") + bad + "\"");
    EXPECT_NE(std::string(e.reason).find("muutospv"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------
TEST(DecodeAddresses, ContactAddressesEitherShape) {
  const PersonRecord r = one(
      R"({"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","muutosattribuutti":"LISATTY","postiosoite":{"fi":"PL 7","sv":"PB 7"},)"
      R"("postinumero":"00101","postitoimipaikka":{"fi":"HELSINKI","sv":"HELSINGFORS"},"alkupv":{"arvo":"2024-01-01","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","katunimi":{"fi":"Yhteystie"},"katunumero":"3","postinumero":"00100",)"
      R"("postitoimipaikka":{"fi":"HELSINKI"}},)"
      R"({"tietoryhma":"ULKOMAINEN_YHTEYSOSOITE","postiosoite":"Box 12","postiosoiteLisarivi":"c/o Test",)"
      R"("postitoimipaikka":"111 22 STOCKHOLM","valtiokoodi":"752","valtionimi":"Ruotsi","loppupv":{"arvo":"2030-12-31","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"ULKOMAINEN_YHTEYSOSOITE","lahiosoite":"Sadama 5","paikkakunta":"10111 TALLINN","valtiokoodi":"233"})");
  ASSERT_EQ(r.tietoryhmat.size(), 4u);
  const Osoite& a = *r.tietoryhmat[0].get<Osoite>();
  EXPECT_EQ(r.tietoryhmat[0].kind, GroupKind::KotimainenYhteysosoite);
  EXPECT_EQ(a.postiosoite.fi, std::optional<std::string>("PL 7"));
  EXPECT_EQ(a.postiosoite.sv, std::optional<std::string>("PB 7"));
  EXPECT_FALSE(a.postiosoite.plain);
  EXPECT_EQ(a.postitoimipaikka.sv, std::optional<std::string>("HELSINGFORS"));
  const Osoite& b = *r.tietoryhmat[1].get<Osoite>();
  EXPECT_EQ(b.katunimi.fi, std::optional<std::string>("Yhteystie"));
  EXPECT_EQ(b.katunumero, std::optional<std::string>("3"));
  const Osoite& c = *r.tietoryhmat[2].get<Osoite>();
  EXPECT_EQ(r.tietoryhmat[2].kind, GroupKind::UlkomainenYhteysosoite);
  EXPECT_EQ(c.postiosoite.fi, std::optional<std::string>("Box 12"));
  EXPECT_TRUE(c.postiosoite.plain);
  EXPECT_EQ(c.postiosoite_lisarivi, std::optional<std::string>("c/o Test"));
  EXPECT_EQ(c.postitoimipaikka.fi, std::optional<std::string>("111 22 STOCKHOLM"));
  EXPECT_TRUE(c.postitoimipaikka.plain);
  EXPECT_EQ(c.valtiokoodi, std::optional<std::string>("752"));
  EXPECT_EQ(c.valtionimi, std::optional<std::string>("Ruotsi"));
  EXPECT_EQ(c.loppupv, std::optional<Date>(ymd(2030, 12, 31)));
  const Osoite& d = *r.tietoryhmat[3].get<Osoite>();
  EXPECT_EQ(d.lahiosoite, std::optional<std::string>("Sadama 5"));
  EXPECT_EQ(d.paikkakunta, std::optional<std::string>("10111 TALLINN"));
}

TEST(DecodeAddresses, ForeignGroupsAndEveryField) {
  const PersonRecord r = one(
      R"({"tietoryhma":"ULKOMAINEN_POSTIOSOITE","postiosoite":{"fi":"Rue 1"},"postiosoiteLisarivi":"Apt 2",)"
      R"("postitoimipaikka":{"fi":"PARIS"},"valtiokoodi":"250","valtionimi":"Ranska"},)"
      R"({"tietoryhma":"TILAPAINEN_ULKOMAINEN_OSOITE","lahiosoite":"Calle 3","paikkakunta":"MADRID","valtiokoodi":"998","valtionimi":"Tuntematon"},)"
      R"({"tietoryhma":"TILAPAINEN_KOTIMAINEN_OSOITE","katunimi":{"sv":"Strandvägen"},"katunumero":"6a-6b","huoneistokirjain":"A",)"
      R"("huoneistonumero":"004","jakokirjain":"b","postinumero":"02230","postitoimipaikka":{"sv":"ESBO"},"rakennustunnus":"900000001B",)"
      R"("osoitenumero":2147483647,"kuntakoodi":"049","alkupv":{"arvo":"2024-01-01","tarkkuus":"PAIVA"},"loppupv":null,"katunumero2":5})");
  const Osoite& a = *r.tietoryhmat[0].get<Osoite>();
  EXPECT_EQ(r.tietoryhmat[0].kind, GroupKind::UlkomainenPostiosoite);
  EXPECT_EQ(a.postiosoite.fi, std::optional<std::string>("Rue 1"));
  EXPECT_EQ(a.postiosoite_lisarivi, std::optional<std::string>("Apt 2"));
  EXPECT_EQ(a.valtionimi, std::optional<std::string>("Ranska"));
  const Osoite& b = *r.tietoryhmat[1].get<Osoite>();
  EXPECT_EQ(r.tietoryhmat[1].kind, GroupKind::TilapainenUlkomainenOsoite);
  EXPECT_EQ(b.valtiokoodi, std::optional<std::string>("998"));
  const Osoite& c = *r.tietoryhmat[2].get<Osoite>();
  EXPECT_FALSE(c.katunimi.fi.has_value());
  EXPECT_EQ(c.katunimi.sv, std::optional<std::string>("Strandvägen"));
  EXPECT_EQ(c.katunumero, std::optional<std::string>("6a-6b"));
  EXPECT_EQ(c.jakokirjain, std::optional<std::string>("b"));
  EXPECT_EQ(c.osoitenumero, std::optional<std::int32_t>(2147483647));
  EXPECT_FALSE(c.loppupv.has_value());
}

TEST(DecodeAddresses, NullFieldsAreAbsent) {
  const PersonRecord r = one(
      R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":null,"katunumero":null,"osoitenumero":null,)"
      R"("postitoimipaikka":{"fi":null,"sv":"ESBO"},"alkupv":null})");
  const Osoite& a = *r.tietoryhmat[0].get<Osoite>();
  EXPECT_FALSE(a.katunimi.fi || a.katunimi.sv);
  EXPECT_FALSE(a.katunumero.has_value());
  EXPECT_FALSE(a.osoitenumero.has_value());
  EXPECT_FALSE(a.postitoimipaikka.fi.has_value());
  EXPECT_EQ(a.postitoimipaikka.sv, std::optional<std::string>("ESBO"));
  EXPECT_FALSE(a.alkupv.has_value());
}

// ---------------------------------------------------------------------------
// Censored stubs, unknown groups, unknown fields
// ---------------------------------------------------------------------------
TEST(DecodeCensored, StubKeepsOnlyFieldNames) {
  const PersonRecord r = one(
      R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"MUUTETTU","turvakiellonAlaisetKentat":["kuntakoodi","kuntaanMuuttopv"],)"
      R"("kuntakoodi":"091","alkupv":{"arvo":"2024-01-01","tarkkuus":"PAIVA"}},)"
      R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","turvakiellonAlaisetKentat":[]},)"
      R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","turvakiellonAlaisetKentat":null,"katunumero":"1"},)"
      R"({"tietoryhma":"SAHKOPOSTIOSOITE","turvakiellonAlaisetKentat":"not validated for unknown groups"})");
  ASSERT_EQ(r.tietoryhmat.size(), 3u);
  const Group& k = r.tietoryhmat[0];
  EXPECT_TRUE(k.censored);
  EXPECT_EQ(k.muutosattribuutti, Muutosattribuutti::Muutettu);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(k.data));
  EXPECT_EQ(k.censored_fields, (std::vector<std::string>{"kuntakoodi", "kuntaanMuuttopv"}));
  EXPECT_TRUE(r.tietoryhmat[1].censored);
  EXPECT_TRUE(r.tietoryhmat[1].censored_fields.empty());
  EXPECT_FALSE(r.tietoryhmat[2].censored);
  EXPECT_EQ(r.tietoryhmat[2].get<Osoite>()->katunumero, std::optional<std::string>("1"));
  ASSERT_EQ(r.unknown_groups.size(), 1u);
  EXPECT_TRUE(r.unknown_groups[0].censored);
}

TEST(DecodeUnknown, FieldsNeitherStoredNorValidated) {
  const PersonRecord r = one(
      R"({"tietoryhma":"USKONTOKUNTA","uskontokunta":275,"x":{"deep":[1,2,{"a":null}]},"alkupv":"not a date"},)"
      R"({"tietoryhma":"HENKILON_NIMI","etunimi":"A","tuntematon":{"x":[1]},"lisakentta":5},)"
      R"({"tietoryhma":"ASUINPAIKKA_2"})",
      R"(,"tuntematonAvain":{"a":1},"muutospv":null)");
  ASSERT_EQ(r.tietoryhmat.size(), 1u);
  EXPECT_EQ(r.tietoryhmat[0].get<HenkilonNimi>()->etunimi, std::optional<std::string>("A"));
  ASSERT_EQ(r.unknown_groups.size(), 2u);
  EXPECT_EQ(r.unknown_groups[0].name, "USKONTOKUNTA");
  EXPECT_EQ(r.unknown_groups[0].index, 0u);
  EXPECT_EQ(r.unknown_groups[1].name, "ASUINPAIKKA_2");
  EXPECT_EQ(r.unknown_groups[1].index, 2u);
}

TEST(DecodeUnknown, CountsPerName) {
  const std::string page =
      R"({"perustiedot":[{"henkilotunnus":"010101-900R","tietoryhmat":[{"tietoryhma":"SUKUPUOLI"},{"tietoryhma":"SUKUPUOLI"},)"
      R"({"tietoryhma":"KANSALAISUUS"}]},{"henkilotunnus":"010101-901S","tietoryhmat":[{"tietoryhma":"SUKUPUOLI"}]},)"
      R"({"henkilotunnus":"010101-902T","tietoryhmat":[{"tietoryhma":"SUKUPUOLI"},{"tietoryhma":"KOTIKUNTA","kuntakoodi":5}]}],)"
      R"("ajanTasalla":false})";
  const BasePage p = decode_base(Input(std::string_view(page)));
  EXPECT_FALSE(p.ajan_tasalla);
  EXPECT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.errors.size(), 1u);
  // The failed record's groups are not counted.
  EXPECT_EQ(p.stats.unknown_group_counts.at("SUKUPUOLI"), 3u);
  EXPECT_EQ(p.stats.unknown_group_counts.at("KANSALAISUUS"), 1u);
  EXPECT_EQ(p.stats.unknown_group_counts.size(), 2u);
  EXPECT_EQ(p.stats.unknown_groups, 4u);
}

// ---------------------------------------------------------------------------
// EDUNVALVONTA / EDUNVALVONTAVALTUUTUS allow-list
// ---------------------------------------------------------------------------
TEST(DecodeGuardianship, OnlyAllowListedKeysKept) {
  const PersonRecord r = one(
      R"({"tietoryhma":"EDUNVALVONTA","muutosattribuutti":"LISATTY","alkupv":{"arvo":"2020-01-01","tarkkuus":"PAIVA"},)"
      R"("paatymispv":{"arvo":"2030-01-01","tarkkuus":"PAIVA"},"sahkoposti":"salainen@example.invalid",)"
      R"("nykyisetEdunvalvojat":[{"edunvalvoja":{"henkilotunnus":"040404-9051","etunimet":"Eero","sukunimi":"Valvoja Tes",)"
      R"("osoite":{"katunimi":{"fi":"Salakatu"},"postinumero":"00100"},"lahiosoite":"Salakatu 1","puhelin":"0401234567"},)"
      R"("tehtavat":["TALOUDELLISET_ASIAT"],"rooli":{"fi":"Edunvalvoja","sv":"Intressebevakare"},"kotikunta":"091"}]},)"
      R"({"tietoryhma":"EDUNVALVONTAVALTUUTUS","nykyisetEdunvalvontavaltuutetut":[{"edunvalvontavaltuutettu":)"
      R"({"henkilotunnus":"060606-907H","sukunimi":"Q\"uote\\ Tes\n","postiosoite":"PL 1"},)"
      R"("valtuutussuhteenAlkupv":{"arvo":"2021-02-03","tarkkuus":"PAIVA"},"valtuutussuhteenLoppupv":null}],"loppupv":{"arvo":"2022","tarkkuus":"VUOSI"}})");
  ASSERT_EQ(r.tietoryhmat.size(), 2u);
  const Edunvalvonta& e = *r.tietoryhmat[0].get<Edunvalvonta>();
  EXPECT_EQ(e.alkupv, std::optional<Date>(ymd(2020, 1, 1)));
  EXPECT_EQ(e.paatymispv, std::optional<Date>(ymd(2030, 1, 1)));
  EXPECT_FALSE(e.loppupv.has_value());
  EXPECT_EQ(e.tiedot,
            R"({"alkupv":{"arvo":"2020-01-01","tarkkuus":"PAIVA"},"paatymispv":{"arvo":"2030-01-01","tarkkuus":"PAIVA"},)"
            R"("nykyisetEdunvalvojat":[{"edunvalvoja":{"henkilotunnus":"040404-9051","etunimet":"Eero","sukunimi":"Valvoja Tes"},)"
            R"("tehtavat":["TALOUDELLISET_ASIAT"],"rooli":{"fi":"Edunvalvoja","sv":"Intressebevakare"}}]})");
  for (const char* leak : {"Salakatu", "00100", "0401234567", "salainen", "091", "osoite", "muutosattribuutti"})
    EXPECT_EQ(e.tiedot.find(leak), std::string::npos) << leak;

  const Edunvalvonta& v = *r.tietoryhmat[1].get<Edunvalvonta>();
  EXPECT_EQ(r.tietoryhmat[1].kind, GroupKind::Edunvalvontavaltuutus);
  EXPECT_EQ(v.loppupv, std::optional<Date>(ymd(2022, 1, 1, Tarkkuus::Vuosi)));
  EXPECT_EQ(v.tiedot.find("PL 1"), std::string::npos);
  // Valid JSON with the escapes preserved.
  simdjson::dom::parser parser;
  simdjson::padded_string ps(v.tiedot);
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(ps).get(doc), simdjson::SUCCESS) << v.tiedot;
  std::string_view surname = doc["nykyisetEdunvalvontavaltuutetut"].at(0)["edunvalvontavaltuutettu"]["sukunimi"];
  EXPECT_EQ(surname, "Q\"uote\\ Tes\n");
  EXPECT_TRUE(doc["nykyisetEdunvalvontavaltuutetut"].at(0)["valtuutussuhteenLoppupv"].is_null());
}

TEST(DecodeGuardianship, EmptyAndCensored) {
  const PersonRecord r = one(
      R"({"tietoryhma":"EDUNVALVONTA"},{"tietoryhma":"EDUNVALVONTA","turvakiellonAlaisetKentat":["nykyisetEdunvalvojat"]})");
  EXPECT_EQ(r.tietoryhmat[0].get<Edunvalvonta>()->tiedot, "{}");
  EXPECT_TRUE(r.tietoryhmat[1].censored);
  EXPECT_EQ(r.tietoryhmat[1].get<Edunvalvonta>(), nullptr);
  EXPECT_FALSE(edunvalvonta_allowed_keys().empty());
}

// ---------------------------------------------------------------------------
// Hetu shape
// ---------------------------------------------------------------------------
TEST(DecodeHetu, Shape) {
  for (const char* ok : {"010101-900R", "020202A903J", "150585-902R", "220394Y9052", "010101+900R", "010101F9000",
                         "010101U900H"})
    EXPECT_TRUE(hetu_shape_ok(ok)) << ok;
  for (const char* bad : {"", "010101-900", "010101-900RR", "010101G900R", "010101-900G", "010101-900I",
                          "010101-900O", "010101-900Z", "0101010900R", "a10101-900R", "010101-9a0R", "010101 900R"})
    EXPECT_FALSE(hetu_shape_ok(bad)) << bad;
}
