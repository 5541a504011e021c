// Hetu rules against every vector of ../shared/reference/test-vectors.md
// (those with individual numbers 900-999, and every invalid one), plus
// generated codes over three centuries.
#include "hetu/hetu.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using vtj::hetu::check;
using vtj::hetu::Verdict;

namespace {

// §1 DVV's fictitious test persons, §2 the 900+ published examples, §3 the
// sandbox persons, §4 peers' mock scenarios, §5 valid edge cases, and the
// vtj-api.md §12 examples.
const std::vector<std::string> kValid = {
    "010594Y9032", "010594Y9021", "020594X903P", "020594X902N", "030594W903B", "030694W9024",
    "040594V9030", "040594V902Y", "050594U903M", "050594U902L", "010516B903X", "010516B902W",
    "020516C903K", "020516C902J", "030516D9037", "030516D9026", "010501E9032", "020502E902X",
    "020503F9037", "020504A902E", "020504B904H",
    "100190-999P", "100190Y999P",
    "010121A962W", "010188-916P", "010192-921W", "020275-9862", "240582-9477", "010978-9932",
    "011069-9184", "150327-977K", "260260-925P", "120514A9501", "010515A957D", "020291-904J",
    "120598-9999", "020155-997E", "301062-907N", "160976-904B",
    "010179-9992", "020180-999Y", "030180-999L", "010180-999A", "010181-999K", "010281-999C",
    "010568-998D", "010869-9983", "040180-9998", "050180-999W", "050118A999W", "060118A999J",
    "060180-999J", "140921A999X",
    "290200A902D", "290200F902D", "290224B903M", "010100+901H", "311299-998D", "010100A998M",
    "150585-902R", "071149-9068", "030712A904U", "220394Y9052", "220394-9096", "150585-904T",
    "091288-910J", "111111-9072",
};

struct Invalid {
    const char* code;
    Verdict why;
};

// §5 of test-vectors.md, each with the rule it breaks.
const std::vector<Invalid> kInvalid = {
    {"010190-999K", Verdict::BadCheckChar},   {"010190Y999K", Verdict::BadCheckChar},
    {"123456+789", Verdict::WrongLength},     {"990101A1234", Verdict::NoSuchDate},
    {"000101A1234", Verdict::NoSuchDate},     {"320101A1234", Verdict::NoSuchDate},
    {"123456:7890", Verdict::BadCenturySign}, {"191086-838I", Verdict::BadCheckChar},
    {"321086-838X", Verdict::NoSuchDate},     {"150715J0101", Verdict::BadCenturySign},
    {"150799-0101", Verdict::BadCheckChar},   {"150715A0101", Verdict::BadCheckChar},
    {"010118-9999", Verdict::BadCheckChar},   {"010101-1230", Verdict::BadCheckChar},
    {"290200-902D", Verdict::NoSuchDate},     {"290200Y902D", Verdict::NoSuchDate},
    {"290223C903C", Verdict::NoSuchDate},     {"310499Y904X", Verdict::NoSuchDate},
};

}  // namespace

TEST(Hetu, EveryPublishedValidVectorPasses) {
    for (const auto& code : kValid)
        EXPECT_EQ(check(code), Verdict::Valid) << code;
}

TEST(Hetu, EveryPublishedInvalidVectorFailsForItsReason) {
    for (const auto& v : kInvalid)
        EXPECT_EQ(check(v.code), v.why) << v.code;
}

TEST(Hetu, NeverACheckCharacterOGIQZ) {
    for (const auto& code : kValid) {
        for (char c : std::string("OGIQZ")) {
            std::string bad = code;
            bad[10] = c;
            EXPECT_EQ(check(bad), Verdict::BadCheckChar) << bad;
        }
    }
}

TEST(Hetu, StrictNoTrimNoCaseFolding) {
    EXPECT_EQ(check(" 010594Y9032"), Verdict::WrongLength);
    EXPECT_EQ(check("010594Y9032 "), Verdict::WrongLength);
    EXPECT_EQ(check("010594y9032"), Verdict::BadCenturySign);  // lower-case sign
    EXPECT_EQ(check("020594X903p"), Verdict::BadCheckChar);    // lower-case check char
    EXPECT_EQ(check(""), Verdict::WrongLength);
    EXPECT_EQ(check("01059４Y9032"), Verdict::WrongLength);    // full-width digit: more bytes
    EXPECT_EQ(check("0105 4Y9032"), Verdict::NotDigits);
    EXPECT_EQ(check(std::string("010594Y9\0" "32", 11)), Verdict::NotDigits);
}

