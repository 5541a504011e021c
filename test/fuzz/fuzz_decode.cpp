// libFuzzer harness over the page decoders (vtj::decode).
//
// Every input is fed to decode_changes, decode_base and decode_start_key,
// once through the zero-copy path (a padded buffer) and once through the
// copying path. The only exception allowed out of the decoder is PageError;
// anything else, a crash, a leak or a broken invariant of the decoded records
// aborts. See run.sh.
#include "common/cpp_only.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "decode/decoder.hpp"
#include "decode/string_repair.hpp"

using namespace vtj::decode;

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_decode invariant broken: %s\n", what);
  std::abort();
}

void check_string(const std::string& s) {
  if (std::memchr(s.data(), 0, s.size()) != nullptr) broken("NUL in a decoded string");
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const std::size_t n = detail::utf8_sequence_length(p, end);
    if (n == 0) broken("invalid UTF-8 in a decoded string");
    p += n;
  }
}
void check_string(const std::optional<std::string>& s) {
  if (s) check_string(*s);
}
void check_text(const Kieliteksti& t) {
  check_string(t.fi);
  check_string(t.sv);
}
void check_date(const std::optional<Date>& d) {
  if (!d) return;
  if (d->year < 1 || d->month < 1 || d->month > 12 || d->day < 1 || d->day > 31) broken("date out of range");
  if (d->tarkkuus == Tarkkuus::Kuukausi && d->day != 1) broken("KUUKAUSI date not on the 1st");
  if (d->tarkkuus == Tarkkuus::Vuosi && (d->month != 1 || d->day != 1)) broken("VUOSI date not on 1 Jan");
}

void check_group(const Group& g, int depth) {
  if (depth > 1) broken("voimassaolevatTiedot nested");
  if (g.censored && !std::holds_alternative<std::monostate>(g.data)) broken("censored entry with values");
  if (!g.censored && std::holds_alternative<std::monostate>(g.data)) broken("uncensored entry without values");
  for (const auto& f : g.censored_fields) check_string(f);
  if (!g.has_voimassaolevat_tiedot && !g.voimassaolevat_tiedot.empty()) broken("voimassaolevatTiedot flag");
  for (const auto& c : g.voimassaolevat_tiedot) {
    if (c.kind != g.kind) broken("voimassaolevatTiedot of another kind");
    check_group(c, depth + 1);
  }
  if (const auto* x = g.get<HenkilotunnusKorjaus>()) {
    for (const auto* h : {&x->muutettu_henkilotunnus, &x->aktiivinen_henkilotunnus})
      if (*h && !hetu_shape_ok(**h)) broken("hetu shape");
    for (const auto& h : x->edelliset_henkilotunnukset)
      if (!hetu_shape_ok(h)) broken("hetu shape");
  } else if (const auto* n = g.get<HenkilonNimi>()) {
    check_string(n->etunimi), check_string(n->sukunimi), check_string(n->etunimi_utf8),
        check_string(n->sukunimi_utf8), check_date(n->alkupv), check_date(n->loppupv);
  } else if (const auto* m = g.get<Nimenmuutos>()) {
    check_string(m->nimi), check_string(m->nimi_utf8), check_string(m->nimilaji), check_date(m->alkupv),
        check_date(m->loppupv);
  } else if (const auto* k = g.get<Kieli>()) {
    check_string(k->kielikoodi), check_string(k->kielikoodi_iso6392), check_string(k->nimi),
        check_date(k->alkupv), check_date(k->loppupv);
  } else if (const auto* d = g.get<Kuolinpaiva>()) {
    check_date(d->kuolinpv);
  } else if (const auto* t = g.get<Turvakielto>()) {
    check_date(t->turva_loppupv);
  } else if (const auto* e = g.get<Edunvalvonta>()) {
    check_string(e->tiedot);
    if (e->tiedot.empty() || e->tiedot.front() != '{' || e->tiedot.back() != '}') broken("tiedot not an object");
    check_date(e->alkupv), check_date(e->paatymispv), check_date(e->loppupv);
  } else if (const auto* a = g.get<Osoite>()) {
    check_text(a->katunimi), check_text(a->postitoimipaikka), check_text(a->postiosoite);
    for (const auto* s : {&a->katunumero, &a->huoneistokirjain, &a->huoneistonumero, &a->jakokirjain,
                          &a->postinumero, &a->rakennustunnus, &a->kuntakoodi, &a->postiosoite_lisarivi,
                          &a->lahiosoite, &a->paikkakunta, &a->valtiokoodi, &a->valtionimi})
      check_string(*s);
    check_date(a->alkupv), check_date(a->loppupv);
  } else if (const auto* kk = g.get<Kotikunta>()) {
    check_string(kk->kuntakoodi), check_date(kk->kuntaan_muuttopv);
  }
}

class CheckingSink final : public RecordSink {
 public:
  PageHeader header;
  bool got_header = false;
  std::size_t next = 0;
  void on_header(const PageHeader& h) override {
    if (got_header) broken("header twice");
    got_header = true;
    header = h;
  }
  void on_record(PersonRecord&& r) override {
    if (!got_header || r.position != next++) broken("record order");
    if (!hetu_shape_ok(r.henkilotunnus)) broken("record hetu shape");
    if (r.muutospv) check_string(r.muutospv->text);
    for (const auto& g : r.tietoryhmat) check_group(g, 0);
    for (const auto& u : r.unknown_groups) {
      check_string(u.name);
      if (group_kind(u.name)) broken("known group reported unknown");
    }
  }
  void on_error(RecordError&& e) override {
    if (!got_header || e.position != next++) broken("error order");
    if (e.reason == nullptr || *e.reason == '\0') broken("empty reason");
    if (e.henkilotunnus && !hetu_shape_ok(*e.henkilotunnus)) broken("error hetu shape");
    (void)e.message();
  }
  void finish() const {
    if (got_header && next != header.record_count) broken("record count");
  }
};

Decoder& decoder() {
  static Decoder d;  // reused across inputs, as in production
  return d;
}

void run(Input in, bool changes) {
  CheckingSink sink;
  try {
    if (changes) decoder().decode_changes(in, sink);
    else decoder().decode_base(in, sink);
    if (!sink.got_header) broken("no header after success");
    sink.finish();
  } catch (const PageError& e) {
    if (sink.got_header) broken("PageError after the header");
    if (std::strlen(e.what()) == 0) broken("empty PageError");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Zero-copy: a buffer with exactly kPadding bytes of slack.
  std::vector<char> padded(size + kPadding, '\0');
  if (size) std::memcpy(padded.data(), data, size);
  const Input zero_copy(padded.data(), size, padded.size());
  // Copying path: no slack at all (a buffer of exactly `size` bytes).
  std::vector<char> exact(data, data + size);
  const Input copied(exact.data(), exact.size(), exact.size());

  run(zero_copy, true);
  run(copied, false);
  run(zero_copy, false);
  run(copied, true);
  try {
    (void)decoder().decode_start_key(copied);
  } catch (const PageError&) {
  }
  if (size && std::memcmp(padded.data(), data, size) != 0) broken("input buffer modified");
  if (size && std::memcmp(exact.data(), data, size) != 0) broken("input buffer modified");
  return 0;
}
