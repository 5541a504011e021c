// Decoder: the real DVV sandbox capture and the vtj-api.md §12 example pages.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "decode/decoder.hpp"
#include "test_decode_util.hpp"

using namespace vtj::decode;
using vtj_test::find_person;
using vtj_test::groups_of;
using vtj_test::ymd;

namespace {

const std::set<std::string> kKnown = {
    "HENKILOTUNNUS_KORJAUS", "HENKILON_NIMI", "NIMENMUUTOS", "AIDINKIELI", "ASIOINTIKIELI", "KUOLINPAIVA",
    "TURVAKIELTO", "EDUNVALVONTA", "EDUNVALVONTAVALTUUTUS", "VAKINAINEN_KOTIMAINEN_OSOITE",
    "TILAPAINEN_KOTIMAINEN_OSOITE", "KOTIMAINEN_POSTIOSOITE", "VAKINAINEN_ULKOMAINEN_OSOITE",
    "TILAPAINEN_ULKOMAINEN_OSOITE", "ULKOMAINEN_POSTIOSOITE", "KOTIMAINEN_YHTEYSOSOITE",
    "ULKOMAINEN_YHTEYSOSOITE", "KOTIKUNTA"};

const std::optional<std::string>* string_field(const Osoite& a, const std::string& key) {
  if (key == "katunumero") return &a.katunumero;
  if (key == "huoneistokirjain") return &a.huoneistokirjain;
  if (key == "huoneistonumero") return &a.huoneistonumero;
  if (key == "jakokirjain") return &a.jakokirjain;
  if (key == "postinumero") return &a.postinumero;
  if (key == "rakennustunnus") return &a.rakennustunnus;
  if (key == "kuntakoodi") return &a.kuntakoodi;
  if (key == "postiosoiteLisarivi") return &a.postiosoite_lisarivi;
  if (key == "lahiosoite") return &a.lahiosoite;
  if (key == "paikkakunta") return &a.paikkakunta;
  if (key == "valtiokoodi") return &a.valtiokoodi;
  if (key == "valtionimi") return &a.valtionimi;
  return nullptr;
}

BasePage decode_fixture() { return decode_base(Input(std::string_view(vtj_test::fixture_text()))); }

}  // namespace

// ---------------------------------------------------------------------------
// Group name table
// ---------------------------------------------------------------------------
TEST(DecodeNames, EighteenGroupsRoundTrip) {
  EXPECT_EQ(kKnown.size(), kGroupKindCount);
  for (std::size_t i = 0; i < kGroupKindCount; ++i) {
    const auto k = static_cast<GroupKind>(i);
    EXPECT_EQ(kKnown.count(group_name(k)), 1u) << group_name(k);
    ASSERT_TRUE(group_kind(group_name(k)).has_value());
    EXPECT_EQ(*group_kind(group_name(k)), k);
  }
  EXPECT_FALSE(group_kind("SUKUPUOLI").has_value());
  EXPECT_FALSE(group_kind("kotikunta").has_value());
  EXPECT_FALSE(group_kind("").has_value());
}

// ---------------------------------------------------------------------------
// The real sandbox capture
// ---------------------------------------------------------------------------
TEST(DecodeFixture, ProjectCopyIsByteIdenticalToShared) {
  const std::string shared_path = std::string(VTJ_SHARED_DIR) + "/fixtures/dvv-sandbox/perustiedot-response.json";
  std::string shared;
  try {
    shared = vtj_test::read_file(shared_path);
  } catch (const std::exception&) {
    GTEST_SKIP() << "no shared/ beside the checkout";
  }
  EXPECT_EQ(vtj_test::read_file(vtj_test::data_path("dvv-sandbox/perustiedot-response.json")), shared);
}

TEST(DecodeFixture, DecodesAllFifteenPersons) {
  const BasePage p = decode_fixture();
  EXPECT_TRUE(p.ajan_tasalla);
  EXPECT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 15u);
  const std::vector<std::string> hetus = {"010121A962W", "010188-916P", "010192-921W", "020275-9862",
                                          "010978-9932", "011069-9184", "120598-9999", "150327-977K",
                                          "260260-925P", "240582-9477", "010515A957D", "120514A9501",
                                          "020155-997E", "301062-907N", "160976-904B"};
  for (std::size_t i = 0; i < hetus.size(); ++i) {
    EXPECT_EQ(p.records[i].henkilotunnus, hetus[i]);
    EXPECT_EQ(p.records[i].position, i);
    EXPECT_FALSE(p.records[i].muutospv.has_value());
    for (const auto& g : p.records[i].tietoryhmat) EXPECT_EQ(g.muutosattribuutti, Muutosattribuutti::Puuttuu);
    for (const auto& u : p.records[i].unknown_groups) EXPECT_EQ(u.muutosattribuutti, Muutosattribuutti::Puuttuu);
  }
  EXPECT_EQ(p.stats.records, 15u);
  EXPECT_EQ(p.stats.errors, 0u);
  EXPECT_FALSE(p.stats.utf8_repaired);
}

