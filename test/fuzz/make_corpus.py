#!/usr/bin/env python3
"""Regenerates the seed corpus of fuzz_decode (test/fuzz/corpus/).

Seeds: the vtj-api.md section 12 example pages (test/unit/data/decode/), and
small pages cut from the DVV sandbox capture (one person each, as a
/perustiedot page and, with muutospv and muutosattribuutti added, as a
/muutokset page), plus a few malformed records. The capture is LGPL-2.1-or-later
test data of the City of Espoo (see corpus/README.md).

    python3 test/fuzz/make_corpus.py
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")
CAPTURE = os.path.join(ROOT, "test/unit/data/dvv-sandbox/perustiedot-response.json")
EXAMPLES = os.path.join(ROOT, "test/unit/data/decode")
ATTRS = ["LISATTY", "MUUTETTU", "POISTETTU", "KORJATTAVA", "KORJATTU", "LISATIETO"]


def write(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in sorted(os.listdir(EXAMPLES)):
        if name.endswith(".json"):
            with open(os.path.join(EXAMPLES, name), "rb") as f:
                write("api12-" + name, f.read())
    with open(CAPTURE, encoding="utf-8") as f:
        capture = json.load(f)
    for i, person in enumerate(capture["perustiedot"]):
        write("capture-base-%02d.json" % i, compact({"perustiedot": [person], "ajanTasalla": True}))
        changed = json.loads(json.dumps(person))
        for j, g in enumerate(changed["tietoryhmat"]):
            g["muutosattribuutti"] = ATTRS[(i + j) % len(ATTRS)]
            if g["muutosattribuutti"] == "POISTETTU" and "turvakiellonAlaisetKentat" not in g:
                still = {k: v for k, v in g.items() if k != "muutosattribuutti"}
                g["voimassaolevatTiedot"] = [still]
        changed["muutospv"] = "2024-05-01T21:00:00.000Z"
        write("capture-changes-%02d.json" % i,
              compact({"viimeisinKirjausavain": 5446623400 + i, "ajanTasalla": i % 2 == 0,
                       "muutokset": [changed]}))
    good = '{"henkilotunnus":"010101-900R","tietoryhmat":[{"tietoryhma":"HENKILON_NIMI","etunimi":"Matti"}]}'
    head = '{"viimeisinKirjausavain":1,"ajanTasalla":true,"muutokset":['
    write("bad-utf8-in-record.json", (head + good + ',{"henkilotunnus":"030303-9049","tietoryhmat":'
                                      '[{"tietoryhma":"HENKILON_NIMI","sukunimi":"A').encode() + b"\xff\"}]}]}")
    write("bad-nul-in-record.json", head + good + r',{"henkilotunnus":"030303-9049","tietoryhmat":'
          r'[{"tietoryhma":"HENKILON_NIMI","sukunimi":"A\u0000"}]}]}')
    write("bad-number-in-record.json", head + good + ',{"henkilotunnus":"030303-9049","tietoryhmat":'
          '[{"tietoryhma":"VAKINAINEN_KOTIMAINEN_OSOITE","osoitenumero":1e999}]}]}')
    write("edunvalvonta.json", head + '{"henkilotunnus":"050505-906S","tietoryhmat":[{"tietoryhma":"EDUNVALVONTA",'
          '"alkupv":{"arvo":"2020-01","tarkkuus":"KUUKAUSI"},"nykyisetEdunvalvojat":[{"edunvalvoja":'
          '{"henkilotunnus":"040404-9051","sukunimi":"V","osoite":{"fi":"x"}}}]},{"tietoryhma":'
          '"EDUNVALVONTAVALTUUTUS","nykyisetEdunvalvontavaltuutetut":[{"edunvalvontavaltuutettu":'
          '{"henkilotunnus":"060606-907H"},"valtuutussuhteenAlkupv":{"arvo":"1999","tarkkuus":"VUOSI"}}]}]}]}')
    write("start-key.json", '{"viimeisinKirjausavain":5446623400}')
    return 0


if __name__ == "__main__":
    sys.exit(main())
