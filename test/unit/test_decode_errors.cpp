// Decoder: malformed person records (isolated) and malformed pages (thrown).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "decode/decoder.hpp"
#include "test_decode_util.hpp"

using namespace vtj::decode;

namespace {

// Test hetus (individual numbers 900-999, valid check characters).
constexpr const char* kGoodA = "010101-900R";
constexpr const char* kGoodB = "010101-901S";
constexpr const char* kBadHetu = "030303-9049";
// Content that must never appear in an error text.
const std::vector<std::string> kSecrets = {kBadHetu, "030303", "Salaisuus", "Piilotie", "MUUTTUNUT"};

std::string good(const char* hetu) {
  return std::string(R"({"henkilotunnus":")") + hetu +
         R"(","muutospv":"2024-05-01T21:00:00.000Z","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"LISATTY","etunimi":"Matti","sukunimi":"Meikäläinen Tes"}]})";
}

std::string changes_page(const std::vector<std::string>& records) {
  std::string s = R"({"viimeisinKirjausavain":100,"ajanTasalla":true,"muutokset":[)";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i) s += ",";
    s += records[i];
  }
  return s + "]}";
}

// A record of the bad hetu with the given groups.
std::string rec(const std::string& groups) {
  return std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","tietoryhmat":[)" + groups + "]}";
}

const std::string kName = R"({"tietoryhma":"HENKILON_NIMI","etunimi":"Salaisuus","sukunimi":"Piilo Tes"})";

std::string with_field(const std::string& group, const std::string& field_json) {
  return rec(R"({"tietoryhma":")" + group + R"(",)" + field_json + "}");
}

