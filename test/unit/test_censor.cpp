// The turvakielto decision before the bulk transfer (src/merge/censor.hpp):
// which persons are protected at the end of a page, and that their censored
// groups' values are gone before anything reaches PostgreSQL.
#include "decode/decoder.hpp"
#include "merge/censor.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace dec = vtj::decode;
using vtj::merge::censor_page;
using vtj::merge::CensoredGroups;

namespace {

dec::ChangesPage changes(const std::string& muutokset) {
    std::string json = R"({"viimeisinKirjausavain": 10, "ajanTasalla": true, "muutokset": [)" + muutokset + "]}";
    return dec::decode_changes(dec::Input(json));
}

const char* kAddress =
    R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"LISATTY","katunimi":{"fi":"Testitie"},)"
    R"("katunumero":"1","postinumero":"00100","postitoimipaikka":{"fi":"HELSINKI"},"kuntakoodi":"091",)"
    R"("alkupv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}})";
const char* kKotikunta =
    R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"LISATTY","kuntakoodi":"091","kuntaanMuuttopv":{"arvo":"2024-05-02","tarkkuus":"PAIVA"}})";
const char* kContact =
    R"({"tietoryhma":"KOTIMAINEN_YHTEYSOSOITE","muutosattribuutti":"LISATTY","postiosoite":{"fi":"PL 1"},"postinumero":"00101"})";
const char* kName =
    R"({"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTETTU","etunimi":"Testi","sukunimi":"Henkilö"})";

std::string turvakielto(bool active) {
    return std::string(R"({"tietoryhma":"TURVAKIELTO","muutosattribuutti":")") + (active ? "LISATTY" : "MUUTETTU") +
           R"(","turvakieltoAktiivinen":)" + (active ? "true" : "false") + "}";
}

std::string record(const std::string& hetu, const std::string& groups) {
    return R"({"henkilotunnus":")" + hetu + R"(","muutospv":"2024-05-01T21:00:00.000Z","tietoryhmat":[)" + groups + "]}";
}

bool has_values(const dec::Group& g) { return !std::holds_alternative<std::monostate>(g.data); }

}  // namespace

TEST(Censor, SevenGroupsOfTiedotSensuroidaan) {
    CensoredGroups groups;
    EXPECT_TRUE(groups.contains(dec::GroupKind::VakinainenKotimainenOsoite));
    EXPECT_TRUE(groups.contains(dec::GroupKind::TilapainenKotimainenOsoite));
    EXPECT_TRUE(groups.contains(dec::GroupKind::KotimainenPostiosoite));
    EXPECT_TRUE(groups.contains(dec::GroupKind::VakinainenUlkomainenOsoite));
    EXPECT_TRUE(groups.contains(dec::GroupKind::TilapainenUlkomainenOsoite));
    EXPECT_TRUE(groups.contains(dec::GroupKind::Kotikunta));
    EXPECT_TRUE(groups.contains(dec::GroupKind::UlkomainenPostiosoite));
    EXPECT_FALSE(groups.contains(dec::GroupKind::KotimainenYhteysosoite));
    EXPECT_FALSE(groups.contains(dec::GroupKind::UlkomainenYhteysosoite));
    EXPECT_FALSE(groups.contains(dec::GroupKind::HenkilonNimi));
}

TEST(Censor, ProhibitionStartingLaterInThePageStripsEarlierAddress) {
    // The address arrives before the prohibition, in an earlier record: the
    // person is protected at the end of the page, so it must not be written.
    auto page = changes(record("010594Y9032", std::string(kAddress) + "," + kKotikunta + "," + kName) + "," +
                        record("010594Y9032", turvakielto(true) + "," + kContact));
    auto result = censor_page(page.records, {}, CensoredGroups());
    EXPECT_EQ(result.protected_at_end.count("010594Y9032"), 1u);
    EXPECT_EQ(result.became_active.count("010594Y9032"), 1u);
    EXPECT_EQ(result.stripped_entries, 2u);
    const auto& first = page.records[0].tietoryhmat;
    EXPECT_TRUE(first[0].censored);
    EXPECT_FALSE(has_values(first[0]));
    EXPECT_EQ(first[0].muutosattribuutti, dec::Muutosattribuutti::Lisatty);
    EXPECT_TRUE(first[1].censored);
    EXPECT_FALSE(first[2].censored);  // the name stays
    EXPECT_TRUE(has_values(first[2]));
    const auto& second = page.records[1].tietoryhmat;
    EXPECT_FALSE(second[1].censored);  // the contact address stays visible
    EXPECT_TRUE(has_values(second[1]));
}