TEST(DecodeFixture, GroupNamesCountedAndKnownOnesDecoded) {
  const std::string text = vtj_test::fixture_text();
  // Independent count straight from the JSON.
  simdjson::dom::parser parser;
  simdjson::padded_string ps(text);
  simdjson::dom::element root = parser.parse(ps);
  std::map<std::string, std::uint64_t> all, unknown;
  std::size_t known_total = 0;
  for (simdjson::dom::element person : root["perustiedot"].get_array()) {
    for (simdjson::dom::element g : person["tietoryhmat"].get_array()) {
      const std::string name{std::string_view(g["tietoryhma"])};
      ++all[name];
      if (kKnown.count(name)) ++known_total;
      else ++unknown[name];
    }
  }
  EXPECT_EQ(all.size(), 67u);

  const BasePage p = decode_fixture();
  std::map<std::string, std::uint64_t> got(p.stats.unknown_group_counts.begin(), p.stats.unknown_group_counts.end());
  EXPECT_EQ(got, unknown);
  std::size_t known_present = 0;
  for (const auto& [name, n] : all) known_present += kKnown.count(name);
  EXPECT_EQ(known_present, 14u);  // EDUNVALVONTA*, *_YHTEYSOSOITE are not in the capture
  EXPECT_EQ(got.size(), 67u - 14u);
  EXPECT_EQ(p.stats.known_groups, known_total);
  std::size_t decoded_known = 0, decoded_unknown = 0;
  for (const auto& r : p.records) {
    decoded_known += r.tietoryhmat.size();
    decoded_unknown += r.unknown_groups.size();
    // indices of known and unknown entries together are 0..n-1
    std::set<std::uint32_t> idx;
    for (const auto& g : r.tietoryhmat) idx.insert(g.index);
    for (const auto& u : r.unknown_groups) idx.insert(u.index);
    ASSERT_EQ(idx.size(), r.tietoryhmat.size() + r.unknown_groups.size());
    EXPECT_EQ(*idx.rbegin(), idx.size() - 1);
  }
  EXPECT_EQ(decoded_known, known_total);
  EXPECT_EQ(got.at("EDELLINEN_KOTIMAINEN_ASUINPAIKKATUNNUS"), 17u);
  EXPECT_EQ(got.at("SUKUPUOLI"), 15u);
  EXPECT_EQ(got.at("USKONTOKUNTALAJI"), 15u);
  EXPECT_EQ(got.at("ASIAKASREKISTERIN_PAIVITYSKIELTO"), 1u);
  std::uint64_t sum = 0;
  for (const auto& [n, c] : got) sum += c;
  EXPECT_EQ(decoded_unknown, sum);
}

TEST(DecodeFixture, CensoredPersons) {
  const BasePage p = decode_fixture();
  const std::map<std::string, std::vector<std::string>> expected_fields = {
      {"VAKINAINEN_KOTIMAINEN_OSOITE",
       {"katunimi", "katunumero", "huoneistokirjain", "huoneistonumero", "jakokirjain", "postinumero",
        "postitoimipaikka", "rakennustunnus", "osoitenumero", "kuntakoodi"}},
      {"TILAPAINEN_KOTIMAINEN_OSOITE",
       {"katunimi", "katunumero", "huoneistokirjain", "huoneistonumero", "jakokirjain", "postinumero",
        "postitoimipaikka", "rakennustunnus", "osoitenumero", "kuntakoodi"}},
      {"KOTIMAINEN_POSTIOSOITE", {"postiosoite", "postinumero", "postitoimipaikka"}},
      {"VAKINAINEN_ULKOMAINEN_OSOITE", {"lahiosoite", "paikkakunta", "valtiokoodi", "valtionimi"}},
      {"TILAPAINEN_ULKOMAINEN_OSOITE", {"lahiosoite", "paikkakunta", "valtiokoodi", "valtionimi"}},
      {"ULKOMAINEN_POSTIOSOITE", {"postiosoite", "postiosoiteLisarivi", "postitoimipaikka", "valtiokoodi", "valtionimi"}},
      {"KOTIKUNTA", {"kuntakoodi", "kuntaanMuuttopv"}},
  };
  for (const char* hetu : {"020275-9862", "240582-9477"}) {
    SCOPED_TRACE(hetu);
    const PersonRecord* r = find_person(p.records, hetu);
    ASSERT_NE(r, nullptr);
    // TURVAKIELTO delivered normally: active with an end date.
    auto tk = groups_of(*r, GroupKind::Turvakielto);
    ASSERT_EQ(tk.size(), 1u);
    EXPECT_FALSE(tk[0]->censored);
    const Turvakielto* t = tk[0]->get<Turvakielto>();
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->turvakielto_aktiivinen, std::optional<bool>(true));
    ASSERT_TRUE(t->turva_loppupv.has_value());
    // The seven censored groups of product.md §6, each a stub with its field list.
    std::set<std::string> censored_seen;
    for (const auto& g : r->tietoryhmat) {
      if (!g.censored) continue;
      censored_seen.insert(group_name(g.kind));
      EXPECT_TRUE(std::holds_alternative<std::monostate>(g.data));
      EXPECT_EQ(g.censored_fields, expected_fields.at(group_name(g.kind))) << group_name(g.kind);
    }
    EXPECT_EQ(censored_seen.size(), expected_fields.size());
    // Names stay uncensored.
    for (const Group* g : groups_of(*r, GroupKind::HenkilonNimi)) EXPECT_FALSE(g->censored);
    for (const Group* g : groups_of(*r, GroupKind::Nimenmuutos)) EXPECT_FALSE(g->censored);
    // Unknown location groups are flagged censored too (no values kept anyway).
    std::set<std::string> unknown_censored;
    for (const auto& u : r->unknown_groups)
      if (u.censored) unknown_censored.insert(u.name);
    EXPECT_EQ(unknown_censored,
              (std::set<std::string>{"TILAPAINEN_KUNTA", "VUODENVAIHTEEN_KUNTA",
                                     "VAKINAINEN_KOTIMAINEN_ASUINPAIKKATUNNUS",
                                     "TILAPAINEN_KOTIMAINEN_ASUINPAIKKATUNNUS", "VAKINAINEN_OLINPAIKASSA_ASUMINEN",
                                     "VAKINAINEN_ULKOMAILLA_ASUMINEN", "TILAPAINEN_OLINPAIKASSA_ASUMINEN",
                                     "TILAPAINEN_ULKOMAILLA_ASUMINEN", "SAHKOPOSTIOSOITE"}));
  }
  // Nobody else is censored.
  for (const auto& r : p.records) {
    if (r.henkilotunnus == "020275-9862" || r.henkilotunnus == "240582-9477") continue;
    for (const auto& g : r.tietoryhmat) EXPECT_FALSE(g.censored) << r.henkilotunnus;
    EXPECT_TRUE(groups_of(r, GroupKind::Turvakielto).empty());
  }
}