struct BadCase {
  const char* name;
  std::string record;
  bool hetu_readable;
  const char* reason_part;  // expected substring of the reason
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

std::vector<BadCase> bad_cases() {
  const std::string addr = "VAKINAINEN_KOTIMAINEN_OSOITE";
  return {
      {"record_is_string", std::string("\"") + kBadHetu + "\"", false, "not a JSON object"},
      {"record_is_array", std::string("[\"") + kBadHetu + "\"]", false, "not a JSON object"},
      {"record_is_null", "null", false, "not a JSON object"},
      {"hetu_missing", "{\"tietoryhmat\":[" + kName + "]}", false, "henkilotunnus is missing"},
      {"hetu_number", R"({"henkilotunnus":30303,"tietoryhmat":[]})", false, "henkilotunnus is not a string"},
      {"hetu_null", R"({"henkilotunnus":null,"tietoryhmat":[]})", false, "henkilotunnus is not a string"},
      {"hetu_short", R"({"henkilotunnus":"030303-904","tietoryhmat":[]})", false, "hetu format"},
      {"hetu_lowercase", R"({"henkilotunnus":"030303a9049","tietoryhmat":[]})", false, "hetu format"},
      {"hetu_twice", std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","henkilotunnus":")" + kBadHetu +
                         R"(","tietoryhmat":[]})",
       false, "twice"},
      {"groups_missing", std::string(R"({"henkilotunnus":")") + kBadHetu + R"("})", true, "tietoryhmat is missing"},
      {"groups_object", std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","tietoryhmat":{}})", true,
       "wrong JSON type"},
      {"groups_null", std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","tietoryhmat":null})", true,
       "wrong JSON type"},
      {"group_not_object", rec("5"), true, "group entry is not a JSON object"},
      {"group_without_name", rec(R"({"etunimi":"Salaisuus"})"), true, "no tietoryhma"},
      {"group_name_number", rec(R"({"tietoryhma":7})"), true, "no tietoryhma"},
      {"group_name_not_identifier", rec(std::string(R"({"tietoryhma":"Salaisuus )") + kBadHetu + "\"}"), true,
       "not a group identifier"},
      {"group_name_twice", rec(R"({"tietoryhma":"HENKILON_NIMI","tietoryhma":"KOTIKUNTA"})"), true, "twice"},
      {"string_field_number", with_field("HENKILON_NIMI", R"("etunimi":5)"), true, "wrong JSON type"},
      {"string_field_object", with_field("NIMENMUUTOS", R"("nimi":{"fi":"Salaisuus"})"), true, "wrong JSON type"},
      {"text_field_number", with_field(addr, R"("katunimi":5)"), true, "wrong JSON type"},
      {"text_field_inner_number", with_field(addr, R"("katunimi":{"fi":5})"), true, "wrong JSON type"},
      {"int_field_string", with_field(addr, R"("osoitenumero":"1")"), true, "wrong JSON type"},
      {"int_field_fraction", with_field(addr, R"("osoitenumero":1.5)"), true, "wrong JSON type"},
      {"int_field_too_big", with_field(addr, R"("osoitenumero":3000000000)"), true, "out of range"},
      {"int_field_uint64", with_field(addr, R"("osoitenumero":18446744073709551615)"), true, "out of range"},
      {"number_overflows_double", with_field(addr, R"("osoitenumero":1e999)"), true, "number out of range"},
      {"number_beyond_64_bits", with_field(addr, R"("osoitenumero":123456789012345678901234)"), true,
       "number out of range"},
      {"number_leading_zero", with_field(addr, R"("osoitenumero":012)"), true, "number out of range"},
      {"bool_field_string", with_field("KUOLINPAIVA", R"("kuollut":"true")"), true, "wrong JSON type"},
      {"date_as_string", with_field("KUOLINPAIVA", R"("kuolinpv":"2024-01-01")"), true, "wrong JSON type"},
      {"date_not_calendar", with_field("KUOLINPAIVA", R"("kuolinpv":{"arvo":"2023-02-29","tarkkuus":"PAIVA"})"),
       true, "not a valid calendar date"},
      {"date_month_13", with_field(addr, R"("alkupv":{"arvo":"2024-13-01","tarkkuus":"PAIVA"})"), true,
       "calendar date"},
      {"date_no_arvo", with_field(addr, R"("alkupv":{"tarkkuus":"PAIVA"})"), true, "calendar date"},
      {"date_arvo_number", with_field(addr, R"("alkupv":{"arvo":20240101,"tarkkuus":"PAIVA"})"), true,
       "calendar date"},
      {"date_bad_tarkkuus", with_field(addr, R"("alkupv":{"arvo":"2024-01-01","tarkkuus":"VIIKKO"})"), true,
       "tarkkuus"},
      {"nul_in_name", rec(R"({"tietoryhma":"HENKILON_NIMI","sukunimi":"Salaisuus\u0000Piilo"})"), true,
       "NUL"},
      {"nul_in_address", with_field(addr, R"("katunimi":{"fi":"Piilotie\u0000"})"), true, "NUL"},
      {"unknown_muutosattribuutti", rec(R"({"tietoryhma":"HENKILON_NIMI","muutosattribuutti":"MUUTTUNUT"})"), true,
       "unknown muutosattribuutti"},
      {"unknown_muutosattribuutti_in_unknown_group",
       rec(R"({"tietoryhma":"SUKUPUOLI","muutosattribuutti":"MUUTTUNUT","sukupuoli":"MIES"})"), true,
       "unknown muutosattribuutti"},
      {"muutosattribuutti_lowercase", rec(R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"lisatty"})"), true,
       "unknown muutosattribuutti"},
      {"muutosattribuutti_number", rec(R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":1})"), true,
       "wrong JSON type"},
      {"muutospv_date_only",
       std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","muutospv":"2024-05-01","tietoryhmat":[]})", true,
       "muutospv"},
      {"muutospv_bad_month",
       std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","muutospv":"2024-13-01T21:00:00.000Z","tietoryhmat":[]})",
       true, "muutospv"},
      {"muutospv_number", std::string(R"({"henkilotunnus":")") + kBadHetu + R"(","muutospv":1714597200,"tietoryhmat":[]})",
       true, "muutospv"},
      {"duplicate_field", with_field("HENKILON_NIMI", R"("etunimi":"Salaisuus","etunimi":"Piilo")"), true, "twice"},
      {"censor_list_string", with_field(addr, R"("turvakiellonAlaisetKentat":"kaikki")"), true,
       "turvakiellonAlaisetKentat"},
      {"censor_list_numbers", with_field(addr, R"("turvakiellonAlaisetKentat":[1,2])"), true,
       "turvakiellonAlaisetKentat"},
      {"censor_list_nul", with_field(addr, R"("turvakiellonAlaisetKentat":["katu\u0000nimi"])"), true,
       "turvakiellonAlaisetKentat"},
      {"nested_other_group",
       with_field("AIDINKIELI",
                  R"("muutosattribuutti":"POISTETTU","voimassaolevatTiedot":[{"tietoryhma":"ASIOINTIKIELI","kielikoodi":"sv"}])"),
       true, "another group"},
      {"nested_too_deep",
       with_field("AIDINKIELI",
                  R"("voimassaolevatTiedot":[{"kielikoodi":"sv","voimassaolevatTiedot":[{"kielikoodi":"fi"}]}])"),
       true, "inside voimassaolevatTiedot"},
      {"nested_not_array", with_field("AIDINKIELI", R"("voimassaolevatTiedot":{"kielikoodi":"sv"})"), true,
       "wrong JSON type"},
      {"nested_entry_not_object", with_field("AIDINKIELI", R"("voimassaolevatTiedot":["sv"])"), true,
       "not a JSON object"},
      {"nested_entry_bad_date",
       with_field("AIDINKIELI", R"("voimassaolevatTiedot":[{"alkupv":{"arvo":"1994-02-30","tarkkuus":"PAIVA"}}])"),
       true, "calendar date"},
      {"previous_hetus_garbage", with_field("HENKILOTUNNUS_KORJAUS", R"("edellisetHenkilotunnukset":["Salaisuus"])"),
       true, "hetu format"},
      {"previous_hetus_not_array", with_field("HENKILOTUNNUS_KORJAUS", R"("edellisetHenkilotunnukset":"x")"), true,
       "wrong JSON type"},
      {"active_hetu_number", with_field("HENKILOTUNNUS_KORJAUS", R"("aktiivinenHenkilotunnus":5)"), true,
       "wrong JSON type"},
      {"voimassaolo_unknown", with_field("HENKILOTUNNUS_KORJAUS", R"("voimassaolo":"KYLLA")"), true,
       "unknown code value"},
      {"edunvalvonta_nul", with_field("EDUNVALVONTA", R"("nykyisetEdunvalvojat":[{"edunvalvoja":{"sukunimi":"Salaisuus\u0000"}}])"),
       true, "NUL"},
      // Lexical errors: simdjson rejects the whole document; the decoder
      // isolates them to the record.
      {"invalid_utf8_in_name", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"Salaisuus\xff Tes\"}"), true,
       "invalid UTF-8"},
      {"invalid_utf8_truncated_sequence", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"Salaisuus\xc3\"}"),
       true, "invalid UTF-8"},
      {"overlong_utf8", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"Sala\xc0\x80isuus\"}"), true,
       "invalid UTF-8"},
      {"utf8_surrogate_bytes", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"Sala\xed\xa0\x80isuus\"}"), true,
       "invalid UTF-8"},
      {"invalid_utf8_in_hetu", "{\"henkilotunnus\":\"030303\xff" "9049\",\"tietoryhmat\":[]}", false, "invalid UTF-8"},
      {"invalid_utf8_in_key", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"suku\xffnimi\":\"Salaisuus\"}"), true,
       "invalid UTF-8"},
      {"invalid_utf8_in_unknown_group", rec("{\"tietoryhma\":\"SUKUPUOLI\",\"x\":\"Salaisuus\xfe\"}"), true,
       "invalid UTF-8"},
      {"raw_control_char", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"Salai\x01suus\"}"), true,
       "control character"},
      {"raw_newline", rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"Salai\nsuus\"}"), true,
       "control character"},
      {"lone_surrogate_escape", rec(R"({"tietoryhma":"HENKILON_NIMI","sukunimi":"Salaisuus\ud800"})"), true,
       "bad escape"},
      {"lone_low_surrogate_escape", rec(R"({"tietoryhma":"HENKILON_NIMI","sukunimi":"\udc00Salaisuus"})"), true,
       "bad escape"},
      {"invalid_escape", rec(R"({"tietoryhma":"HENKILON_NIMI","sukunimi":"Salai\qsuus"})"), true, "bad escape"},
      {"short_unicode_escape", rec(R"({"tietoryhma":"HENKILON_NIMI","sukunimi":"Sal\u00g1"})"), true, "bad escape"},
  };
}

