// Decoded records -> vtj._in_record[] + vtj._in_entry[] -> vtj._merge_page().
// One SPI call per page; the arrays are built in the page's transaction
// memory. Column positions are looked up by name once per process, so the
// SQL type may gain columns without the C++ side changing.
#include "pg/page_transfer.hpp"

#include "pg/boundary.hpp"
#include "pg/xact.hpp"

#include "merge/censor.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/date.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace pgvtj {

namespace dec = vtj::decode;

namespace {

constexpr int kMaxColumns = 96;
constexpr int32_t kPostgresEpochDays = 10957;                 // 1970-01-01 -> 2000-01-01
constexpr int64_t kPostgresEpochMicros = 946684800000000LL;

// A composite type of the transfer, resolved by name once per process.
struct CompositeType {
    Oid type_oid = InvalidOid;
    Oid array_oid = InvalidOid;
    TupleDesc desc = nullptr;                  // in TopMemoryContext
    std::map<std::string, int> column;         // name -> 0-based attribute index
    // Callers name columns with string literals: their addresses are stable,
    // so each name is looked up by string once and then by address (this
    // runs for every field of every entry of a page).
    mutable std::unordered_map<const char*, int> by_address;

    int at(const char* name) const {
        auto hit = by_address.find(name);
        if (hit != by_address.end())
            return hit->second;
        auto it = column.find(name);
        if (it == column.end())
            throw std::logic_error(std::string("vtj composite type lacks column ") + name);
        by_address.emplace(name, it->second);
        return it->second;
    }
};

CompositeType resolve(const char* regtype) {
    CompositeType t;
    xact::exec(regtype, {}, true);
    t.type_oid = static_cast<Oid>(*xact::get_int8(0, 1));
    t.array_oid = static_cast<Oid>(*xact::get_int8(0, 2));
    t.desc = pg_guard([&] {
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        TupleDesc d = lookup_rowtype_tupdesc_copy(t.type_oid, -1);
        d = BlessTupleDesc(d);
        MemoryContextSwitchTo(old);
        return d;
    });
    for (int i = 0; i < t.desc->natts; ++i) {
        Form_pg_attribute att = TupleDescAttr(t.desc, i);
        if (!att->attisdropped)
            t.column.emplace(NameStr(att->attname), i);
    }
    if (t.desc->natts > kMaxColumns)
        throw std::logic_error("vtj composite type has too many columns");
    return t;
}

struct Types {
    CompositeType record;
    CompositeType entry;
};

const Types& types() {
    static Types cached;
    static bool resolved = false;
    if (!resolved) {
        cached.record = resolve(
            "SELECT 'vtj._in_record'::pg_catalog.regtype::pg_catalog.oid::int8, "
            "t.typarray::int8 FROM pg_catalog.pg_type t WHERE t.oid = 'vtj._in_record'::pg_catalog.regtype");
        cached.entry = resolve(
            "SELECT 'vtj._in_entry'::pg_catalog.regtype::pg_catalog.oid::int8, "
            "t.typarray::int8 FROM pg_catalog.pg_type t WHERE t.oid = 'vtj._in_entry'::pg_catalog.regtype");
        resolved = true;
    }
    return cached;
}

// Fills one composite value. Text values point into C++ strings (or static
// literals) that outlive form(); the PostgreSQL datums are made in one
// guarded step. No allocation per field.
class RowBuilder {
public:
    explicit RowBuilder(const CompositeType& type) : type_(type) { clear(); }

    void clear() {
        const int n = type_.desc->natts;
        for (int i = 0; i < n; ++i) {
            values_[i] = (Datum)0;
            nulls_[i] = true;
            text_[i] = nullptr;
            text_len_[i] = 0;
            json_[i] = false;
        }
    }
    void text(const char* col, const std::string& v) { set_text(type_.at(col), v.c_str(), v.size(), false); }
    void text(const char* col, const std::optional<std::string>& v) {
        if (v)
            set_text(type_.at(col), v->c_str(), v->size(), false);
    }
    void text(const char* col, const char* literal) {
        if (literal && *literal)
            set_text(type_.at(col), literal, std::strlen(literal), false);
    }
    void jsonb(const char* col, const std::string& v) { set_text(type_.at(col), v.c_str(), v.size(), true); }
    void int4(const char* col, std::optional<int32_t> v) {
        if (v)
            set(type_.at(col), Int32GetDatum(*v));
    }
    void boolean(const char* col, std::optional<bool> v) {
        if (v)
            set(type_.at(col), BoolGetDatum(*v));
    }
    void date(const char* col, const char* precision_col, const std::optional<dec::Date>& d) {
        if (!d)
            return;
        set(type_.at(col), DateADTGetDatum(d->days_since_unix_epoch() - kPostgresEpochDays));
        text(precision_col, dec::to_string(d->tarkkuus));
    }
    void timestamptz(const char* col, const std::optional<dec::Timestamp>& ts) {
        if (ts)
            set(type_.at(col), TimestampTzGetDatum(ts->unix_micros - kPostgresEpochMicros));
    }
    void bilingual(const char* col_fi, const char* col_sv, const dec::Kieliteksti& t) {
        text(col_fi, t.fi);
        text(col_sv, t.sv);
    }

