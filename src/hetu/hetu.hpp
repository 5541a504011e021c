// Henkilötunnus (Finnish personal identity code) rules: DDMMYYCZZZQ.
// Pure C++, no PostgreSQL. Validation is strict: no trimming, no case folding.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vtj::hetu {

// Why a string is or is not a valid hetu. The order is the order of checks.
enum class Verdict {
    Valid,
    WrongLength,      // not exactly 11 characters
    NotDigits,        // date or individual number has a non-digit
    BadCenturySign,   // 7th character not one of + - Y X W V U A B C D E F
    NoSuchDate,       // DDMMYY is not a real date in the sign's century
    BadCheckChar,     // 11th character does not match the mod-31 check
    TestCodeRefused,  // individual number 900-999 while test codes are refused
};

// The check, without the input in any message. `allow_test_codes` false
// refuses individual numbers 900-999 (production: vtj.allow_test_hetus = off).
Verdict check(std::string_view code, bool allow_test_codes = true) noexcept;

// A fixed sentence naming the failing rule; never contains the input.
const char* describe(Verdict verdict) noexcept;

// Date and individual number of a valid code.
struct Parts {
    int year;
    int month;
    int day;
    int individual;  // 0..999
    char century_sign;
};
std::optional<Parts> parse(std::string_view code) noexcept;

// The check character for the 9-digit number DDMMYYZZZ.
char check_character(unsigned long ddmmyyzzz) noexcept;

// Builds a valid code (for tests, the mock and benchmarks). Throws
// std::invalid_argument when the date does not exist or the sign does not
// belong to the year's century.
std::string make(int year, int month, int day, int individual, char century_sign);

bool is_leap_year(int year) noexcept;
int days_in_month(int year, int month) noexcept;

}  // namespace vtj::hetu