class MalformedRecord : public ::testing::TestWithParam<BadCase> {};

void expect_content_free(const RecordError& e) {
  const std::string m = e.message();
  for (const auto& s : kSecrets) {
    EXPECT_EQ(m.find(s), std::string::npos) << "error text leaks input content: " << m;
    EXPECT_EQ(std::string(e.reason).find(s), std::string::npos);
  }
}

TEST_P(MalformedRecord, OnlyThatRecordFails) {
  const BadCase& c = GetParam();
  const std::string page = changes_page({good(kGoodA), c.record, good(kGoodB)});
  Decoder dec;
  const ChangesPage p = dec.decode_changes(Input(std::string_view(page)));
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].henkilotunnus, kGoodA);
  EXPECT_EQ(p.records[0].position, 0u);
  EXPECT_EQ(p.records[1].henkilotunnus, kGoodB);
  EXPECT_EQ(p.records[1].position, 2u);
  for (const auto& r : p.records) {
    ASSERT_EQ(r.tietoryhmat.size(), 1u);
    EXPECT_EQ(r.tietoryhmat[0].get<HenkilonNimi>()->sukunimi, std::optional<std::string>("Meikäläinen Tes"));
  }
  ASSERT_EQ(p.errors.size(), 1u);
  const RecordError& e = p.errors[0];
  EXPECT_EQ(e.position, 1u);
  EXPECT_NE(std::string(e.reason).find(c.reason_part), std::string::npos) << e.message();
  if (c.hetu_readable) {
    EXPECT_EQ(e.henkilotunnus, std::optional<std::string>(kBadHetu));
  } else {
    EXPECT_FALSE(e.henkilotunnus.has_value());
  }
  expect_content_free(e);
  EXPECT_EQ(p.stats.errors, 1u);
  EXPECT_EQ(p.stats.records, 2u);
  // The same page as a base page behaves the same.
  std::string base = page;
  base = vtj_test::replace_once(base, "\"viimeisinKirjausavain\":100,", "");
  base = vtj_test::replace_once(base, "\"muutokset\"", "\"perustiedot\"");
  const BasePage b = dec.decode_base(Input(std::string_view(base)));
  EXPECT_EQ(b.records.size(), 2u);
  ASSERT_EQ(b.errors.size(), 1u);
  EXPECT_EQ(b.errors[0].position, 1u);
  EXPECT_STREQ(b.errors[0].reason, e.reason);
}