TEST(DecodeFixture, TurvakieltoEndDatesAsInCapture) {
  const BasePage p = decode_fixture();
  simdjson::dom::parser parser;
  const std::string text = vtj_test::fixture_text();
  simdjson::padded_string ps(text);
  simdjson::dom::element root = parser.parse(ps);
  for (simdjson::dom::element person : root["perustiedot"].get_array()) {
    for (simdjson::dom::element g : person["tietoryhmat"].get_array()) {
      if (std::string_view(g["tietoryhma"]) != "TURVAKIELTO") continue;
      const PersonRecord* r = find_person(p.records, std::string(std::string_view(person["henkilotunnus"])));
      ASSERT_NE(r, nullptr);
      const Turvakielto* t = groups_of(*r, GroupKind::Turvakielto).at(0)->get<Turvakielto>();
      EXPECT_EQ(t->turva_loppupv->iso(), std::string(std::string_view(g["turvaLoppuPv"]["arvo"])));
      EXPECT_EQ(std::string(to_string(t->turva_loppupv->tarkkuus)),
                std::string(std::string_view(g["turvaLoppuPv"]["tarkkuus"])));
    }
  }
}

// Every field of every uncensored address-shaped group equals the capture.
TEST(DecodeFixture, EveryAddressFieldIntact) {
  const BasePage p = decode_fixture();
  const std::string text = vtj_test::fixture_text();
  simdjson::dom::parser parser;
  simdjson::padded_string ps(text);
  simdjson::dom::element root = parser.parse(ps);
  std::size_t checked_fields = 0, checked_groups = 0;
  auto text_eq = [&](simdjson::dom::element v, const Kieliteksti& t) {
    simdjson::dom::object o = v;
    std::optional<std::string> fi, sv;
    for (auto kv : o) {
      if (kv.key == "fi") fi = std::string(std::string_view(kv.value));
      if (kv.key == "sv") sv = std::string(std::string_view(kv.value));
    }
    EXPECT_EQ(t.fi, fi);
    EXPECT_EQ(t.sv, sv);
    EXPECT_FALSE(t.plain);
  };
  auto str_eq = [&](simdjson::dom::element v, const std::optional<std::string>& s) {
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(*s, std::string(std::string_view(v)));
  };
  auto date_eq = [&](simdjson::dom::element v, const std::optional<Date>& d) {
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->iso(), std::string(std::string_view(v["arvo"])));
    EXPECT_EQ(std::string(to_string(d->tarkkuus)), std::string(std::string_view(v["tarkkuus"])));
  };
  for (simdjson::dom::element person : root["perustiedot"].get_array()) {
    const PersonRecord* r = find_person(p.records, std::string(std::string_view(person["henkilotunnus"])));
    ASSERT_NE(r, nullptr);
    std::uint32_t index = 0;
    for (simdjson::dom::element g : person["tietoryhmat"].get_array()) {
      const std::uint32_t my_index = index++;
      const auto kind = group_kind(std::string_view(g["tietoryhma"]));
      if (!kind || !(is_address_group(*kind) || *kind == GroupKind::Kotikunta)) continue;
      const Group* dg = nullptr;
      for (const auto& x : r->tietoryhmat)
        if (x.index == my_index) dg = &x;
      ASSERT_NE(dg, nullptr);
      EXPECT_EQ(dg->kind, *kind);
      simdjson::dom::object go = g;
      if (dg->censored) continue;
      ++checked_groups;
      if (*kind == GroupKind::Kotikunta) {
        const Kotikunta* k = dg->get<Kotikunta>();
        ASSERT_NE(k, nullptr);
        str_eq(g["kuntakoodi"], k->kuntakoodi);
        date_eq(g["kuntaanMuuttopv"], k->kuntaan_muuttopv);
        checked_fields += 2;
        continue;
      }
      const Osoite* a = dg->get<Osoite>();
      ASSERT_NE(a, nullptr);
      std::set<std::string> present;
      for (auto kv : go) {
        const std::string key(kv.key);
        present.insert(key);
        ++checked_fields;
        if (key == "tietoryhma") { --checked_fields; continue; }
        if (key == "katunimi") {
          text_eq(kv.value, a->katunimi);
        } else if (key == "postitoimipaikka") {
          text_eq(kv.value, a->postitoimipaikka);
        } else if (key == "postiosoite") {
          text_eq(kv.value, a->postiosoite);
        } else if (key == "osoitenumero") {
          ASSERT_TRUE(a->osoitenumero.has_value());
          EXPECT_EQ(*a->osoitenumero, std::int64_t(kv.value));
        } else if (key == "alkupv") {
          date_eq(kv.value, a->alkupv);
        } else if (key == "loppupv") {
          date_eq(kv.value, a->loppupv);
        } else if (const std::optional<std::string>* f = string_field(*a, key)) {
          str_eq(kv.value, *f);
        } else {
          ADD_FAILURE() << "unexpected address field in capture: " << key;
        }
      }
      // Absent fields stay empty.
      if (!present.count("huoneistokirjain")) {
        EXPECT_FALSE(a->huoneistokirjain.has_value());
      }
      if (!present.count("jakokirjain")) {
        EXPECT_FALSE(a->jakokirjain.has_value());
      }
      if (!present.count("loppupv")) {
        EXPECT_FALSE(a->loppupv.has_value());
      }
      if (!present.count("postiosoite")) {
        EXPECT_FALSE(a->postiosoite.fi || a->postiosoite.sv);
      }
    }
  }
  EXPECT_EQ(checked_groups, 5u + 3u + 1u + 8u);  // VAK 5, TILAP 3, VAK_ULK 1, KOTIKUNTA 8
  EXPECT_GT(checked_fields, 100u);
}

