#include "common/cpp_only.hpp"

#include "hetu/hetu.hpp"

#include <cstdio>
#include <stdexcept>

namespace vtj::hetu {

namespace {

constexpr char kCheckChars[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";  // 31 characters

// The century a sign stands for; 0 for an unknown sign. Since 2023 several
// signs per century exist (dvv.fi/hetu-uudistus).
int century_of(char sign) noexcept {
    switch (sign) {
        case '+':
            return 1800;
        case '-': case 'Y': case 'X': case 'W': case 'V': case 'U':
            return 1900;
        case 'A': case 'B': case 'C': case 'D': case 'E': case 'F':
            return 2000;
        default:
            return 0;
    }
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int two_digits(std::string_view s, size_t at) noexcept {
    return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

}  // namespace

bool is_leap_year(int year) noexcept {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) noexcept {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

char check_character(unsigned long ddmmyyzzz) noexcept { return kCheckChars[ddmmyyzzz % 31]; }

Verdict check(std::string_view code, bool allow_test_codes) noexcept {
    if (code.size() != 11)
        return Verdict::WrongLength;
    for (size_t i : {0, 1, 2, 3, 4, 5, 7, 8, 9})
        if (!is_digit(code[i]))
            return Verdict::NotDigits;
    const int century = century_of(code[6]);
    if (century == 0)
        return Verdict::BadCenturySign;
    const int day = two_digits(code, 0);
    const int month = two_digits(code, 2);
    const int year = century + two_digits(code, 4);
    if (day < 1 || day > days_in_month(year, month))
        return Verdict::NoSuchDate;
    unsigned long number = 0;
    for (size_t i : {0, 1, 2, 3, 4, 5, 7, 8, 9})
        number = number * 10 + static_cast<unsigned long>(code[i] - '0');
    if (code[10] != check_character(number))
        return Verdict::BadCheckChar;
    if (!allow_test_codes && code[7] == '9')
        return Verdict::TestCodeRefused;
    return Verdict::Valid;
}

const char* describe(Verdict verdict) noexcept {
    switch (verdict) {
        case Verdict::Valid:
            return "valid";
        case Verdict::WrongLength:
            return "a hetu has exactly 11 characters";
        case Verdict::NotDigits:
            return "the date and the individual number of a hetu are digits";
        case Verdict::BadCenturySign:
            return "the century sign of a hetu is one of + - Y X W V U A B C D E F";
        case Verdict::NoSuchDate:
            return "the date of a hetu must exist in the century its sign names";
        case Verdict::BadCheckChar:
            return "the check character of a hetu does not match";
        case Verdict::TestCodeRefused:
            return "test hetus (individual number 900-999) are refused while vtj.allow_test_hetus is off";
    }
    return "invalid hetu";
}

std::optional<Parts> parse(std::string_view code) noexcept {
    if (check(code, true) != Verdict::Valid)
        return std::nullopt;
    Parts p{};
    p.day = two_digits(code, 0);
    p.month = two_digits(code, 2);
    p.year = century_of(code[6]) + two_digits(code, 4);
    p.individual = (code[7] - '0') * 100 + (code[8] - '0') * 10 + (code[9] - '0');
    p.century_sign = code[6];
    return p;
}

std::string make(int year, int month, int day, int individual, char century_sign) {
    const int century = century_of(century_sign);
    if (century == 0 || year < century || year > century + 99)
        throw std::invalid_argument("century sign does not match the year");
    if (day < 1 || day > days_in_month(year, month))
        throw std::invalid_argument("no such date");
    if (individual < 0 || individual > 999)
        throw std::invalid_argument("individual number out of range");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d%02d%02d%c%03d", day, month, year % 100, century_sign,
                  individual);
    const unsigned long number = static_cast<unsigned long>(day) * 10000000UL +
                                 static_cast<unsigned long>(month) * 100000UL +
                                 static_cast<unsigned long>(year % 100) * 1000UL +
                                 static_cast<unsigned long>(individual);
    std::string out(buf, 10);
    out.push_back(check_character(number));
    return out;
}

}  // namespace vtj::hetu