INSTANTIATE_TEST_SUITE_P(Kinds, MalformedRecord, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& i) { return std::string(i.param.name); });

TEST(MalformedRecords, SeveralBadRecordsInOnePage) {
  const std::string page = changes_page({
      rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"\xff\"}"),  // 0 bad UTF-8
      good(kGoodA),                                                     // 1
      rec(R"({"tietoryhma":"KOTIKUNTA","muutosattribuutti":"X"})"),     // 2
      rec(R"({"tietoryhma":"HENKILON_NIMI","sukunimi":"a\u0000"})"),    // 3
      good(kGoodB),                                                     // 4
      rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"\x02\"}"),  // 5 raw control
      rec(R"({"tietoryhma":"KOTIKUNTA","x":1e400})"),                   // 6 number (unknown field still lexed)
  });
  const ChangesPage p = decode_changes(Input(std::string_view(page)));
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_EQ(p.records[0].position, 1u);
  EXPECT_EQ(p.records[1].position, 4u);
  ASSERT_EQ(p.errors.size(), 5u);
  const std::vector<std::size_t> positions = {0, 2, 3, 5, 6};
  for (std::size_t i = 0; i < positions.size(); ++i) {
    EXPECT_EQ(p.errors[i].position, positions[i]);
    EXPECT_EQ(p.errors[i].henkilotunnus, std::optional<std::string>(kBadHetu));
    expect_content_free(p.errors[i]);
  }
  EXPECT_TRUE(p.stats.utf8_repaired);
}

TEST(MalformedRecords, InvalidUtf8InOnePersonOfTheCapture) {
  // 150327-977K (position 7) has "Svartvägen": break its "ä".
  std::string text = vtj_test::fixture_text();
  text = vtj_test::replace_once(text, "Svartv\xc3\xa4gen", "Svartv\xff\xfegen", "\"150327-977K\"");
  const BasePage p = decode_base(Input(std::string_view(text)));
  EXPECT_EQ(p.records.size(), 14u);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].position, 7u);
  EXPECT_EQ(p.errors[0].henkilotunnus, std::optional<std::string>("150327-977K"));
  const std::string m = p.errors[0].message();
  for (const char* s : {"150327-977K", "Svartv", "Lindholm", "Adolf"}) EXPECT_EQ(m.find(s), std::string::npos) << m;
  EXPECT_EQ(vtj_test::find_person(p.records, "150327-977K"), nullptr);
  // The neighbours are intact.
  const PersonRecord* n = vtj_test::find_person(p.records, "260260-925P");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(vtj_test::groups_of(*n, GroupKind::Kotikunta).at(0)->get<Kotikunta>()->kuntakoodi,
            std::optional<std::string>("200"));
}