TEST(DecodeFixture, SpotChecks) {
  const BasePage p = decode_fixture();
  {  // 150327-977K: permanent and temporary domestic addresses
    const PersonRecord* r = find_person(p.records, "150327-977K");
    ASSERT_NE(r, nullptr);
    auto vak = groups_of(*r, GroupKind::VakinainenKotimainenOsoite);
    ASSERT_EQ(vak.size(), 1u);
    const Osoite& a = *vak[0]->get<Osoite>();
    EXPECT_EQ(a.katunimi.fi, std::optional<std::string>("Palosuvanto"));
    EXPECT_FALSE(a.katunimi.sv.has_value());
    EXPECT_EQ(a.katunumero, std::optional<std::string>("5-7"));
    EXPECT_EQ(a.huoneistokirjain, std::optional<std::string>("B"));
    EXPECT_EQ(a.huoneistonumero, std::optional<std::string>("004"));
    EXPECT_EQ(a.postinumero, std::optional<std::string>("99980"));
    EXPECT_EQ(a.postitoimipaikka.fi, std::optional<std::string>("UTSJOKI"));
    EXPECT_EQ(a.postitoimipaikka.sv, std::optional<std::string>("UTSJOKI"));
    EXPECT_EQ(a.rakennustunnus, std::optional<std::string>("900000630C"));
    EXPECT_EQ(a.osoitenumero, std::optional<std::int32_t>(2));
    EXPECT_EQ(a.kuntakoodi, std::optional<std::string>("890"));
    EXPECT_EQ(a.alkupv, std::optional<Date>(ymd(2019, 9, 13)));
    EXPECT_FALSE(a.loppupv.has_value());
    auto til = groups_of(*r, GroupKind::TilapainenKotimainenOsoite);
    ASSERT_EQ(til.size(), 1u);
    const Osoite& t = *til[0]->get<Osoite>();
    EXPECT_EQ(t.katunimi.sv, std::optional<std::string>("Svartvägen"));
    EXPECT_EQ(t.postitoimipaikka.sv, std::optional<std::string>("KYRKSLÄTT"));
    EXPECT_EQ(t.huoneistonumero, std::optional<std::string>("000"));
    EXPECT_EQ(t.kuntakoodi, std::optional<std::string>("257"));
    auto kk = groups_of(*r, GroupKind::Kotikunta);
    ASSERT_EQ(kk.size(), 1u);
    EXPECT_EQ(kk[0]->get<Kotikunta>()->kuntakoodi, std::optional<std::string>("890"));
    auto ai = groups_of(*r, GroupKind::Aidinkieli);
    ASSERT_EQ(ai.size(), 1u);
    EXPECT_EQ(ai[0]->get<Kieli>()->kielikoodi, std::optional<std::string>("sv"));
    EXPECT_EQ(ai[0]->get<Kieli>()->kielikoodi_iso6392, std::optional<std::string>("swe"));
    auto nimi = groups_of(*r, GroupKind::HenkilonNimi);
    ASSERT_EQ(nimi.size(), 1u);
    EXPECT_EQ(nimi[0]->get<HenkilonNimi>()->sukunimi_utf8, std::optional<std::string>("Lindholm Tes"));
    // Its KUUKAUSI dates (1965-11-01) are in EDELLINEN_KOTIKUNTA and
    // EDELLINEN_KOTIMAINEN_ASUINPAIKKATUNNUS, outside the 18 groups: counted only.
    int edellinen = 0;
    for (const auto& u : r->unknown_groups) edellinen += u.name == "EDELLINEN_KOTIKUNTA";
    EXPECT_EQ(edellinen, 3);
  }
  {  // 260260-925P: home municipality abroad (200)
    const PersonRecord* r = find_person(p.records, "260260-925P");
    ASSERT_NE(r, nullptr);
    auto kk = groups_of(*r, GroupKind::Kotikunta);
    ASSERT_EQ(kk.size(), 1u);
    const Kotikunta& k = *kk[0]->get<Kotikunta>();
    EXPECT_EQ(k.kuntakoodi, std::optional<std::string>("200"));
    EXPECT_EQ(k.kuntaan_muuttopv, std::optional<Date>(ymd(1977, 2, 2)));
    EXPECT_FALSE(k.spellings_differ);
    auto til = groups_of(*r, GroupKind::TilapainenKotimainenOsoite);
    ASSERT_EQ(til.size(), 1u);
    EXPECT_EQ(til[0]->get<Osoite>()->katunimi.fi, std::optional<std::string>("Porotie"));
    EXPECT_EQ(til[0]->get<Osoite>()->osoitenumero, std::optional<std::int32_t>(3));
  }
  {  // the one HENKILOTUNNUS_KORJAUS of the capture
    int n = 0;
    for (const auto& r : p.records) {
      for (const Group* g : groups_of(r, GroupKind::HenkilotunnusKorjaus)) {
        ++n;
        const HenkilotunnusKorjaus& h = *g->get<HenkilotunnusKorjaus>();
        EXPECT_EQ(h.voimassaolo, HenkilotunnusKorjaus::Voimassaolo::Aktiivi);
        EXPECT_TRUE(h.aktiivinen_henkilotunnus.has_value());
        EXPECT_TRUE(h.muutettu_henkilotunnus.has_value());
      }
    }
    EXPECT_EQ(n, 1);
  }
  {  // KUOLINPAIVA twice, with kuollut and kuolinpv
    int n = 0;
    for (const auto& r : p.records)
      for (const Group* g : groups_of(r, GroupKind::Kuolinpaiva)) {
        ++n;
        EXPECT_EQ(g->get<Kuolinpaiva>()->kuollut, std::optional<bool>(true));
        EXPECT_TRUE(g->get<Kuolinpaiva>()->kuolinpv.has_value());
      }
    EXPECT_EQ(n, 2);
  }
  {  // AIDINKIELI with a language name for special codes
    int with_name = 0;
    for (const auto& r : p.records)
      for (const Group* g : groups_of(r, GroupKind::Aidinkieli)) with_name += g->get<Kieli>()->nimi.has_value();
    EXPECT_EQ(with_name, 2);
  }
}