    // The composite datum (palloc'd in the current memory context).
    Datum form() {
        const int n = type_.desc->natts;
        Datum d = pg_guard([&] {
            for (int i = 0; i < n; ++i) {
                if (text_[i] == nullptr)
                    continue;
                if (json_[i])
                    values_[i] = DirectFunctionCall1(jsonb_in, CStringGetDatum(text_[i]));
                else
                    values_[i] = PointerGetDatum(cstring_to_text_with_len(text_[i], (int)text_len_[i]));
            }
            HeapTuple tuple = heap_form_tuple(type_.desc, values_, nulls_);
            return HeapTupleGetDatum(tuple);
        });
        return d;
    }

private:
    void set(int i, Datum v) {
        values_[i] = v;
        nulls_[i] = false;
        text_[i] = nullptr;
    }
    // `v` is NUL-terminated (a std::string's c_str() or a literal).
    void set_text(int i, const char* v, size_t len, bool json) {
        nulls_[i] = false;
        text_[i] = v;
        text_len_[i] = len;
        json_[i] = json;
    }

    const CompositeType& type_;
    Datum values_[kMaxColumns];
    bool nulls_[kMaxColumns];
    const char* text_[kMaxColumns];
    size_t text_len_[kMaxColumns];
    bool json_[kMaxColumns];
};

const char* voimassaolo_name(dec::HenkilotunnusKorjaus::Voimassaolo v) {
    switch (v) {
        case dec::HenkilotunnusKorjaus::Voimassaolo::Aktiivi: return "AKTIIVI";
        case dec::HenkilotunnusKorjaus::Voimassaolo::Passiivi: return "PASSIIVI";
        case dec::HenkilotunnusKorjaus::Voimassaolo::Puuttuu: return nullptr;
    }
    return nullptr;
}

// The fields of one entry of the 18 groups.
void fill_fields(RowBuilder& row, const dec::Group& g) {
    if (const auto* k = g.get<dec::HenkilotunnusKorjaus>()) {
        row.text("voimassaolo", voimassaolo_name(k->voimassaolo));
        row.text("muutettu_hetu", k->muutettu_henkilotunnus);
        row.text("aktiivinen_hetu", k->aktiivinen_henkilotunnus);
    } else if (const auto* n = g.get<dec::HenkilonNimi>()) {
        row.text("etunimi", n->etunimi);
        row.text("sukunimi", n->sukunimi);
        row.text("etunimi_utf8", n->etunimi_utf8);
        row.text("sukunimi_utf8", n->sukunimi_utf8);
        row.date("alkupv", "alkupv_tarkkuus", n->alkupv);
        row.date("loppupv", "loppupv_tarkkuus", n->loppupv);
    } else if (const auto* m = g.get<dec::Nimenmuutos>()) {
        row.text("nimilaji", m->nimilaji);
        row.text("nimi", m->nimi);
        row.text("nimi_utf8", m->nimi_utf8);
        row.date("alkupv", "alkupv_tarkkuus", m->alkupv);
        row.date("loppupv", "loppupv_tarkkuus", m->loppupv);
    } else if (const auto* l = g.get<dec::Kieli>()) {
        row.text("kielikoodi", l->kielikoodi);
        row.text("kielikoodi_iso6392", l->kielikoodi_iso6392);
        row.text("kielinimi", l->nimi);
        row.date("alkupv", "alkupv_tarkkuus", l->alkupv);
        row.date("loppupv", "loppupv_tarkkuus", l->loppupv);
    } else if (const auto* d = g.get<dec::Kuolinpaiva>()) {
        row.boolean("kuollut", d->kuollut);
        row.date("kuolinpv", "kuolinpv_tarkkuus", d->kuolinpv);
    } else if (const auto* t = g.get<dec::Turvakielto>()) {
        row.boolean("turvakielto_aktiivinen", t->turvakielto_aktiivinen);
        row.date("turva_loppupv", "turva_loppupv_tarkkuus", t->turva_loppupv);
    } else if (const auto* e = g.get<dec::Edunvalvonta>()) {
        row.jsonb("tiedot", e->tiedot);
        row.date("alkupv", "alkupv_tarkkuus", e->alkupv);
        row.date("paatymispv", "paatymispv_tarkkuus", e->paatymispv);
        row.date("loppupv", "loppupv_tarkkuus", e->loppupv);
    } else if (const auto* o = g.get<dec::Osoite>()) {
        row.bilingual("katunimi_fi", "katunimi_sv", o->katunimi);
        row.text("katunumero", o->katunumero);
        row.text("huoneistokirjain", o->huoneistokirjain);
        row.text("huoneistonumero", o->huoneistonumero);
        row.text("jakokirjain", o->jakokirjain);
        row.text("postinumero", o->postinumero);
        row.bilingual("postitoimipaikka_fi", "postitoimipaikka_sv", o->postitoimipaikka);
        row.text("rakennustunnus", o->rakennustunnus);
        row.int4("osoitenumero", o->osoitenumero);
        row.text("kuntakoodi", o->kuntakoodi);
        row.bilingual("postiosoite_fi", "postiosoite_sv", o->postiosoite);
        row.text("postiosoite_lisarivi", o->postiosoite_lisarivi);
        row.text("lahiosoite", o->lahiosoite);
        row.text("paikkakunta", o->paikkakunta);
        row.text("valtiokoodi", o->valtiokoodi);
        row.text("valtionimi", o->valtionimi);
        row.date("alkupv", "alkupv_tarkkuus", o->alkupv);
        row.date("loppupv", "loppupv_tarkkuus", o->loppupv);
    } else if (const auto* k = g.get<dec::Kotikunta>()) {
        row.text("kuntakoodi", k->kuntakoodi);
        row.date("kuntaan_muuttopv", "kuntaan_muuttopv_tarkkuus", k->kuntaan_muuttopv);
    }
}

Datum make_array(std::vector<Datum>& elems, const CompositeType& type) {
    return pg_guard([&] {
        return PointerGetDatum(construct_array(elems.data(), static_cast<int>(elems.size()), type.type_oid, -1,
                                               false, TYPALIGN_DOUBLE));
    });
}

// Persons of the page whose stored prohibition is active, and the groups the
// active rule censors: one query (the small partial index person_state_protected
// answers the first part).
struct Protection {
    std::set<std::string> stored_protected;
    vtj::merge::CensoredGroups groups;
};

Protection protection(const std::vector<std::string>& hetus) {
    xact::exec(
        "SELECT (SELECT pg_catalog.array_agg(ps.hetu) FROM vtj.person_state ps "
        "         WHERE ps.turvakielto AND ps.hetu OPERATOR(pg_catalog.=) ANY ($1)), "
        "       (SELECT pg_catalog.array_agg(r.tietoryhma) FROM vtj.turvakielto_rule r "
        "         WHERE r.rule OPERATOR(pg_catalog.=) pg_catalog.current_setting('vtj.turvakielto_rule', true))",
        {xact::datum(TEXTARRAYOID, xact::text_array(hetus))}, true);
    Protection p;
    bool isnull = false;
    Datum d = xact::get_datum(0, 1, &isnull);
    if (!isnull)
        for (auto& h : xact::text_array_values(d))
            p.stored_protected.insert(std::move(h));
    std::vector<std::string> groups = vtj::merge::CensoredGroups::tiedot_sensuroidaan();
    d = xact::get_datum(0, 2, &isnull);
    if (!isnull)
        for (auto& g : xact::text_array_values(d))
            groups.push_back(std::move(g));
    p.groups = vtj::merge::CensoredGroups(groups);
    return p;
}

}  // namespace