TEST(MalformedRecords, NulInOnePersonsNameOfTheCapture) {
  std::string text = vtj_test::fixture_text();
  text = vtj_test::replace_once(text, "\"Lindholm Tes\"", "\"Lindholm\\u0000Tes\"", "\"150327-977K\"");
  const BasePage p = decode_base(Input(std::string_view(text)));
  EXPECT_EQ(p.records.size(), 14u);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].position, 7u);
  EXPECT_EQ(p.errors[0].henkilotunnus, std::optional<std::string>("150327-977K"));
  EXPECT_STREQ(p.errors[0].group, "HENKILON_NIMI");
  EXPECT_STREQ(p.errors[0].field, "sukunimi");
  const std::string m = p.errors[0].message();
  for (const char* s : {"150327-977K", "Lindholm"}) EXPECT_EQ(m.find(s), std::string::npos) << m;
  EXPECT_FALSE(p.stats.utf8_repaired);
}

// The padded zero-copy buffer must never be written: repair works on a copy.
TEST(MalformedRecords, RepairDoesNotTouchTheCallersBuffer) {
  std::string page = changes_page({good(kGoodA), rec("{\"tietoryhma\":\"HENKILON_NIMI\",\"sukunimi\":\"\xff\"}")});
  const std::string before = page;
  page.reserve(page.size() + kPadding);
  const ChangesPage p = decode_changes(Input(page.data(), page.size(), page.capacity()));
  EXPECT_EQ(p.records.size(), 1u);
  EXPECT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(page, before);
}

// ---------------------------------------------------------------------------
// Malformed pages
// ---------------------------------------------------------------------------
struct NoCallSink : RecordSink {
  int calls = 0;
  void on_header(const PageHeader&) override { ++calls; }
  void on_record(PersonRecord&&) override { ++calls; }
  void on_error(RecordError&&) override { ++calls; }
};

void expect_page_error_changes(const std::string& page) {
  Decoder dec;
  NoCallSink sink;
  try {
    dec.decode_changes(Input(std::string_view(page)), sink);
    ADD_FAILURE() << "no PageError";
  } catch (const PageError& e) {
    const std::string m = e.what();
    EXPECT_FALSE(m.empty());
    for (const auto& s : kSecrets) EXPECT_EQ(m.find(s), std::string::npos) << m;
  }
  EXPECT_EQ(sink.calls, 0);
}

void expect_page_error_base(const std::string& page) {
  Decoder dec;
  NoCallSink sink;
  EXPECT_THROW(dec.decode_base(Input(std::string_view(page)), sink), PageError);
  EXPECT_EQ(sink.calls, 0);
}

TEST(MalformedPage, NotJson) {
  for (const std::string& s :
       {std::string(""), std::string("   "), std::string("not json"), std::string("{"), std::string("}"),
        std::string("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[]} x"),
        std::string("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[]}{}"),
        std::string("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":tru,\"muutokset\":[]}"),
        std::string("{\"viimeisinKirjausavain\":1 \"ajanTasalla\":true,\"muutokset\":[]}"),
        std::string("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[{\"henkilotunnus\" \"x\"}]}"),
        std::string("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[,]}")}) {
    SCOPED_TRACE(s);
    expect_page_error_changes(s);
  }
}

TEST(MalformedPage, Truncated) {
  const std::string full = vtj_test::fixture_text();
  for (std::size_t cut : {std::size_t(1), std::size_t(100), full.size() / 2, full.size() - 3, full.size() - 2}) {
    SCOPED_TRACE(cut);
    expect_page_error_base(full.substr(0, cut));
  }
  // Cut inside a two-byte UTF-8 sequence (the "ä" of "Svartvägen").
  const std::size_t p = full.find("Svartv\xc3\xa4") + 7;
  expect_page_error_base(full.substr(0, p));
  const std::string page1 = vtj_test::read_file(vtj_test::data_path("decode/vtj-api-12-muutokset-page1.json"));
  expect_page_error_changes(page1.substr(0, page1.size() / 2));
}