// The capture's only KUUKAUSI dates sit in EDELLINEN_KOTIKUNTA; a copy where
// that entry is renamed KOTIKUNTA shows the real date object decodes.
TEST(DecodeFixture, KuukausiDateOfCapture) {
  std::string text = vtj_test::fixture_text();
  text = vtj_test::replace_once(text, "\"EDELLINEN_KOTIKUNTA\"", "\"KOTIKUNTA\"", "\"150327-977K\"");
  const BasePage p = decode_base(Input(std::string_view(text)));
  ASSERT_TRUE(p.errors.empty());
  const PersonRecord* r = find_person(p.records, "150327-977K");
  ASSERT_NE(r, nullptr);
  auto kk = groups_of(*r, GroupKind::Kotikunta);
  ASSERT_EQ(kk.size(), 2u);
  const Kotikunta& k = *kk[1]->get<Kotikunta>();
  EXPECT_EQ(k.kuntakoodi, std::optional<std::string>("766"));
  ASSERT_TRUE(k.kuntaan_muuttopv.has_value());
  EXPECT_EQ(*k.kuntaan_muuttopv, ymd(1965, 11, 1, Tarkkuus::Kuukausi));
  EXPECT_EQ(k.kuntaan_muuttopv->tarkkuus, Tarkkuus::Kuukausi);
  EXPECT_EQ(k.kuntaan_muuttopv->iso(), "1965-11-01");
}

TEST(DecodeFixture, ZeroCopyPaddedInputGivesSameResult) {
  const std::string text = vtj_test::fixture_text();
  simdjson::padded_string ps(text);
  Decoder dec;
  const BasePage a = dec.decode_base(simdjson::padded_string_view(ps));
  const BasePage b = dec.decode_base(Input(std::string_view(text)));
  std::vector<char> buf(text.begin(), text.end());
  buf.reserve(text.size() + kPadding);
  const BasePage c = dec.decode_base(Input(buf.data(), buf.size(), buf.capacity()));
  ASSERT_EQ(a.records.size(), 15u);
  ASSERT_EQ(b.records.size(), 15u);
  ASSERT_EQ(c.records.size(), 15u);
  for (std::size_t i = 0; i < 15; ++i) {
    EXPECT_EQ(a.records[i].henkilotunnus, b.records[i].henkilotunnus);
    EXPECT_EQ(a.records[i].tietoryhmat.size(), b.records[i].tietoryhmat.size());
    EXPECT_EQ(a.records[i].unknown_groups.size(), c.records[i].unknown_groups.size());
  }
}

// ---------------------------------------------------------------------------
// vtj-api.md §12 pages
// ---------------------------------------------------------------------------
TEST(DecodeApiExamples, StartKey) {
  Decoder dec;
  EXPECT_EQ(dec.decode_start_key(Input(std::string_view(vtj_test::read_file(
                vtj_test::data_path("decode/vtj-api-12-kirjausavain.json"))))),
            5446623400);
  EXPECT_EQ(decode_start_key(Input(std::string_view("{\"viimeisinKirjausavain\":0}"))), 0);
  EXPECT_EQ(decode_start_key(Input(std::string_view("{\"x\":[1],\"viimeisinKirjausavain\":9223372036854775807}"))),
            INT64_MAX);
}

TEST(DecodeApiExamples, ChangesPage1) {
  const std::string text = vtj_test::read_file(vtj_test::data_path("decode/vtj-api-12-muutokset-page1.json"));
  const ChangesPage p = decode_changes(Input(std::string_view(text)));
  EXPECT_EQ(p.viimeisin_kirjausavain, 5446623412);
  EXPECT_FALSE(p.ajan_tasalla);
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 2u);
  const PersonRecord& r = p.records[0];
  EXPECT_EQ(r.henkilotunnus, "150585-902R");
  ASSERT_TRUE(r.muutospv.has_value());
  EXPECT_EQ(r.muutospv->text, "2024-05-01T21:00:00.000Z");
  EXPECT_EQ(r.muutospv->unix_micros, (std::int64_t(days_from_civil(2024, 5, 1)) * 86400 + 21 * 3600) * 1000000);
  ASSERT_EQ(r.tietoryhmat.size(), 5u);
  EXPECT_TRUE(r.unknown_groups.empty());

  const Group& nimi = r.tietoryhmat[0];
  EXPECT_EQ(nimi.kind, GroupKind::HenkilonNimi);
  EXPECT_EQ(nimi.muutosattribuutti, Muutosattribuutti::Muutettu);
  EXPECT_EQ(nimi.get<HenkilonNimi>()->etunimi, std::optional<std::string>("Anna Maria"));
  EXPECT_EQ(nimi.get<HenkilonNimi>()->sukunimi_utf8, std::optional<std::string>("Virtanen Tes"));
  EXPECT_EQ(nimi.get<HenkilonNimi>()->alkupv, std::optional<Date>(ymd(2024, 5, 2)));

  const Group& nm = r.tietoryhmat[1];
  EXPECT_EQ(nm.kind, GroupKind::Nimenmuutos);
  EXPECT_EQ(nm.get<Nimenmuutos>()->nimilaji, std::optional<std::string>("EDELLINEN_SUKUNIMI"));
  EXPECT_EQ(nm.get<Nimenmuutos>()->nimi, std::optional<std::string>("Korhonen Tes"));
  EXPECT_EQ(nm.get<Nimenmuutos>()->nimi_utf8, std::optional<std::string>("Korhonen Tes"));
  EXPECT_FALSE(nm.get<Nimenmuutos>()->alkupv.has_value());
  EXPECT_EQ(nm.get<Nimenmuutos>()->loppupv, std::optional<Date>(ymd(2024, 5, 2)));

  const Group& uusi = r.tietoryhmat[2];
  EXPECT_EQ(uusi.kind, GroupKind::VakinainenKotimainenOsoite);
  EXPECT_EQ(uusi.muutosattribuutti, Muutosattribuutti::Lisatty);
  const Osoite& a = *uusi.get<Osoite>();
  EXPECT_EQ(a.katunimi.fi, std::optional<std::string>("Piispansilta"));
  EXPECT_EQ(a.katunimi.sv, std::optional<std::string>("Biskopsbron"));
  EXPECT_EQ(a.katunumero, std::optional<std::string>("11"));
  EXPECT_EQ(a.huoneistokirjain, std::optional<std::string>("A"));
  EXPECT_EQ(a.huoneistonumero, std::optional<std::string>("004"));
  EXPECT_EQ(a.postinumero, std::optional<std::string>("02230"));
  EXPECT_EQ(a.postitoimipaikka.sv, std::optional<std::string>("ESBO"));
  EXPECT_EQ(a.rakennustunnus, std::optional<std::string>("900000001B"));
  EXPECT_EQ(a.osoitenumero, std::optional<std::int32_t>(1));
  EXPECT_EQ(a.kuntakoodi, std::optional<std::string>("049"));

  const Group& vanha = r.tietoryhmat[3];
  EXPECT_EQ(vanha.muutosattribuutti, Muutosattribuutti::Muutettu);
  const Osoite& v = *vanha.get<Osoite>();
  ASSERT_TRUE(v.alkupv.has_value());
  EXPECT_EQ(*v.alkupv, ymd(2010, 11, 1, Tarkkuus::Kuukausi));
  EXPECT_EQ(v.loppupv, std::optional<Date>(ymd(2024, 5, 1)));
  EXPECT_FALSE(v.huoneistokirjain.has_value());

  const Group& kk = r.tietoryhmat[4];
  EXPECT_EQ(kk.kind, GroupKind::Kotikunta);
  EXPECT_EQ(kk.muutosattribuutti, Muutosattribuutti::Lisatty);
  EXPECT_EQ(kk.get<Kotikunta>()->kuntakoodi, std::optional<std::string>("049"));

  const PersonRecord& d = p.records[1];
  EXPECT_EQ(d.henkilotunnus, "071149-9068");
  ASSERT_EQ(d.tietoryhmat.size(), 1u);
  EXPECT_EQ(d.tietoryhmat[0].kind, GroupKind::Kuolinpaiva);
  EXPECT_EQ(d.tietoryhmat[0].get<Kuolinpaiva>()->kuollut, std::optional<bool>(true));
  EXPECT_EQ(d.tietoryhmat[0].get<Kuolinpaiva>()->kuolinpv, std::optional<Date>(ymd(2024, 4, 29)));
}

