// Turvakielto before the bulk transfer (product.md §6 "Never written"): for
// every person of a page, decide whether a prohibition is active at the end of
// the page, and strip the values of the rule's censored groups from such a
// person's records, so they never reach PostgreSQL (WAL, replicas, logical
// decoding and temporary files never carry them). Pure C++.
#pragma once

#include "decode/records.hpp"

#include <array>
#include <set>
#include <string>
#include <vector>

namespace vtj::merge {

// The groups a rule censors (from the rule table; TIEDOT_SENSUROIDAAN's seven
// by default).
class CensoredGroups {
public:
    CensoredGroups();  // TIEDOT_SENSUROIDAAN
    explicit CensoredGroups(const std::vector<std::string>& group_names);
    bool contains(decode::GroupKind kind) const noexcept { return censored_[static_cast<size_t>(kind)]; }
    static const std::vector<std::string>& tiedot_sensuroidaan();

private:
    std::array<bool, decode::kGroupKindCount> censored_{};
};

// What the page says about a person's prohibition, in record order.
struct ProtectionVerdict {
    bool active_at_end = false;   // stored state, then every TURVAKIELTO / stub in order
    bool became_active = false;   // was not active before the page, is at its end
    bool ended = false;           // was active (stored or in page), is not at the end
};

// `stored_active`: the hetus whose stored flag says the prohibition is active.
// Records of one person may be spread over the page; order is page order.
// Returns per-hetu verdicts and censors the records in place: every entry of
// a censored group of a person active at the end of the page becomes a
// censored stub (no values, no voimassaolevatTiedot), keeping its group and
// muutosattribuutti. Returns the number of entries stripped.
struct CensorResult {
    std::set<std::string> protected_at_end;
    std::set<std::string> became_active;
    std::set<std::string> ended;
    size_t stripped_entries = 0;
};
CensorResult censor_page(std::vector<decode::PersonRecord>& records, const std::set<std::string>& stored_active,
                         const CensoredGroups& groups);

}  // namespace vtj::merge