TEST(MalformedPage, TopLevelNotObject) {
  for (const char* s : {"[]", "[{\"viimeisinKirjausavain\":1}]", "\"x\"", "5", "null", "true"}) {
    SCOPED_TRACE(s);
    expect_page_error_changes(s);
    expect_page_error_base(s);
  }
}

TEST(MalformedPage, ChangesHeaderFields) {
  for (const char* s : {
           R"({"ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":"5","ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":-1,"ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1.5,"ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":9223372036854775808,"ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":null,"ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":"true","muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":null,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":1,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":true})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":true,"muutokset":{}})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":true,"muutokset":null})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":true,"perustiedot":[]})",
           R"({"viimeisinKirjausavain":1,"viimeisinKirjausavain":2,"ajanTasalla":true,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":true,"ajanTasalla":false,"muutokset":[]})",
           R"({"viimeisinKirjausavain":1,"ajanTasalla":true,"muutokset":[],"muutokset":[]})",
       }) {
    SCOPED_TRACE(s);
    expect_page_error_changes(s);
  }
}

TEST(MalformedPage, BaseHeaderFields) {
  for (const char* s : {
           R"({"ajanTasalla":true})",
           R"({"perustiedot":[]})",
           R"({"perustiedot":{},"ajanTasalla":true})",
           R"({"perustiedot":"x","ajanTasalla":true})",
           R"({"perustiedot":[],"ajanTasalla":"yes"})",
           R"({"muutokset":[],"ajanTasalla":true,"viimeisinKirjausavain":1})",
           R"({"perustiedot":[],"perustiedot":[],"ajanTasalla":true})",
       }) {
    SCOPED_TRACE(s);
    expect_page_error_base(s);
  }
}

TEST(MalformedPage, LexicalErrorOutsideRecords) {
  expect_page_error_changes("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[],\"x\xff\":1}");
  expect_page_error_changes("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[],\"x\":\"\x01\"}");
  expect_page_error_changes("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[],\"x\":\"\\q\"}");
  expect_page_error_changes("{\"viimeisinKirjausavain\":1e999,\"ajanTasalla\":true,\"muutokset\":[]}");
  expect_page_error_changes("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[]}\xff");
  expect_page_error_changes("\xef\xbb\xbf{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[]}\xff");
  // A bad byte between tokens of a record is a syntax error, not a string.
  expect_page_error_changes("{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[{\xff}]}");
  // The records key of the other page kind does not count as records.
  expect_page_error_changes(
      "{\"viimeisinKirjausavain\":1,\"ajanTasalla\":true,\"muutokset\":[],\"perustiedot\":[\"\xff\"]}");
}

TEST(MalformedPage, TooDeep) {
  std::string deep = std::string(R"({"viimeisinKirjausavain":1,"ajanTasalla":true,"muutokset":[)");
  deep += std::string(3000, '[') + std::string(3000, ']') + "]}";
  expect_page_error_changes(deep);
}

TEST(MalformedPage, StartKey) {
  for (const char* s : {"", "{}", "[]", "{\"viimeisinKirjausavain\":-5}", "{\"viimeisinKirjausavain\":\"5\"}",
                        "{\"viimeisinKirjausavain\":5.0}", "{\"viimeisinKirjausavain\":1,\"viimeisinKirjausavain\":1}",
                        "{\"viimeisinKirjausavain\":5", "{\"viimeisinKirjausavain\":5,\"x\":\"\xff\"}"}) {
    SCOPED_TRACE(s);
    EXPECT_THROW(decode_start_key(Input(std::string_view(s))), PageError);
  }
}

TEST(MalformedPage, PageErrorIsRuntimeError) {
  try {
    decode_changes(Input(std::string_view("nope")));
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(dynamic_cast<const PageError*>(&e), nullptr);
  }
}

// A sink's own exception passes through unchanged.
TEST(MalformedPage, SinkExceptionPropagates) {
  struct Throwing : RecordSink {
    void on_record(PersonRecord&&) override { throw std::logic_error("sink"); }
    void on_error(RecordError&&) override {}
  } sink;
  Decoder dec;
  const std::string page = changes_page({good(kGoodA)});
  EXPECT_THROW(dec.decode_changes(Input(std::string_view(page)), sink), std::logic_error);
  // and the decoder is usable afterwards
  EXPECT_EQ(dec.decode_changes(Input(std::string_view(page))).records.size(), 1u);
}

}  // namespace