TEST(DecodeApiExamples, ChangesPage2) {
  const std::string text = vtj_test::read_file(vtj_test::data_path("decode/vtj-api-12-muutokset-page2.json"));
  const ChangesPage p = decode_changes(Input(std::string_view(text)));
  EXPECT_EQ(p.viimeisin_kirjausavain, 5446623431);
  EXPECT_TRUE(p.ajan_tasalla);
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 2u);

  const PersonRecord& t = p.records[0];
  EXPECT_EQ(t.henkilotunnus, "030712A904U");
  ASSERT_EQ(t.tietoryhmat.size(), 3u);
  EXPECT_EQ(t.tietoryhmat[0].get<Turvakielto>()->turvakielto_aktiivinen, std::optional<bool>(true));
  EXPECT_EQ(t.tietoryhmat[0].get<Turvakielto>()->turva_loppupv, std::optional<Date>(ymd(2029, 5, 3)));
  EXPECT_TRUE(t.tietoryhmat[1].censored);
  EXPECT_EQ(t.tietoryhmat[1].muutosattribuutti, Muutosattribuutti::Muutettu);
  EXPECT_EQ(t.tietoryhmat[1].censored_fields.size(), 10u);
  EXPECT_TRUE(t.tietoryhmat[2].censored);
  EXPECT_EQ(t.tietoryhmat[2].kind, GroupKind::Kotikunta);
  EXPECT_EQ(t.tietoryhmat[2].censored_fields, (std::vector<std::string>{"kuntakoodi", "kuntaanMuuttopv"}));

  const PersonRecord& h = p.records[1];
  EXPECT_EQ(h.henkilotunnus, "220394Y9052");
  ASSERT_EQ(h.tietoryhmat.size(), 5u);
  const auto& k1 = *h.tietoryhmat[0].get<HenkilotunnusKorjaus>();
  EXPECT_EQ(h.tietoryhmat[0].muutosattribuutti, Muutosattribuutti::Lisatty);
  EXPECT_EQ(k1.voimassaolo, HenkilotunnusKorjaus::Voimassaolo::Aktiivi);
  EXPECT_EQ(k1.muutettu_henkilotunnus, std::optional<std::string>("220394-9096"));
  EXPECT_EQ(k1.aktiivinen_henkilotunnus, std::optional<std::string>("220394-9096"));
  EXPECT_EQ(k1.edelliset_henkilotunnukset, std::vector<std::string>{"220394Y9052"});
  const auto& k2 = *h.tietoryhmat[1].get<HenkilotunnusKorjaus>();
  EXPECT_EQ(h.tietoryhmat[1].muutosattribuutti, Muutosattribuutti::Muutettu);
  EXPECT_EQ(k2.voimassaolo, HenkilotunnusKorjaus::Voimassaolo::Passiivi);

  const Group& ai = h.tietoryhmat[2];
  EXPECT_EQ(ai.kind, GroupKind::Aidinkieli);
  EXPECT_EQ(ai.muutosattribuutti, Muutosattribuutti::Poistettu);
  EXPECT_EQ(ai.get<Kieli>()->kielikoodi, std::optional<std::string>("fi"));
  ASSERT_TRUE(ai.has_voimassaolevat_tiedot);
  ASSERT_EQ(ai.voimassaolevat_tiedot.size(), 1u);
  const Group& still = ai.voimassaolevat_tiedot[0];
  EXPECT_EQ(still.kind, GroupKind::Aidinkieli);
  EXPECT_EQ(still.muutosattribuutti, Muutosattribuutti::Puuttuu);
  EXPECT_EQ(still.get<Kieli>()->kielikoodi, std::optional<std::string>("sv"));
  EXPECT_EQ(still.get<Kieli>()->kielikoodi_iso6392, std::optional<std::string>("swe"));
  EXPECT_EQ(still.get<Kieli>()->alkupv, std::optional<Date>(ymd(1994, 3, 22)));

  EXPECT_EQ(h.tietoryhmat[3].kind, GroupKind::Asiointikieli);
  EXPECT_EQ(h.tietoryhmat[3].get<Kieli>()->kielikoodi, std::optional<std::string>("sv"));
  EXPECT_EQ(h.tietoryhmat[4].muutosattribuutti, Muutosattribuutti::Lisatieto);
  EXPECT_EQ(h.tietoryhmat[4].get<HenkilonNimi>()->etunimi, std::optional<std::string>("Erik"));
}