TEST(Censor, StoredProhibitionProtectsWithoutATurvakieltoRecord) {
    auto page = changes(record("020594X903P", kAddress));
    auto result = censor_page(page.records, {"020594X903P"}, CensoredGroups());
    EXPECT_EQ(result.protected_at_end.count("020594X903P"), 1u);
    EXPECT_TRUE(result.became_active.empty());
    EXPECT_TRUE(page.records[0].tietoryhmat[0].censored);
}

TEST(Censor, ProhibitionEndingInThePageRevealsNothingButAsksForRefetch) {
    auto page = changes(record("030594W903B", turvakielto(false) + "," + kAddress));
    auto result = censor_page(page.records, {"030594W903B"}, CensoredGroups());
    EXPECT_TRUE(result.protected_at_end.empty());
    EXPECT_EQ(result.ended.count("030594W903B"), 1u);
    EXPECT_FALSE(page.records[0].tietoryhmat[1].censored);  // DVV sent it uncensored
}

TEST(Censor, ACensoredStubAloneMeansActive) {
    auto page = changes(record("040594V9030",
                               R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"MUUTETTU","turvakiellonAlaisetKentat":["kuntakoodi"]})") +
                        "," + record("040594V9030", kAddress));
    auto result = censor_page(page.records, {}, CensoredGroups());
    EXPECT_EQ(result.protected_at_end.count("040594V9030"), 1u);
    EXPECT_TRUE(page.records[1].tietoryhmat[0].censored);
}

TEST(Censor, OtherPersonsUntouched) {
    auto page = changes(record("050594U903M", turvakielto(true)) + "," + record("010516B903X", kAddress));
    auto result = censor_page(page.records, {}, CensoredGroups());
    EXPECT_EQ(result.protected_at_end.size(), 1u);
    EXPECT_FALSE(page.records[1].tietoryhmat[0].censored);
    EXPECT_TRUE(has_values(page.records[1].tietoryhmat[0]));
}

TEST(Censor, PoistettuCarriesNoVoimassaolevatForAProtectedPerson) {
    const std::string poistettu =
        R"({"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","muutosattribuutti":"POISTETTU","katunimi":{"fi":"Vanha"},)"
        R"("voimassaolevatTiedot":[{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","katunimi":{"fi":"Uusi"}}]})";
    auto page = changes(record("020516C903K", poistettu));
    censor_page(page.records, {"020516C903K"}, CensoredGroups());
    const auto& g = page.records[0].tietoryhmat[0];
    EXPECT_TRUE(g.censored);
    EXPECT_TRUE(g.voimassaolevat_tiedot.empty());
    EXPECT_FALSE(g.has_voimassaolevat_tiedot);
}

TEST(Censor, RuleFromTheTableCanAddGroups) {
    CensoredGroups groups({"VAKINAINEN_KOTIMAINEN_OSOITE", "EDUNVALVONTA"});
    EXPECT_TRUE(groups.contains(dec::GroupKind::Edunvalvonta));
    EXPECT_FALSE(groups.contains(dec::GroupKind::Kotikunta));
}

TEST(Censor, SandboxFixtureProtectedPersonsStayCensored) {
    std::ifstream in(std::string(VTJ_SHARED_DIR) + "/fixtures/dvv-sandbox/perustiedot-response.json");
    ASSERT_TRUE(in.good());
    std::stringstream buf;
    buf << in.rdbuf();
    std::string json = buf.str();
    auto page = dec::decode_base(dec::Input(json));
    auto result = censor_page(page.records, {}, CensoredGroups());
    EXPECT_EQ(result.protected_at_end.size(), 2u);
    EXPECT_EQ(result.protected_at_end.count("020275-9862"), 1u);
    EXPECT_EQ(result.protected_at_end.count("240582-9477"), 1u);
    // Everything the sandbox sent for them was already censored: nothing to strip.
    EXPECT_EQ(result.stripped_entries, 0u);
}
