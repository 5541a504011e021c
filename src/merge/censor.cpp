#include "common/cpp_only.hpp"

#include "merge/censor.hpp"

#include <map>

namespace vtj::merge {

const std::vector<std::string>& CensoredGroups::tiedot_sensuroidaan() {
    static const std::vector<std::string> groups = {
        "VAKINAINEN_KOTIMAINEN_OSOITE", "TILAPAINEN_KOTIMAINEN_OSOITE", "KOTIMAINEN_POSTIOSOITE",
        "VAKINAINEN_ULKOMAINEN_OSOITE", "TILAPAINEN_ULKOMAINEN_OSOITE", "KOTIKUNTA",
        "ULKOMAINEN_POSTIOSOITE",
    };
    return groups;
}

CensoredGroups::CensoredGroups() : CensoredGroups(tiedot_sensuroidaan()) {}

CensoredGroups::CensoredGroups(const std::vector<std::string>& group_names) {
    for (const auto& name : group_names)
        if (auto kind = decode::group_kind(name))
            censored_[static_cast<size_t>(*kind)] = true;
}

namespace {

// The state a record leaves the prohibition in, given the state before it.
bool state_after(const decode::PersonRecord& record, bool before) {
    bool state = before;
    for (const auto& unknown : record.unknown_groups)
        if (unknown.censored)
            state = true;  // a censored stub of a group outside the 18
    for (const auto& group : record.tietoryhmat) {
        if (group.censored) {
            state = true;  // DVV withholds data only while a prohibition is active
            continue;
        }
        if (group.kind == decode::GroupKind::Turvakielto) {
            // LISATIETO is context; KORJATTAVA is the wrong version that the
            // following KORJATTU replaces.
            if (group.muutosattribuutti == decode::Muutosattribuutti::Lisatieto ||
                group.muutosattribuutti == decode::Muutosattribuutti::Korjattava)
                continue;
            if (const auto* t = group.get<decode::Turvakielto>()) {
                if (group.muutosattribuutti == decode::Muutosattribuutti::Poistettu)
                    state = false;
                else if (t->turvakielto_aktiivinen)
                    state = *t->turvakielto_aktiivinen;
            }
        }
    }
    return state;
}

}  // namespace

CensorResult censor_page(std::vector<decode::PersonRecord>& records, const std::set<std::string>& stored_active,
                         const CensoredGroups& groups) {
    // Pass 1: the prohibition's course per person, in page order.
    struct Course {
        bool start;
        bool current;
        bool ever;
    };
    std::map<std::string, Course> course;
    for (const auto& record : records) {
        auto it = course.find(record.henkilotunnus);
        if (it == course.end()) {
            const bool stored = stored_active.count(record.henkilotunnus) > 0;
            it = course.emplace(record.henkilotunnus, Course{stored, stored, stored}).first;
        }
        it->second.current = state_after(record, it->second.current);
        it->second.ever = it->second.ever || it->second.current;
    }

    CensorResult result;
    for (const auto& [hetu, c] : course) {
        if (c.current)
            result.protected_at_end.insert(hetu);
        if (c.current && !c.start)
            result.became_active.insert(hetu);
        if (!c.current && c.ever)
            result.ended.insert(hetu);
    }

    // Pass 2: strip censored groups of persons protected at the end.
    for (auto& record : records) {
        if (!result.protected_at_end.count(record.henkilotunnus))
            continue;
        for (auto& group : record.tietoryhmat) {
            if (!groups.contains(group.kind) || group.censored)
                continue;
            group.censored = true;
            group.censored_fields.clear();
            group.data = std::monostate{};
            group.has_voimassaolevat_tiedot = false;
            group.voimassaolevat_tiedot.clear();
            ++result.stripped_entries;
        }
    }
    return result;
}

}  // namespace vtj::merge