TEST(DecodeApiExamples, UnchangedKeyEmptyPage) {
  const std::string text = vtj_test::read_file(vtj_test::data_path("decode/vtj-api-12-muutokset-unchanged.json"));
  const ChangesPage p = decode_changes(Input(std::string_view(text)));
  EXPECT_EQ(p.viimeisin_kirjausavain, 5446623431);
  EXPECT_TRUE(p.ajan_tasalla);
  EXPECT_TRUE(p.records.empty());
  EXPECT_TRUE(p.errors.empty());
}

TEST(DecodeApiExamples, BasePage) {
  const std::string text = vtj_test::read_file(vtj_test::data_path("decode/vtj-api-12-perustiedot.json"));
  const BasePage p = decode_base(Input(std::string_view(text)));
  EXPECT_TRUE(p.ajan_tasalla);
  ASSERT_TRUE(p.errors.empty());
  ASSERT_EQ(p.records.size(), 3u);
  const PersonRecord& a = p.records[0];
  EXPECT_EQ(a.henkilotunnus, "150585-904T");
  ASSERT_EQ(a.tietoryhmat.size(), 6u);
  EXPECT_TRUE(a.tietoryhmat[0].get<HenkilotunnusKorjaus>()->edelliset_henkilotunnukset.empty());
  const Osoite& koti = *a.tietoryhmat[4].get<Osoite>();
  EXPECT_EQ(koti.katunimi.fi, std::optional<std::string>("Mikkolantie"));
  EXPECT_EQ(koti.huoneistonumero, std::optional<std::string>("028"));
  const Osoite& posti = *a.tietoryhmat[5].get<Osoite>();
  EXPECT_EQ(a.tietoryhmat[5].kind, GroupKind::KotimainenPostiosoite);
  EXPECT_EQ(posti.postiosoite.fi, std::optional<std::string>("PL 12"));
  EXPECT_FALSE(posti.postiosoite.sv.has_value());
  EXPECT_EQ(posti.postitoimipaikka.fi, std::optional<std::string>("HELSINKI"));
  EXPECT_EQ(posti.postinumero, std::optional<std::string>("00101"));

  const PersonRecord& b = p.records[1];
  EXPECT_EQ(b.henkilotunnus, "030712A904U");
  int censored = 0;
  for (const auto& g : b.tietoryhmat) censored += g.censored;
  EXPECT_EQ(censored, 3);

  const PersonRecord& c = p.records[2];
  EXPECT_EQ(c.henkilotunnus, "091288-910J");
  EXPECT_EQ(c.tietoryhmat[1].get<Kotikunta>()->kuntakoodi, std::optional<std::string>("200"));
  const Osoite& ulk = *c.tietoryhmat[2].get<Osoite>();
  EXPECT_EQ(c.tietoryhmat[2].kind, GroupKind::VakinainenUlkomainenOsoite);
  EXPECT_EQ(ulk.lahiosoite, std::optional<std::string>("Sadama 5/7"));
  EXPECT_EQ(ulk.paikkakunta, std::optional<std::string>("10111 TALLINN"));
  EXPECT_EQ(ulk.valtiokoodi, std::optional<std::string>("233"));
  EXPECT_FALSE(ulk.valtionimi.has_value());
}

// ---------------------------------------------------------------------------
// Streaming order and parser reuse
// ---------------------------------------------------------------------------
namespace {
struct RecordingSink : RecordSink {
  std::vector<std::string> events;
  PageHeader header;
  void on_header(const PageHeader& h) override {
    header = h;
    events.push_back("header");
  }
  void on_record(PersonRecord&& r) override { events.push_back("record " + std::to_string(r.position)); }
  void on_error(RecordError&& e) override { events.push_back("error " + std::to_string(e.position)); }
};
}  // namespace

TEST(DecodeStreaming, HeaderFirstThenEveryElementInOrder) {
  const std::string page =
      R"({"muutokset":[{"henkilotunnus":"010101-900R","tietoryhmat":[]},7,)"
      R"({"henkilotunnus":"010101-901S","tietoryhmat":[]}],"ajanTasalla":false,"viimeisinKirjausavain":12})";
  Decoder dec;
  RecordingSink sink;
  dec.decode_changes(Input(std::string_view(page)), sink);
  EXPECT_EQ(sink.events, (std::vector<std::string>{"header", "record 0", "error 1", "record 2"}));
  EXPECT_EQ(sink.header.kind, PageKind::Changes);
  EXPECT_EQ(sink.header.viimeisin_kirjausavain, 12);
  EXPECT_FALSE(sink.header.ajan_tasalla);
  EXPECT_EQ(sink.header.record_count, 3u);
}

TEST(DecodeStreaming, DecoderReuseAcrossPagesIsStable) {
  const std::string fixture = vtj_test::fixture_text();
  const std::string page1 = vtj_test::read_file(vtj_test::data_path("decode/vtj-api-12-muutokset-page1.json"));
  Decoder dec;
  for (int round = 0; round < 3; ++round) {
    const BasePage b = dec.decode_base(Input(std::string_view(fixture)));
    EXPECT_EQ(b.records.size(), 15u);
    const ChangesPage c = dec.decode_changes(Input(std::string_view(page1)));
    EXPECT_EQ(c.records.size(), 2u);
    EXPECT_EQ(dec.last_stats().records, 2u);
  }
}