TEST(Hetu, TestCodesRefusedOnlyWhenAsked) {
    EXPECT_EQ(check("010594Y9032", true), Verdict::Valid);
    EXPECT_EQ(check("010594Y9032", false), Verdict::TestCodeRefused);
    // A bad code is reported for its own reason even when test codes are refused.
    EXPECT_EQ(check("010190-999K", false), Verdict::BadCheckChar);
}

TEST(Hetu, DescriptionsNeverEchoInput) {
    for (auto v : {Verdict::WrongLength, Verdict::NotDigits, Verdict::BadCenturySign,
                   Verdict::NoSuchDate, Verdict::BadCheckChar, Verdict::TestCodeRefused}) {
        std::string text = vtj::hetu::describe(v);
        EXPECT_FALSE(text.empty());
        EXPECT_EQ(text.find("0105"), std::string::npos);
    }
}

TEST(Hetu, ParseGivesDateAndIndividualNumber) {
    auto p = vtj::hetu::parse("290224B903M");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->year, 2024);
    EXPECT_EQ(p->month, 2);
    EXPECT_EQ(p->day, 29);
    EXPECT_EQ(p->individual, 903);
    EXPECT_EQ(p->century_sign, 'B');
    EXPECT_FALSE(vtj::hetu::parse("290223C903C").has_value());
    auto old = vtj::hetu::parse("010100+901H");
    ASSERT_TRUE(old.has_value());
    EXPECT_EQ(old->year, 1800);
}

TEST(Hetu, LeapYearRules) {
    EXPECT_TRUE(vtj::hetu::is_leap_year(2000));
    EXPECT_FALSE(vtj::hetu::is_leap_year(1900));
    EXPECT_FALSE(vtj::hetu::is_leap_year(1800));
    EXPECT_TRUE(vtj::hetu::is_leap_year(2024));
    EXPECT_FALSE(vtj::hetu::is_leap_year(2023));
}

// Every day of 1800-2099 with each century sign, two individual numbers:
// make() builds a valid code; every other check character is refused; a day
// past the month's end is refused.
TEST(Hetu, GeneratedCodesOverThreeCenturies) {
    const std::string signs = "+-YXWVUABCDEF";
    long generated = 0;
    for (char sign : signs) {
        const int century = sign == '+' ? 1800 : (std::string("-YXWVU").find(sign) != std::string::npos ? 1900 : 2000);
        for (int year = century; year < century + 100; year += 7) {
            for (int month = 1; month <= 12; ++month) {
                const int last = vtj::hetu::days_in_month(year, month);
                for (int day = 1; day <= last; ++day) {
                    for (int individual : {900, 999 - (day % 50)}) {
                        std::string code = vtj::hetu::make(year, month, day, individual, sign);
                        ASSERT_EQ(check(code), Verdict::Valid) << code;
                        std::string wrong = code;
                        wrong[10] = code[10] == 'Y' ? '0' : static_cast<char>(code[10] == '9' ? 'A' : code[10] + 1);
                        if (wrong[10] == 'G' || wrong[10] == 'I' || wrong[10] == 'O' || wrong[10] == 'Q' || wrong[10] == 'Z')
                            wrong[10] = wrong[10] + 1;
                        ASSERT_NE(check(wrong), Verdict::Valid) << wrong;
                        ++generated;
                    }
                }
                // the day after the month's end
                char buf[32];
                std::snprintf(buf, sizeof buf, "%02d%02d%02d%c900", last + 1 > 31 ? 32 : last + 1, month, year % 100, sign);
                std::string past(buf);
                past.push_back('0');
                ASSERT_EQ(check(past), Verdict::NoSuchDate) << past;
            }
        }
    }
    EXPECT_GT(generated, 50000);
}

TEST(Hetu, MakeRefusesImpossibleInput) {
    EXPECT_THROW(vtj::hetu::make(1999, 2, 29, 900, '-'), std::invalid_argument);
    EXPECT_THROW(vtj::hetu::make(2001, 1, 1, 900, '-'), std::invalid_argument);
    EXPECT_THROW(vtj::hetu::make(2001, 1, 1, 1000, 'A'), std::invalid_argument);
    EXPECT_THROW(vtj::hetu::make(2001, 1, 1, 900, 'Q'), std::invalid_argument);
}