MergeCounts merge_page(int64_t run_id, const Page& page, const std::vector<std::string>& not_found) {
    const Types& t = types();
    auto& records = *page.records;
    auto& errors = *page.errors;

    // Turvakielto first: values of censored groups of a person protected at
    // the end of the page are dropped here and never reach PostgreSQL.
    std::vector<std::string> hetus;
    hetus.reserve(records.size());
    for (const auto& r : records)
        hetus.push_back(r.henkilotunnus);
    const Protection prot = protection(hetus);
    vtj::merge::censor_page(records, prot.stored_protected, prot.groups);

    // Page order: records and errors interleave by position.
    struct Item {
        size_t position;
        const dec::PersonRecord* record;
        const dec::RecordError* error;
    };
    std::vector<Item> order;
    order.reserve(records.size() + errors.size());
    for (const auto& r : records)
        order.push_back({r.position, &r, nullptr});
    for (const auto& e : errors)
        order.push_back({e.position, nullptr, &e});
    std::sort(order.begin(), order.end(), [](const Item& a, const Item& b) { return a.position < b.position; });

    std::vector<Datum> record_datums;
    std::vector<Datum> entry_datums;
    record_datums.reserve(order.size());
    RowBuilder rec(t.record);
    RowBuilder ent(t.entry);
    int32_t record_seq = 0;
    int32_t entry_seq = 0;
    std::vector<std::string> error_texts;
    error_texts.reserve(errors.size());

    for (const Item& item : order) {
        ++record_seq;
        rec.clear();
        rec.int4("seq", record_seq);
        rec.int4("position", static_cast<int32_t>(item.position));
        if (item.error) {
            rec.text("hetu", item.error->henkilotunnus);
            error_texts.push_back(item.error->message());
            rec.text("error", error_texts.back());
            record_datums.push_back(rec.form());
            continue;
        }
        const dec::PersonRecord& r = *item.record;
        rec.text("hetu", r.henkilotunnus);
        rec.timestamptz("muutospv", r.muutospv);
        record_datums.push_back(rec.form());

        // Known and unknown groups share the delivery index: merge them back
        // into delivery order.
        size_t ki = 0, ui = 0;
        while (ki < r.tietoryhmat.size() || ui < r.unknown_groups.size()) {
            const bool take_known = ui >= r.unknown_groups.size() ||
                                    (ki < r.tietoryhmat.size() && r.tietoryhmat[ki].index < r.unknown_groups[ui].index);
            ent.clear();
            ent.int4("seq", ++entry_seq);
            ent.int4("record_seq", record_seq);
            ent.text("hetu", r.henkilotunnus);
            if (!take_known) {
                const dec::UnknownGroup& u = r.unknown_groups[ui++];
                ent.text("tietoryhma", u.name);
                ent.text("muutosattribuutti", dec::to_string(u.muutosattribuutti));
                ent.boolean("censored", u.censored);
                entry_datums.push_back(ent.form());
                continue;
            }
            const dec::Group& g = r.tietoryhmat[ki++];
            const int32_t own_seq = entry_seq;
            ent.text("tietoryhma", dec::group_name(g.kind));
            ent.text("muutosattribuutti", dec::to_string(g.muutosattribuutti));
            ent.boolean("censored", g.censored);
            if (g.muutosattribuutti == dec::Muutosattribuutti::Poistettu)
                ent.boolean("voimassa_present", g.has_voimassaolevat_tiedot);
            if (!g.censored)
                fill_fields(ent, g);
            entry_datums.push_back(ent.form());
            for (const dec::Group& v : g.voimassaolevat_tiedot) {
                ent.clear();
                ent.int4("seq", ++entry_seq);
                ent.int4("record_seq", record_seq);
                ent.text("hetu", r.henkilotunnus);
                ent.text("tietoryhma", dec::group_name(v.kind));
                ent.boolean("censored", v.censored);
                ent.int4("voimassa_of", own_seq);
                if (!v.censored)
                    fill_fields(ent, v);
                entry_datums.push_back(ent.form());
            }
        }
    }

    Datum records_array = make_array(record_datums, t.record);
    Datum entries_array = make_array(entry_datums, t.entry);
    xact::Param not_found_param =
        not_found.empty() ? xact::null_of(TEXTARRAYOID) : xact::datum(TEXTARRAYOID, xact::text_array(not_found));
    xact::exec(
        "SELECT r.discarded, r.records, r.persons, r.unregistered, r.superseded, r.unmatched, r.malformed, "
        "r.feed_rows, r.unknown_groups, r.refetch, r.not_found FROM vtj._merge_page($1, $2, $3, $4, $5, $6, $7, $8) r",
        {xact::int8(run_id), xact::text(page.kind), xact::int4(page.chain), xact::int8(page.from_key),
         xact::int8(page.to_key), xact::datum(t.record.array_oid, records_array),
         xact::datum(t.entry.array_oid, entries_array), not_found_param});
    MergeCounts m;
    m.discarded = xact::get_bool(0, 1).value_or(false);
    m.records = xact::get_int4(0, 2).value_or(0);
    m.persons = xact::get_int4(0, 3).value_or(0);
    m.unregistered = xact::get_int4(0, 4).value_or(0);
    m.superseded = xact::get_int4(0, 5).value_or(0);
    m.unmatched = xact::get_int4(0, 6).value_or(0);
    m.malformed = xact::get_int4(0, 7).value_or(0);
    m.feed_rows = xact::get_int4(0, 8).value_or(0);
    m.unknown_groups = xact::get_int4(0, 9).value_or(0);
    bool isnull = false;
    Datum refetch = xact::get_datum(0, 10, &isnull);
    if (!isnull)
        m.refetch = xact::text_array_values(refetch);
    m.not_found = xact::get_int4(0, 11).value_or(0);
    return m;
}

}  // namespace pgvtj