// ---------------------------------------------------------------------------
// Throughput (printed, not asserted)
// ---------------------------------------------------------------------------
namespace {
struct CountingSink : RecordSink {
  std::size_t records = 0, errors = 0, groups = 0;
  void on_record(PersonRecord&& r) override {
    ++records;
    groups += r.tietoryhmat.size();
  }
  void on_error(RecordError&&) override { ++errors; }
};

// A base page of n persons built from the capture's persons (compact JSON).
std::string synthetic_base_page(std::size_t n, std::size_t* bytes_per_person) {
  simdjson::dom::parser parser;
  const std::string text = vtj_test::fixture_text();
  simdjson::padded_string ps(text);
  simdjson::dom::element root = parser.parse(ps);
  std::vector<std::string> persons;
  for (simdjson::dom::element p : root["perustiedot"].get_array()) persons.push_back(simdjson::minify(p));
  std::string out = "{\"perustiedot\":[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += persons[i % persons.size()];
  }
  out += "],\"ajanTasalla\":true}";
  *bytes_per_person = out.size() / n;
  return out;
}
// A base page like the benchmark's: ~840 B and ~4.3 of the 18 groups per person.
std::string benchmark_like_page(std::size_t n, std::size_t first) {
  static constexpr char kCheck[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
  std::string out = "{\"perustiedot\":[";
  char hetu[16];
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = first + i;
    const unsigned dd = 1 + k % 28, mm = 1 + (k / 28) % 12, yy = (k / 336) % 100, nnn = 900 + k % 100;
    const unsigned long num = ((dd * 100ul + mm) * 100ul + yy) * 1000ul + nnn;
    std::snprintf(hetu, sizeof hetu, "%02u%02u%02u-%03u%c", dd, mm, yy, nnn, kCheck[num % 31]);
    if (i) out += ',';
    out += "{\"henkilotunnus\":\"";
    out += hetu;
    out += R"(","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Anna Maria","sukunimi":"Virtanen Tes",)"
           R"("etunimiUTF8":"Anna Maria","sukunimiUTF8":"Virtanen Tes","alkupv":{"arvo":"1985-05-15","tarkkuus":"PAIVA"}},)"
           R"({"tietoryhma":"AIDINKIELI","kielikoodi":"fi","kielikoodiISO6392":"fin","alkupv":{"arvo":"1985-05-15","tarkkuus":"PAIVA"}},)"
           R"({"tietoryhma":"KOTIKUNTA","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2015-08-01","tarkkuus":"PAIVA"}},)"
           R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Mikkolantie","sv":"Mickelsvägen"},"katunumero":"30",)"
           R"("huoneistokirjain":"F","huoneistonumero":"028","postinumero":"00640","postitoimipaikka":{"fi":"HELSINKI","sv":"HELSINGFORS"},)"
           R"("rakennustunnus":"900000041C","osoitenumero":1,"kuntakoodi":"091","alkupv":{"arvo":"2015-08-01","tarkkuus":"PAIVA"}})";
    if (k % 10 < 3)
      out += R"(,{"tietoryhma":"KOTIMAINEN_POSTIOSOITE","postiosoite":{"fi":"PL 12"},"postinumero":"00101",)"
             R"("postitoimipaikka":{"fi":"HELSINKI"},"alkupv":{"arvo":"2020-01-01","tarkkuus":"PAIVA"}})";
    out += "]}";
  }
  out += "],\"ajanTasalla\":true}";
  return out;
}
}  // namespace

TEST(DecodeThroughput, BenchmarkLikePersons) {
  const std::size_t per_page = 1000, pages = 100;
  std::vector<simdjson::padded_string> bodies;
  std::size_t bytes = 0;
  for (std::size_t p = 0; p < pages; ++p) {
    const std::string s = benchmark_like_page(per_page, p * per_page);
    bytes += s.size();
    bodies.emplace_back(s);
  }
  Decoder dec;
  CountingSink sink;
  dec.decode_base(simdjson::padded_string_view(bodies[0]), sink);  // warm-up
  ASSERT_EQ(sink.errors, 0u);
  CountingSink timed;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& b : bodies) dec.decode_base(simdjson::padded_string_view(b), timed);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ throughput ] benchmark-like persons (%zu B, %.2f groups each), 1000/page: %.1f MB/s, %.0f persons/s\n",
              bytes / (per_page * pages), double(timed.groups) / double(timed.records), double(bytes) / 1e6 / secs,
              double(timed.records) / secs);
  EXPECT_EQ(timed.records, per_page * pages);
  EXPECT_EQ(timed.errors, 0u);
  // Collected form (what a caller without a streaming sink pays).
  const auto t2 = std::chrono::steady_clock::now();
  std::size_t n = 0;
  for (const auto& b : bodies) n += dec.decode_base(simdjson::padded_string_view(b)).records.size();
  const double secs2 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  std::printf("[ throughput ] same, collected into BasePage: %.1f MB/s\n", double(bytes) / 1e6 / secs2);
  EXPECT_EQ(n, per_page * pages);
}

TEST(DecodeThroughput, PrintMegabytesPerSecond) {
  std::size_t per_person = 0;
  const std::string page = synthetic_base_page(1000, &per_person);
  simdjson::padded_string padded(page);
  Decoder dec;
  CountingSink warm;
  dec.decode_base(simdjson::padded_string_view(padded), warm);
  ASSERT_EQ(warm.records, 1000u);

  const int rounds = 200;
  CountingSink sink;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) dec.decode_base(simdjson::padded_string_view(padded), sink);
  const auto t1 = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(t1 - t0).count();
  const double mb = double(page.size()) * rounds / 1e6;
  std::printf("[ throughput ] capture persons, compact, 1000/page (%zu B/person): %.1f MB/s, %.0f persons/s\n",
              per_person, mb / secs, double(sink.records) / secs);

  // The pretty-printed capture itself (more whitespace per person).
  const std::string fixture = vtj_test::fixture_text();
  simdjson::padded_string pf(fixture);
  CountingSink s2;
  const auto t2 = std::chrono::steady_clock::now();
  for (int i = 0; i < 2000; ++i) dec.decode_base(simdjson::padded_string_view(pf), s2);
  const auto t3 = std::chrono::steady_clock::now();
  const double secs2 = std::chrono::duration<double>(t3 - t2).count();
  std::printf("[ throughput ] capture file as delivered (%zu B, 15 persons): %.1f MB/s\n", fixture.size(),
              double(fixture.size()) * 2000 / 1e6 / secs2);
  EXPECT_EQ(sink.records, 1000u * rounds);
}
