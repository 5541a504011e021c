#!/usr/bin/python3
"""Mock of DVV's VTJ-muutosrajapinta (VTJmutpa) for pg_vtj tests and benchmarks.

Python 3 standard library only (Debian's /usr/bin/python3, 3.11).  The contract
(CLI, API behaviour, control API, the generated population and the change mix)
is documented in README.md next to this file.

Personal data: every generated hetu is a test code (individual number 900-999);
the only other persons are those of the DVV sandbox fixture (--fixture).
"""

import argparse
import base64
import bisect
import collections
import datetime as dt
import hashlib
import json
import os
import random
import re
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
SIGNS_1900 = "-YXWVU"
SIGNS_2000 = "ABCDEF"
FIRST_BIRTH = dt.date(1900, 1, 1)
LAST_BIRTH = dt.date(2024, 12, 31)
N_DAYS = (LAST_BIRTH - FIRST_BIRTH).days + 1          # 45,656 birth dates
DAY_2000 = (dt.date(2000, 1, 1) - FIRST_BIRTH).days
N_SLOTS = N_DAYS * 6 * 100                            # date x sign x 900..999
PERM_MUL = 15_485_863                                 # coprime with N_SLOTS
PERM_ADD = 7_777_777
PERM_INV = pow(PERM_MUL, -1, N_SLOTS)
MAX_POPULATION = 20_000_000
PREV_HETU_BASE = 20_000_000      # indices 20M..23M: earlier hetus of generated persons
CORR_BASE = 23_000_000           # indices 23M..N_SLOTS: new hetus of hetu corrections
CORR_SPAN = N_SLOTS - CORR_BASE
REF_DATE = dt.date(2025, 1, 1)   # generated histories end before this day
MAX_HETUS = 1000
MAX_BODY = 512 * 1024 * 1024
DEFAULTS = {
    "username": "vtjuser",
    "password": "vtjpass",
    "xroad_client": "FI/MUN/0123456-7/vtj-test",
    "start_key": 1_000_000,
}
ENDPOINTS = ("kirjausavain", "perustiedot", "perustiedot-vko", "muutokset")

# The seven censored groups of the 18, with the withheld fields exactly as the
# DVV sandbox (account mutpT1x) delivers them.
CENSORED_STUBS = [
    ("VAKINAINEN_KOTIMAINEN_OSOITE", ["katunimi", "katunumero", "huoneistokirjain", "huoneistonumero",
                                      "jakokirjain", "postinumero", "postitoimipaikka", "rakennustunnus",
                                      "osoitenumero", "kuntakoodi"]),
    ("TILAPAINEN_KOTIMAINEN_OSOITE", ["katunimi", "katunumero", "huoneistokirjain", "huoneistonumero",
                                      "jakokirjain", "postinumero", "postitoimipaikka", "rakennustunnus",
                                      "osoitenumero", "kuntakoodi"]),
    ("KOTIMAINEN_POSTIOSOITE", ["postiosoite", "postinumero", "postitoimipaikka"]),
    ("VAKINAINEN_ULKOMAINEN_OSOITE", ["lahiosoite", "paikkakunta", "valtiokoodi", "valtionimi"]),
    ("TILAPAINEN_ULKOMAINEN_OSOITE", ["lahiosoite", "paikkakunta", "valtiokoodi", "valtionimi"]),
    ("ULKOMAINEN_POSTIOSOITE", ["postiosoite", "postiosoiteLisarivi", "postitoimipaikka", "valtiokoodi",
                                "valtionimi"]),
    ("KOTIKUNTA", ["kuntakoodi", "kuntaanMuuttopv"]),
]
CENSORED_FIELDS = dict(CENSORED_STUBS)
CENSORED_GROUPS = frozenset(CENSORED_FIELDS)
# Groups shown with one current entry in perustiedot (a change replaces it).
SINGLETON_GROUPS = frozenset([
    "HENKILON_NIMI", "KOTIKUNTA", "KUOLINPAIVA", "TURVAKIELTO", "AIDINKIELI", "ASIOINTIKIELI",
    "SUKUPUOLI", "SIVIILISAATY", "HENKILOTUNNUS_KORJAUS", "SYNTYMAPAIVA", "KUOLLEEKSIJULISTAMISPAIVA",
])
# Groups whose ended entries stay in perustiedot (history groups).
HISTORY_GROUPS = frozenset([
    "NIMENMUUTOS", "NIMENMUUTOS_LAAJA", "EDELLINEN_KOTIKUNTA", "EDELLINEN_KOTIMAINEN_ASUINPAIKKATUNNUS",
])


def jdump(obj):
    """Compact UTF-8 JSON bytes (the form every response uses)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def pv(d, tarkkuus="PAIVA"):
    return {"arvo": d.isoformat(), "tarkkuus": tarkkuus}


def helsinki_today():
    try:
        from zoneinfo import ZoneInfo
        return dt.datetime.now(ZoneInfo("Europe/Helsinki")).date()
    except Exception:  # no tz database: UTC+2 is close enough
        return (dt.datetime.utcnow() + dt.timedelta(hours=2)).date()


# ---------------------------------------------------------------------------
# Test hetus: person index <-> hetu, a bijection over N_SLOTS slots
# ---------------------------------------------------------------------------

_DAY_TXT = []      # 'DDMMYY'
_DAY_NUM = []      # int('DDMMYY')
_DAY_DATE = []     # date objects
_TXT_TO_DAY = ({}, {})   # [0]: 1900s, [1]: 2000s
for _k in range(N_DAYS):
    _d = FIRST_BIRTH + dt.timedelta(days=_k)
    _t = "%02d%02d%02d" % (_d.day, _d.month, _d.year % 100)
    _DAY_TXT.append(_t)
    _DAY_NUM.append(int(_t))
    _DAY_DATE.append(_d)
    _TXT_TO_DAY[0 if _d.year < 2000 else 1][_t] = _k
del _k, _d, _t


def hetu_of(i):
    """Hetu of generated person i (0 <= i < N_SLOTS). Always a valid test hetu."""
    rest, nnn = divmod((PERM_MUL * i + PERM_ADD) % N_SLOTS, 100)
    day, rank = divmod(rest, 6)
    num = 900 + nnn
    sign = SIGNS_2000[rank] if day >= DAY_2000 else SIGNS_1900[rank]
    return "%s%s%d%s" % (_DAY_TXT[day], sign, num, CHECK_CHARS[(_DAY_NUM[day] * 1000 + num) % 31])


def index_of(h):
    """Inverse of hetu_of: the person index, or -1 when h is not such a hetu."""
    if type(h) is not str or len(h) != 11:
        return -1
    sign = h[6]
    rank = SIGNS_1900.find(sign)
    if rank >= 0:
        day = _TXT_TO_DAY[0].get(h[:6])
    else:
        rank = SIGNS_2000.find(sign)
        if rank < 0:
            return -1
        day = _TXT_TO_DAY[1].get(h[:6])
    if day is None:
        return -1
    n = h[7:10]
    if not (n.isascii() and n.isdigit()) or n[0] != "9":
        return -1
    num = int(n)
    if h[10] != CHECK_CHARS[(_DAY_NUM[day] * 1000 + num) % 31]:
        return -1
    slot = (day * 6 + rank) * 100 + num - 900
    return ((slot - PERM_ADD) * PERM_INV) % N_SLOTS


def birth_of(i):
    rest = ((PERM_MUL * i + PERM_ADD) % N_SLOTS) // 100
    return _DAY_DATE[rest // 6]


# ---------------------------------------------------------------------------
# Code tables and name lists for the generated population
# ---------------------------------------------------------------------------

# Statistics Finland municipality codes 2021-2024 (shared/fixtures/kunnat.csv; 198/199/200/999 omitted)
_KUNNAT = (
    "005:Alajärvi;009:Alavieska;010:Alavus;016:Asikkala;018:Askola;"
    "019:Aura;020:Akaa;035:Brändö;043:Eckerö;046:Enonkoski;047:Enontekiö;"
    "049:Espoo;050:Eura;051:Eurajoki;052:Evijärvi;060:Finström;061:Forssa;"
    "062:Föglö;065:Geta;069:Haapajärvi;071:Haapavesi;072:Hailuoto;"
    "074:Halsua;075:Hamina;076:Hammarland;077:Hankasalmi;078:Hanko;"
    "079:Harjavalta;081:Hartola;082:Hattula;086:Hausjärvi;090:Heinävesi;"
    "091:Helsinki;092:Vantaa;097:Hirvensalmi;098:Hollola;102:Huittinen;"
    "103:Humppila;105:Hyrynsalmi;106:Hyvinkää;108:Hämeenkyrö;"
    "109:Hämeenlinna;111:Heinola;139:Ii;140:Iisalmi;142:Iitti;"
    "143:Ikaalinen;145:Ilmajoki;146:Ilomantsi;148:Inari;149:Inkoo;"
    "151:Isojoki;152:Isokyrö;153:Imatra;165:Janakkala;167:Joensuu;"
    "169:Jokioinen;170:Jomala;171:Joroinen;172:Joutsa;176:Juuka;"
    "177:Juupajoki;178:Juva;179:Jyväskylä;181:Jämijärvi;182:Jämsä;"
    "186:Järvenpää;202:Kaarina;204:Kaavi;205:Kajaani;208:Kalajoki;"
    "211:Kangasala;213:Kangasniemi;214:Kankaanpää;216:Kannonkoski;"
    "217:Kannus;218:Karijoki;224:Karkkila;226:Karstula;230:Karvia;"
    "231:Kaskinen;232:Kauhajoki;233:Kauhava;235:Kauniainen;236:Kaustinen;"
    "239:Keitele;240:Kemi;241:Keminmaa;244:Kempele;245:Kerava;249:Keuruu;"
    "250:Kihniö;256:Kinnula;257:Kirkkonummi;260:Kitee;261:Kittilä;"
    "263:Kiuruvesi;265:Kivijärvi;271:Kokemäki;272:Kokkola;273:Kolari;"
    "275:Konnevesi;276:Kontiolahti;280:Korsnäs;284:Koski Tl;285:Kotka;"
    "286:Kouvola;287:Kristiinankaupunki;288:Kruunupyy;290:Kuhmo;"
    "291:Kuhmoinen;295:Kumlinge;297:Kuopio;300:Kuortane;301:Kurikka;"
    "304:Kustavi;305:Kuusamo;309:Outokumpu;312:Kyyjärvi;316:Kärkölä;"
    "317:Kärsämäki;318:Kökar;320:Kemijärvi;322:Kemiönsaari;398:Lahti;"
    "399:Laihia;400:Laitila;402:Lapinlahti;403:Lappajärvi;405:Lappeenranta;"
    "407:Lapinjärvi;408:Lapua;410:Laukaa;416:Lemi;417:Lemland;418:Lempäälä;"
    "420:Leppävirta;421:Lestijärvi;422:Lieksa;423:Lieto;425:Liminka;"
    "426:Liperi;430:Loimaa;433:Loppi;434:Loviisa;435:Luhanka;436:Lumijoki;"
    "438:Lumparland;440:Luoto;441:Luumäki;444:Lohja;445:Parainen;"
    "475:Maalahti;478:Maarianhamina;480:Marttila;481:Masku;483:Merijärvi;"
    "484:Merikarvia;489:Miehikkälä;491:Mikkeli;494:Muhos;495:Multia;"
    "498:Muonio;499:Mustasaari;500:Muurame;503:Mynämäki;504:Myrskylä;"
    "505:Mäntsälä;507:Mäntyharju;508:Mänttä-Vilppula;529:Naantali;"
    "531:Nakkila;535:Nivala;536:Nokia;538:Nousiainen;541:Nurmes;"
    "543:Nurmijärvi;545:Närpiö;560:Orimattila;561:Oripää;562:Orivesi;"
    "563:Oulainen;564:Oulu;576:Padasjoki;577:Paimio;578:Paltamo;"
    "580:Parikkala;581:Parkano;583:Pelkosenniemi;584:Perho;588:Pertunmaa;"
    "592:Petäjävesi;593:Pieksämäki;595:Pielavesi;598:Pietarsaari;"
    "599:Pedersöre;601:Pihtipudas;604:Pirkkala;607:Polvijärvi;608:Pomarkku;"
    "609:Pori;611:Pornainen;614:Posio;615:Pudasjärvi;616:Pukkila;"
    "619:Punkalaidun;620:Puolanka;623:Puumala;624:Pyhtää;625:Pyhäjoki;"
    "626:Pyhäjärvi;630:Pyhäntä;631:Pyhäranta;635:Pälkäne;636:Pöytyä;"
    "638:Porvoo;678:Raahe;680:Raisio;681:Rantasalmi;683:Ranua;684:Rauma;"
    "686:Rautalampi;687:Rautavaara;689:Rautjärvi;691:Reisjärvi;"
    "694:Riihimäki;697:Ristijärvi;698:Rovaniemi;700:Ruokolahti;702:Ruovesi;"
    "704:Rusko;707:Rääkkylä;710:Raasepori;729:Saarijärvi;732:Salla;"
    "734:Salo;736:Saltvik;738:Sauvo;739:Savitaipale;740:Savonlinna;"
    "742:Savukoski;743:Seinäjoki;746:Sievi;747:Siikainen;748:Siikajoki;"
    "749:Siilinjärvi;751:Simo;753:Sipoo;755:Siuntio;758:Sodankylä;"
    "759:Soini;761:Somero;762:Sonkajärvi;765:Sotkamo;766:Sottunga;"
    "768:Sulkava;771:Sund;777:Suomussalmi;778:Suonenjoki;781:Sysmä;"
    "783:Säkylä;785:Vaala;790:Sastamala;791:Siikalatva;831:Taipalsaari;"
    "832:Taivalkoski;833:Taivassalo;834:Tammela;837:Tampere;844:Tervo;"
    "845:Tervola;846:Teuva;848:Tohmajärvi;849:Toholampi;850:Toivakka;"
    "851:Tornio;853:Turku;854:Pello;857:Tuusniemi;858:Tuusula;859:Tyrnävä;"
    "886:Ulvila;887:Urjala;889:Utajärvi;890:Utsjoki;892:Uurainen;"
    "893:Uusikaarlepyy;895:Uusikaupunki;905:Vaasa;908:Valkeakoski;"
    "915:Varkaus;918:Vehmaa;921:Vesanto;922:Vesilahti;924:Veteli;"
    "925:Vieremä;927:Vihti;931:Viitasaari;934:Vimpeli;935:Virolahti;"
    "936:Virrat;941:Vårdö;946:Vöyri;976:Ylitornio;977:Ylivieska;"
    "980:Ylöjärvi;981:Ypäjä;989:Ähtäri;992:Äänekoski;"
)

KUNNAT = dict(p.split(":", 1) for p in "".join(_KUNNAT).split(";") if p)
KUNTA_CODES = sorted(KUNNAT)
# Big municipalities get realistic weight; the rest share the remainder.
_BIG = {"091": 120, "049": 55, "837": 48, "092": 46, "564": 40, "853": 37, "179": 27, "398": 22,
        "297": 22, "609": 15, "905": 13, "286": 14, "257": 7, "890": 1}
_KUNTA_CUM = []
_acc = 0
for _c in KUNTA_CODES:
    _acc += _BIG.get(_c, 2)
    _KUNTA_CUM.append(_acc)
_KUNTA_TOTAL = _acc
del _acc, _c

POSTAL = {  # kuntakoodi -> (fi, sv, first and last postal code / 10)
    "091": ("HELSINKI", "HELSINGFORS", 10, 99), "049": ("ESPOO", "ESBO", 210, 298),
    "092": ("VANTAA", "VANDA", 120, 177), "837": ("TAMPERE", "TAMMERFORS", 3310, 3390),
    "853": ("TURKU", "ÅBO", 2010, 2090), "564": ("OULU", "ULEÅBORG", 9010, 9090),
    "257": ("KIRKKONUMMI", "KYRKSLÄTT", 240, 244), "890": ("UTSJOKI", "UTSJOKI", 9998, 9998),
    "905": ("VAASA", "VASA", 6510, 6540), "609": ("PORI", "BJÖRNEBORG", 2810, 2860),
    "179": ("JYVÄSKYLÄ", "JYVÄSKYLÄ", 4010, 4080), "297": ("KUOPIO", "KUOPIO", 7010, 7090),
    "398": ("LAHTI", "LAHTIS", 1510, 1590), "286": ("KOUVOLA", "KOUVOLA", 4510, 4560),
}

STREETS = [
    ("Mannerheimintie", "Mannerheimvägen"), ("Mikonkatu", "Mikaelsgatan"), ("Mikkolantie", "Mickelsvägen"),
    ("Piispansilta", "Biskopsbron"), ("Hämeenkatu", "Tavastgatan"), ("Aleksanterinkatu", "Alexandersgatan"),
    ("Kauppakatu", "Handelsgatan"), ("Koulukatu", "Skolgatan"), ("Rantatie", "Strandvägen"),
    ("Kirkkotie", "Kyrkvägen"), ("Asematie", "Stationsvägen"), ("Puistokatu", "Parkgatan"),
    ("Myllytie", "Kvarnvägen"), ("Koivutie", "Björkvägen"), ("Mäntytie", "Tallvägen"),
    ("Kuusitie", "Granvägen"), ("Pihlajatie", "Rönnvägen"), ("Sepänkatu", "Smedsgatan"),
    ("Satamakatu", "Hamngatan"), ("Torikatu", "Torggatan"), ("Mustatie", "Svartvägen"),
    ("Palosuvanto", None), ("Porotie", None), ("Kalliotie", None), ("Järvitie", None),
    ("Metsätie", None), ("Peltotie", None), ("Niittytie", None), ("Harjutie", None), ("Lampitie", None),
    ("Tervahaudantie", None), ("Ylätie", None), ("Alatie", None), ("Kanervatie", None),
    ("Vaahterakuja", None), ("Ruusutie", None), ("Tähtitorninkatu", "Observatoriegatan"),
    ("Linnankatu", "Slottsgatan"), ("Isokatu", None), ("Keskuskatu", "Centralgatan"),
]
FOREIGN = [  # lahiosoite, paikkakunta, valtiokoodi, valtionimi (only for 998)
    ("Sadama 5/7", "10111 TALLINN", "233", None), ("Drottninggatan 12", "111 51 STOCKHOLM", "752", None),
    ("12 Rue de Rivoli", "75004 PARIS", "250", None), ("Karl Johans gate 5", "0154 OSLO", "578", None),
    ("Unter den Linden 7", "10117 BERLIN", "276", None), ("Calle Mayor 3", "28013 MADRID", "724", None),
    ("1 Main Street", "DUBLIN 2", "372", None), ("Vesterbrogade 2", "1620 KØBENHAVN V", "208", None),
    ("Rua Augusta 20", "1100-053 LISBOA", "620", None), ("Pohjoinen tie 1", "TUNTEMATON", "998", "Tuntematon"),
]
FEMALE = ["Aino", "Anna", "Anne", "Anneli", "Eeva", "Elina", "Emilia", "Emma", "Hanna", "Heidi", "Helena",
          "Helmi", "Iida", "Ilona", "Inkeri", "Johanna", "Julia", "Kaarina", "Katja", "Kirsi", "Laura",
          "Leena", "Liisa", "Maija", "Maria", "Marjatta", "Minna", "Niina", "Noora", "Oona", "Pauliina",
          "Pirjo", "Riikka", "Ronja", "Sanna", "Sari", "Satu", "Sofia", "Tiina", "Tuula", "Ulla", "Venla",
          "Aada", "Ella", "Lotta", "Saara", "Päivi", "Sirpa", "Kristiina", "Ebba", "Sigrid", "Olga",
          "Fatima", "Malla", "Sisko", "Elsa", "Siiri", "Vilma", "Kerttu", "Lyydia"]
MALE = ["Aapo", "Aleksi", "Antti", "Eero", "Eino", "Elias", "Erik", "Heikki", "Ilmari", "Jari", "Jani",
        "Johannes", "Juha", "Juhani", "Jukka", "Kalle", "Kari", "Lauri", "Leo", "Markku", "Matti", "Mika",
        "Mikko", "Niko", "Oliver", "Onni", "Otto", "Pekka", "Petri", "Risto", "Sami", "Timo", "Tapani",
        "Topias", "Tuomas", "Väinö", "Veeti", "Ville", "Olavi", "Kalevi", "Jörgen", "Åke", "Ahmed",
        "Dmitri", "Viljami", "Eelis", "Armas", "Toivo", "Urho", "Paavo"]
SURNAMES = ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
            "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi",
            "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Salo", "Laitinen", "Tuominen", "Rantanen",
            "Karjalainen", "Jokinen", "Mattila", "Savolainen", "Lahtinen", "Ahonen", "Lindholm",
            "Lindqvist", "Nyström", "Holmberg", "Åberg", "Öhman", "Kolehmainen", "Kurkimoisio", "Tamm",
            "Hiltunen", "Miettinen", "Pesonen", "Räsänen", "Leinonen", "Hyvönen", "Väisänen", "Ojala",
            "Kallio", "Vainio", "Manninen"]
# Names outside Latin-1: the plain fields carry a transliteration, the *UTF8 fields the original.
UTF8_FEMALE = [("Zaneta", "Žaneta"), ("Agnieszka", "Agnieszka"), ("Ngoc Anh", "Ngọc Anh")]
UTF8_MALE = [("Jiri", "Jiří"), ("Lukas", "Lukáš"), ("Dzmitry", "Dźmitry")]
UTF8_SURNAMES = [("Dvorak", "Dvořák"), ("Nguyen", "Nguyễn"), ("Wisniewski", "Wiśniewski")]
LANGS = [  # kielikoodi, ISO 639-2, nimi (special codes only), weight
    ("fi", "fin", None, 8400), ("sv", "swe", None, 520), ("ru", "rus", None, 300), ("et", "est", None, 180),
    ("en", "eng", None, 90), ("ar", "ara", None, 110), ("so", "som", None, 50), ("fa", "per", None, 40),
    ("zh", "chi", None, 40), ("se", "mis", "saame", 20), ("98", "fse", "viittomakieli", 10),
    ("fr", "fre", None, 20), ("de", "ger", None, 20), ("xx", "und", "tuntematon", 5),
]
_LANG_CUM = []
_acc = 0
for _l in LANGS:
    _acc += _l[3]
    _LANG_CUM.append(_acc)
_LANG_TOTAL = _acc
del _acc, _l
COUNTRY_OF_LANG = {"ru": "643", "et": "233", "ar": "368", "so": "706", "fa": "364", "zh": "156",
                   "en": "826", "fr": "250", "de": "276", "sv": "752"}


class Rnd:
    """Deterministic draws from a 512-bit hash (one per person or per purpose)."""
    __slots__ = ("v", "seed", "n")

    def __init__(self, seed):
        self.seed = seed
        self.n = 0
        self.v = self._hash()

    def _hash(self):
        return int.from_bytes(hashlib.blake2b(self.seed + self.n.to_bytes(2, "little"), digest_size=64,
                                              key=b"pg_vtj-mock-v1").digest(), "little")

    def below(self, n):
        if self.v < (1 << 64):
            self.n += 1
            self.v = self._hash()
        self.v, r = divmod(self.v, n)
        return r

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, per10000):
        return self.below(10000) < per10000


def _cum_pick(cum, total, r):
    return bisect.bisect_right(cum, r.below(total))


def _date_between(r, lo, hi):
    span = (hi - lo).days
    return lo + dt.timedelta(days=r.below(span + 1)) if span > 0 else lo


def rakennustunnus(r):
    n = 900000000 + r.below(99999999)
    return "%d%s" % (n, CHECK_CHARS[n % 31])


def make_domestic_address(r, kunta, alku, group="VAKINAINEN_KOTIMAINEN_OSOITE"):
    fi, sv = r.pick(STREETS)
    g = {"tietoryhma": group, "katunimi": {"fi": fi, "sv": sv} if sv else {"fi": fi}}
    x = r.below(100)
    g["katunumero"] = (str(1 + r.below(120)) if x < 85 else
                       "%d-%d" % ((lambda a: (a, a + 2 * (1 + r.below(3))))(1 + 2 * r.below(40))) if x < 93 else
                       "%d%s" % (1 + r.below(60), "abc"[r.below(3)]))
    if r.below(100) < 62:
        g["huoneistokirjain"] = "ABCDEFGH"[r.below(8)]
        g["huoneistonumero"] = "%03d" % (1 + r.below(99))
        if r.below(100) < 2:
            g["jakokirjain"] = "abc"[r.below(3)]
    pfi, psv, lo, hi = POSTAL.get(kunta) or (KUNNAT[kunta].upper(), None, 0, 0)
    if hi:
        g["postinumero"] = "%05d" % ((lo + r.below(hi - lo + 1)) * 10)
    else:
        g["postinumero"] = "%05d" % (10000 + (int(kunta) * 281) % 89000 + 10 * r.below(5))
    g["postitoimipaikka"] = {"fi": pfi, "sv": psv} if psv else {"fi": pfi, "sv": pfi}
    g["rakennustunnus"] = rakennustunnus(r)
    g["osoitenumero"] = 1 + r.below(3)
    g["kuntakoodi"] = kunta
    g["alkupv"] = pv(alku)
    return g


def make_postal_address(r, kunta, alku, group="KOTIMAINEN_POSTIOSOITE"):
    pfi, psv, lo, hi = POSTAL.get(kunta) or (KUNNAT[kunta].upper(), None, 0, 0)
    box = r.below(3)
    g = {"tietoryhma": group,
         "postiosoite": ({"fi": "PL %d" % (1 + r.below(900))} if box == 0 else
                         {"fi": "PL %d" % (1 + r.below(900)), "sv": "PB %d" % (1 + r.below(900))} if box == 1 else
                         {"fi": "%s %d" % (r.pick(STREETS)[0], 1 + r.below(80))}),
         "postinumero": "%05d" % (10001 + (int(kunta) * 281) % 89000),
         "postitoimipaikka": {"fi": pfi, "sv": psv} if psv else {"fi": pfi},
         "alkupv": pv(alku)}
    return g


def make_foreign_address(r, alku, group="VAKINAINEN_ULKOMAINEN_OSOITE"):
    lahi, paikka, valtio, nimi = r.pick(FOREIGN)
    g = {"tietoryhma": group, "lahiosoite": lahi, "paikkakunta": paikka, "valtiokoodi": valtio}
    if nimi:
        g["valtionimi"] = nimi
    g["alkupv"] = pv(alku)
    return g


def make_foreign_postal(r, alku, group="ULKOMAINEN_POSTIOSOITE"):
    lahi, paikka, valtio, nimi = r.pick(FOREIGN)
    g = {"tietoryhma": group, "postiosoite": lahi, "postitoimipaikka": paikka, "valtiokoodi": valtio}
    if r.below(4) == 0:
        g["postiosoiteLisarivi"] = "c/o Testi %d" % (1 + r.below(99))
    if nimi:
        g["valtionimi"] = nimi
    g["alkupv"] = pv(alku)
    return g


def lang_entry(group, lang, alku):
    code, iso, nimi, _w = lang
    g = {"tietoryhma": group, "kielikoodi": code, "kielikoodiISO6392": iso}
    if nimi:
        g["nimi"] = nimi
    if alku is not None:
        g["alkupv"] = pv(alku)
    return g


def pick_name(r, male):
    if r.below(1000) < 15:
        plain, utf = r.pick(UTF8_MALE if male else UTF8_FEMALE)
    else:
        plain = utf = r.pick(MALE if male else FEMALE)
        if r.below(100) < 45:
            second = r.pick(MALE if male else FEMALE)
            if second != plain:
                plain = utf = plain + " " + second
    return plain, utf


def pick_surname(r):
    if r.below(1000) < 10:
        plain, utf = r.pick(UTF8_SURNAMES)
    else:
        plain = utf = r.pick(SURNAMES)
    return plain + " Tes", utf + " Tes"


def pick_kunta(r):
    return KUNTA_CODES[_cum_pick(_KUNTA_CUM, _KUNTA_TOTAL, r)]


def nested_person(h, r):
    male = int(h[7:10]) % 2 == 1
    e, eu = pick_name(r, male)
    s, su = pick_surname(r)
    return {"henkilotunnus": h, "etunimet": e, "sukunimi": s, "etunimetUTF8": eu, "sukunimiUTF8": su}


# ---------------------------------------------------------------------------
# The generated population: person i -> list of tietoryhmat (uncensored state)
# ---------------------------------------------------------------------------

def person_traits(i):
    """(dead, protected) without generating the person (same first draws as gen_person)."""
    r = Rnd(i.to_bytes(8, "little"))
    dead = r.below(10000) < 100
    prot = r.below(10000) < 50 and not dead
    return dead, prot


def gen_person(i):
    """Uncensored current state of generated person i: (hetu, [tietoryhma dicts])."""
    hetu = hetu_of(i)
    birth = birth_of(i)
    male = int(hetu[7:10]) % 2 == 1
    r = Rnd(i.to_bytes(8, "little"))
    dead = r.below(10000) < 100                  # 1 %
    prot = r.below(10000) < 50 and not dead      # 0.5 %
    adult = birth.year <= REF_DATE.year - 18
    end = REF_DATE - dt.timedelta(days=1)
    lang = LANGS[_cum_pick(_LANG_CUM, _LANG_TOTAL, r)]
    groups = []
    # HENKILOTUNNUS_KORJAUS (3 %; a tenth of those with an earlier hetu)
    x = r.below(10000)
    if x < 300:
        prev = [hetu_of(PREV_HETU_BASE + i % 3_000_000)] if x < 30 else []
        groups.append({"tietoryhma": "HENKILOTUNNUS_KORJAUS", "aktiivinenHenkilotunnus": hetu,
                       "edellisetHenkilotunnukset": prev, "muutettuHenkilotunnus": hetu,
                       "voimassaolo": "AKTIIVI"})
    if r.below(10000) < 9300:
        groups.append(lang_entry("AIDINKIELI", lang, birth))
    if r.below(10000) < 1000:
        groups.append({"tietoryhma": "SUKUPUOLI", "sukupuoli": "MIES" if male else "NAINEN"})
    etu, etu8 = pick_name(r, male)
    suku, suku8 = pick_surname(r)
    nimi = {"tietoryhma": "HENKILON_NIMI", "etunimi": etu, "sukunimi": suku, "etunimiUTF8": etu8,
            "sukunimiUTF8": suku8}
    name_changed = adult and r.below(10000) < 1000
    if name_changed:
        when = _date_between(r, birth + dt.timedelta(days=18 * 365), end)
        nimi["alkupv"] = pv(when)
    elif r.below(100) < 40:
        nimi["alkupv"] = pv(birth)
    groups.append(nimi)
    if name_changed:
        old, old8 = pick_surname(r)
        groups.append({"tietoryhma": "NIMENMUUTOS", "nimilaji": "NYKYINEN_SUKUNIMI", "nimi": suku,
                       "nimiUTF8": suku8, "alkupv": nimi["alkupv"]})
        groups.append({"tietoryhma": "NIMENMUUTOS", "nimilaji": "EDELLINEN_SUKUNIMI", "nimi": old,
                       "nimiUTF8": old8, "alkupv": pv(birth),
                       "loppupv": pv(dt.date.fromisoformat(nimi["alkupv"]["arvo"]) - dt.timedelta(days=1))})
    if r.below(10000) < 800:
        k = {"kansalaisuuskoodi": COUNTRY_OF_LANG.get(lang[0], "246") if r.below(3) else "246",
             "voimassaolo": "AKTIIVI"}
        if k["kansalaisuuskoodi"] != "246" or r.below(2):
            k["saamispv"] = pv(birth)
        groups.append({"tietoryhma": "KANSALAISUUS", "henkilonKansalaisuudet": [k]})
    if prot:
        far = r.below(3) == 0
        loppu = dt.date(2120, 2, 28) if far else dt.date(2035 + r.below(20), 1 + r.below(12), 1 + r.below(28))
        groups.append({"tietoryhma": "TURVAKIELTO", "turvaLoppuPv": pv(loppu), "turvakieltoAktiivinen": True})
    if dead:
        groups.append({"tietoryhma": "KUOLINPAIVA", "kuollut": True,
                       "kuolinpv": pv(_date_between(r, birth, end))})
    else:
        x = r.below(10000)
        if x < 300:   # 3 % live abroad
            alku = _date_between(r, birth, end)
            groups.append(make_foreign_address(r, alku))
            if r.below(2):
                groups.append(make_foreign_postal(r, alku))
            groups.append({"tietoryhma": "KOTIKUNTA", "kuntakoodi": "200", "kuntaanMuuttopv": pv(alku)})
        else:
            kunta = pick_kunta(r)
            alku = _date_between(r, birth, end)
            if x < 9950:   # 0.5 % have no permanent address, only a home municipality
                groups.append(make_domestic_address(r, kunta, alku))
            if r.below(10000) < 400:
                groups.append(make_domestic_address(r, pick_kunta(r), _date_between(r, alku, end),
                                                    "TILAPAINEN_KOTIMAINEN_OSOITE"))
            if r.below(10000) < 800:
                groups.append(make_postal_address(r, kunta, _date_between(r, alku, end)))
            if r.below(10000) < 50:
                groups.append(make_foreign_address(r, _date_between(r, alku, end), "TILAPAINEN_ULKOMAINEN_OSOITE"))
            kmp = alku if r.below(4) else _date_between(r, birth, alku)
            groups.append({"tietoryhma": "KOTIKUNTA", "kuntakoodi": kunta, "kuntaanMuuttopv": pv(kmp)})
        if prot and r.below(10) < 4:
            groups.append(make_postal_address(r, pick_kunta(r), _date_between(r, birth, end),
                                              "KOTIMAINEN_YHTEYSOSOITE"))
        elif prot and r.below(10) < 2:
            groups.append(make_foreign_postal(r, _date_between(r, birth, end), "ULKOMAINEN_YHTEYSOSOITE"))
    if r.below(10000) < 50 and adult:
        groups.append({"tietoryhma": "EDUNVALVONTA", "alkupv": pv(_date_between(r, birth, end)),
                       "nykyisetEdunvalvojat": [{"edunvalvoja": nested_person(
                           hetu_of((i * 7 + 13) % MAX_POPULATION), r)}]})
    if r.below(10000) < 20 and adult:
        groups.append({"tietoryhma": "EDUNVALVONTAVALTUUTUS", "nykyisetEdunvalvontavaltuutetut": [
            {"edunvalvontavaltuutettu": nested_person(hetu_of((i * 11 + 17) % MAX_POPULATION), r),
             "valtuutussuhteenAlkupv": pv(_date_between(r, birth, end))}]})
    if r.below(10000) < 1200:
        other = LANGS[1] if lang[0] == "fi" and r.below(3) == 0 else LANGS[0] if lang[0] != "fi" else LANGS[1]
        groups.append(lang_entry("ASIOINTIKIELI", other, _date_between(r, birth, end)))
    return hetu, groups


# ---------------------------------------------------------------------------
# Censoring (TIEDOT_SENSUROIDAAN as the sandbox's x-account shows it) and a
# best-effort merge of change records into a person's perustiedot
# ---------------------------------------------------------------------------

def is_protected(groups):
    for g in groups:
        if isinstance(g, dict) and g.get("tietoryhma") == "TURVAKIELTO" and g.get("turvakieltoAktiivinen") is True:
            return True
    return False


def censor(groups):
    """Groups as a production account sees them: for a person with an active
    turvakielto the seven censored groups become one stub each (present even
    when the person has no such data), at the place of the first of them."""
    if not is_protected(groups):
        return groups
    out = []
    done = False
    for g in groups:
        if isinstance(g, dict) and g.get("tietoryhma") in CENSORED_GROUPS:
            if not done:
                out.extend({"tietoryhma": n, "turvakiellonAlaisetKentat": f} for n, f in CENSORED_STUBS)
                done = True
            continue
        out.append(g)
    if not done:
        out.extend({"tietoryhma": n, "turvakiellonAlaisetKentat": f} for n, f in CENSORED_STUBS)
    return out


def censor_entries(entries):
    """Change-record entries of a protected person: censored groups become stubs."""
    out = []
    seen = set()
    for e in entries:
        g = e.get("tietoryhma")
        if g in CENSORED_GROUPS and "turvakiellonAlaisetKentat" not in e:
            a = e.get("muutosattribuutti")
            if (g, a) in seen:
                continue
            seen.add((g, a))
            out.append({"tietoryhma": g, "muutosattribuutti": a, "turvakiellonAlaisetKentat": CENSORED_FIELDS[g]})
        else:
            out.append(e)
    return out


def stub_entries(attr="MUUTETTU"):
    return [{"tietoryhma": n, "muutosattribuutti": attr, "turvakiellonAlaisetKentat": f} for n, f in CENSORED_STUBS]


def _strip(e):
    return {k: v for k, v in e.items() if k not in ("muutosattribuutti", "voimassaolevatTiedot")}


def _is_current(e, today_iso):
    lp = e.get("loppupv")
    if isinstance(lp, dict) and isinstance(lp.get("arvo"), str):
        return lp["arvo"] >= today_iso
    return True


def _kept(g, e):
    if g == "KUOLINPAIVA":
        return e.get("kuollut") is True
    if g == "TURVAKIELTO":
        return e.get("turvakieltoAktiivinen") is True
    if g == "HENKILOTUNNUS_KORJAUS":
        return e.get("voimassaolo") != "PASSIIVI"
    return True


def _match(entries, e):
    """Index of the stored entry a delivered entry refers to (product.md §5)."""
    core = {k: v for k, v in e.items() if k != "loppupv"}
    for k, x in enumerate(entries):
        if {a: b for a, b in x.items() if a != "loppupv"} == core:
            return k
    for k, x in enumerate(entries):
        if x.get("alkupv") == e.get("alkupv"):
            return k
    return None


def apply_entries(groups, entries, today_iso):
    """Best-effort merge of one change record's tietoryhmat into a person's
    uncensored groups; returns a new list (input dicts are not modified)."""
    by = {}
    for e in entries:
        if isinstance(e, dict) and isinstance(e.get("tietoryhma"), str):
            by.setdefault(e["tietoryhma"], []).append(e)
    groups = list(groups)
    for g, es in by.items():
        cur = [x for x in groups if isinstance(x, dict) and x.get("tietoryhma") == g]
        pois = [e for e in es if e.get("muutosattribuutti") == "POISTETTU"]
        if pois:
            v = pois[-1].get("voimassaolevatTiedot")
            new = [_strip(x) for x in v if isinstance(x, dict)] if isinstance(v, list) else []
            for x in new:
                x.setdefault("tietoryhma", g)
        else:
            new = list(cur)
            for e in es:
                a = e.get("muutosattribuutti")
                if "turvakiellonAlaisetKentat" in e or a not in ("LISATTY", "MUUTETTU", "KORJATTU", "KORJATTAVA"):
                    continue  # censored stubs and LISATIETO change nothing
                ent = _strip(e)
                k = _match(new, ent)
                if a == "KORJATTAVA":
                    if k is not None:
                        del new[k]
                elif g in SINGLETON_GROUPS:
                    if _is_current(ent, today_iso) and _kept(g, ent):
                        new = [ent]
                    elif g in ("TURVAKIELTO", "KUOLINPAIVA"):
                        new = []          # a ban ended / a death cancelled
                    elif g != "HENKILOTUNNUS_KORJAUS" and k is not None:
                        del new[k]        # an entry that ended (PASSIIVI hetus are ignored)
                elif a == "LISATTY" or k is None:
                    new.append(ent)
                else:
                    new[k] = ent
            new = [x for x in new if _kept(g, x) and (g in HISTORY_GROUPS or _is_current(x, today_iso))]
        pos = None
        out = []
        for x in groups:
            if isinstance(x, dict) and x.get("tietoryhma") == g:
                if pos is None:
                    pos = len(out)
                continue
            out.append(x)
        if pos is None:
            pos = len(out)
        out[pos:pos] = new
        groups = out
    return groups


def correction_target(hetu, entries):
    """New hetu when the record is a hetu correction of `hetu`, else None."""
    for e in entries:
        if (isinstance(e, dict) and e.get("tietoryhma") == "HENKILOTUNNUS_KORJAUS"
                and e.get("muutosattribuutti") in ("LISATTY", "MUUTETTU", "KORJATTU")
                and e.get("voimassaolo") == "AKTIIVI"):
            new = e.get("aktiivinenHenkilotunnus")
            if isinstance(new, str) and new != hetu:
                return new
    return None


# ---------------------------------------------------------------------------
# The person store: overrides > fixture > generated population
# ---------------------------------------------------------------------------

_MISSING = object()


def person_fragment(hetu, groups, do_censor):
    return jdump({"henkilotunnus": hetu, "tietoryhmat": censor(groups) if do_censor else groups})


class Store:
    def __init__(self, population, fixture_path):
        self.lock = threading.RLock()
        self.size = population
        self.cache = {}           # hetu -> bytes of generated persons (pure function of the index)
        self.parked = {}          # rendered persons beyond the current population size
        self.fixture_frag = {}    # hetu -> bytes (verbatim as captured, compact)
        self.fixture_groups = {}  # hetu -> groups
        self.ov_frag = {}         # hetu -> bytes, or None = deleted
        self.ov_state = {}        # hetu -> (groups, censor) or raw text
        if fixture_path:
            with open(fixture_path, "rb") as f:
                data = json.loads(f.read().decode("utf-8"))
            for p in data["perustiedot"]:
                self.fixture_groups[p["henkilotunnus"]] = p["tietoryhmat"]
                self.fixture_frag[p["henkilotunnus"]] = jdump(p)

    def set_size(self, n):
        """Change the population size; rendered persons outside it are parked, not thrown away."""
        with self.lock:
            if n < self.size:
                keep, park = {}, self.parked
                for h, b in self.cache.items():
                    (keep if index_of(h) < n else park)[h] = b
                self.cache = keep
            elif n > self.size and self.parked:
                back = {h: b for h, b in self.parked.items() if index_of(h) < n}
                for h in back:
                    del self.parked[h]
                self.cache.update(back)
            self.size = n

    def generated_fragment(self, i, h):
        b = person_fragment(h, gen_person(i)[1], True)
        self.cache[h] = b
        return b

    def fragment(self, h):
        b = self.ov_frag.get(h, _MISSING)
        if b is not _MISSING:
            return b
        b = self.fixture_frag.get(h)
        if b is not None:
            return b
        b = self.cache.get(h)
        if b is not None:
            return b
        i = index_of(h)
        if 0 <= i < self.size:
            return self.generated_fragment(i, h)
        return None

    def fragments(self, hetus):
        """Cached person fragments in request order (unknown and repeated hetus omitted)."""
        ov, fx, cache, size = self.ov_frag, self.fixture_frag, self.cache, self.size
        if not ov:
            # Fast path (no overrides): fixture and cache never share a hetu.
            uniq = list(dict.fromkeys(hetus))
            out = list(map(cache.get, uniq))
            if None in out:
                for k, h in enumerate(uniq):
                    if out[k] is None:
                        b = fx.get(h)
                        if b is None:
                            i = index_of(h)
                            if 0 <= i < size:
                                b = self.generated_fragment(i, h)
                        out[k] = b
                out = [b for b in out if b is not None]
            return out
        out = []
        seen = set()
        for h in hetus:
            if h in seen:
                continue
            seen.add(h)
            b = ov.get(h, _MISSING) if ov else _MISSING
            if b is _MISSING:
                b = fx.get(h) if fx else None
                if b is None:
                    b = cache.get(h)
                    if b is None:
                        i = index_of(h)
                        if 0 <= i < size:
                            b = self.generated_fragment(i, h)
            if b is not None:
                out.append(b)
        return out

    def state(self, h):
        """(groups, censor) for a served person, None if not served, or 'raw'."""
        if h in self.ov_state:
            return self.ov_state[h]
        if h in self.ov_frag:
            return None
        if h in self.fixture_groups:
            return (self.fixture_groups[h], False)
        i = index_of(h)
        if 0 <= i < self.size:
            return (gen_person(i)[1], True)
        return None

    def filtered_fragments(self, hetus, wanted):
        wanted = set(wanted)
        out = []
        seen = set()
        for h in hetus:
            if h in seen:
                continue
            seen.add(h)
            st = self.state(h)
            if st is None:
                continue
            if st == "raw":
                out.append(self.ov_frag[h])
                continue
            groups, cen = st
            groups = censor(groups) if cen else groups
            out.append(jdump({"henkilotunnus": h, "tietoryhmat": [
                g for g in groups if isinstance(g, dict) and g.get("tietoryhma") in wanted]}))
        return out

    def put(self, h, value):
        """value: list of groups (verbatim), None (delete), or
        {"tietoryhmat": [...], "censor": bool} / {"raw": "<JSON text of the whole element>"}."""
        with self.lock:
            if value is None:
                self.ov_frag[h] = None
                self.ov_state.pop(h, None)
            elif isinstance(value, list):
                self.ov_state[h] = (value, False)
                self.ov_frag[h] = person_fragment(h, value, False)
            elif isinstance(value, dict) and isinstance(value.get("raw"), str):
                self.ov_state[h] = "raw"
                self.ov_frag[h] = value["raw"].encode("utf-8")
            elif isinstance(value, dict) and isinstance(value.get("tietoryhmat"), list):
                cen = bool(value.get("censor", False))
                self.ov_state[h] = (value["tietoryhmat"], cen)
                self.ov_frag[h] = person_fragment(h, value["tietoryhmat"], cen)
            else:
                raise ValueError("a person is a list of tietoryhmat, null, {tietoryhmat, censor} or {raw}")

    def clear_overrides(self):
        with self.lock:
            self.ov_frag = {}
            self.ov_state = {}

    def apply_record(self, h, entries, today_iso):
        with self.lock:
            st = self.state(h)
            groups = [] if st is None or st == "raw" else st[0]
            new = apply_entries(groups, entries, today_iso)
            target = correction_target(h, entries)
            if target:
                self.put(h, None)
                h = target
            self.ov_state[h] = (new, True)
            self.ov_frag[h] = person_fragment(h, new, True)

    def prerender(self, lo, hi):
        """Render generated persons lo..hi-1 into the cache (in parallel processes when many)."""
        t0 = time.monotonic()
        lo, hi = max(lo, 0), min(hi, self.size)
        n = 0
        todo = [i for i in range(lo, hi) if hetu_of(i) not in self.cache]
        workers = min(os.cpu_count() or 1, 4)
        if len(todo) >= 50_000 and workers > 1:
            import multiprocessing
            step = 20_000
            chunks = [(todo[k], todo[min(k + step, len(todo)) - 1] + 1) for k in range(0, len(todo), step)]
            # fork when this is the only thread (start-up), else spawn (re-imports this file)
            method = "fork" if threading.active_count() == 1 else "spawn"
            with multiprocessing.get_context(method).Pool(workers) as pool:
                for (a, b), frags in zip(chunks, pool.imap(_render_range, chunks)):
                    for i, frag in zip(range(a, b), frags):
                        h = hetu_of(i)
                        if h not in self.fixture_frag and frag is not None:
                            self.cache[h] = frag
                            n += 1
        else:
            for i in todo:
                h = hetu_of(i)
                if h not in self.fixture_frag:
                    self.generated_fragment(i, h)
                    n += 1
        return n, time.monotonic() - t0


def _render_range(span):
    a, b = span
    out = []
    for i in range(a, b):
        h, groups = gen_person(i)
        out.append(person_fragment(h, groups, True))
    return out


# ---------------------------------------------------------------------------
# Change scenarios
# ---------------------------------------------------------------------------

_HETU_FIELD = re.compile(rb'"henkilotunnus"\s*:\s*"([^"]*)"')


class Page:
    __slots__ = ("key", "next_key", "hetus", "hset", "items", "apply", "served")

    def __init__(self, key, next_key, hetus, items, apply):
        self.key, self.next_key, self.hetus, self.items, self.apply = key, next_key, hetus, items, apply
        self.hset = frozenset(h for h in hetus if h is not None)
        self.served = False


class Scenario:
    def __init__(self, start_key, pages, filter_hetus=True, apply_to_persons=False, info=None):
        self.start_key = start_key
        self.pages = pages
        self.keys = [p.key for p in pages]
        self.end_key = pages[-1].next_key if pages else start_key
        self.filter = filter_hetus
        self.apply_to_persons = apply_to_persons
        self.info = info or {}

    @staticmethod
    def from_json(spec):
        if not isinstance(spec, dict):
            raise ValueError("scenario must be an object")
        unknown = set(spec) - {"start_key", "pages", "apply_to_persons", "filter"}
        if unknown:
            raise ValueError("unknown scenario properties: %s" % sorted(unknown))
        k = spec.get("start_key")
        if type(k) is not int or k < 0:
            raise ValueError("start_key must be a non-negative integer")
        pages_in = spec.get("pages")
        if not isinstance(pages_in, list):
            raise ValueError("pages must be an array")
        apply = bool(spec.get("apply_to_persons", False))
        pages = []
        for n, p in enumerate(pages_in):
            if not isinstance(p, dict) or not isinstance(p.get("muutokset"), list):
                raise ValueError("page %d: needs a muutokset array" % n)
            hetus, items, applies = [], [], []
            for m in p["muutokset"]:
                if isinstance(m, str):          # raw JSON text, served verbatim
                    b = m.encode("utf-8")
                    mo = _HETU_FIELD.search(b)
                    h = mo.group(1).decode("utf-8", "replace") if mo else None
                    ents = None
                else:
                    b = jdump(m)
                    h = m.get("henkilotunnus") if isinstance(m, dict) else None
                    ents = m.get("tietoryhmat") if isinstance(m, dict) else None
                hetus.append(h if isinstance(h, str) else None)
                items.append(b)
                if apply and isinstance(h, str) and isinstance(ents, list):
                    applies.append((h, ents))
            nk = p.get("next_key")
            if nk is None:
                nk = k + len(items) + 1
            if type(nk) is not int or nk <= k:
                raise ValueError("page %d: next_key must be an integer greater than the page's key" % n)
            pages.append(Page(k, nk, hetus, items, applies if apply else None))
            k = nk
        return Scenario(spec["start_key"], pages, bool(spec.get("filter", True)), apply)

    def locate(self, key):
        """(page index, offset) serving `key`, or None when no page follows it."""
        if not self.pages or key >= self.end_key:
            return None
        if key < self.start_key:
            return 0, 0
        i = bisect.bisect_right(self.keys, key) - 1
        return i, key - self.pages[i].key

    def summary(self):
        return {"start_key": self.start_key, "end_key": self.end_key, "filter": self.filter,
                "apply_to_persons": self.apply_to_persons,
                "pages": [{"key": p.key, "next_key": p.next_key, "records": len(p.items), "served": p.served}
                          for p in self.pages],
                "info": self.info}


# Change kinds of the generator: name -> default weight (percent of records).
DEFAULT_MIX = {
    "move": 48.0,                # VAKINAINEN_KOTIMAINEN_OSOITE LISATTY new + MUUTETTU old (loppupv) + KOTIKUNTA
    "address_correction": 3.0,   # VAKINAINEN_KOTIMAINEN_OSOITE KORJATTAVA + KORJATTU
    "temporary_address": 6.0,    # TILAPAINEN_KOTIMAINEN_OSOITE LISATTY (+ MUUTETTU old)
    "postal_address": 6.0,       # KOTIMAINEN_POSTIOSOITE LISATTY, or POISTETTU when one exists
    "move_abroad": 2.0,          # VAKINAINEN_ULKOMAINEN_OSOITE LISATTY + domestic MUUTETTU + KOTIKUNTA 200
    "temporary_abroad": 1.0,     # TILAPAINEN_ULKOMAINEN_OSOITE LISATTY
    "foreign_postal": 1.0,       # ULKOMAINEN_POSTIOSOITE LISATTY (+ MUUTETTU old)
    "name_change": 12.0,         # HENKILON_NIMI MUUTETTU + NIMENMUUTOS
    "death": 6.0,                # KUOLINPAIVA LISATTY
    "death_correction": 0.5,     # KUOLINPAIVA KORJATTAVA + KORJATTU kuollut:false
    "mother_tongue": 2.0,        # AIDINKIELI POISTETTU with voimassaolevatTiedot
    "business_language": 6.0,    # ASIOINTIKIELI LISATTY / MUUTETTU / POISTETTU
    "turvakielto_start": 0.5,    # TURVAKIELTO LISATTY active + censored stubs
    "turvakielto_end": 0.5,      # TURVAKIELTO MUUTETTU turvakieltoAktiivinen:false
    "contact_address": 0.4,      # KOTIMAINEN_YHTEYSOSOITE LISATTY (protected persons)
    "hetu_correction": 0.1,      # HENKILOTUNNUS_KORJAUS LISATTY AKTIIVI + MUUTETTU PASSIIVI
    "guardianship": 1.0,         # EDUNVALVONTA LISATTY
    "guardianship_power": 0.5,   # EDUNVALVONTAVALTUUTUS LISATTY
    "other_group": 3.0,          # SIVIILISAATY / KANSALAISUUS (outside the 18)
    "unknown_group": 0.5,        # JOKU_MUU (a group no client knows)
}
_NEEDS = {"death_correction": "dead", "turvakielto_end": "protected", "contact_address": "protected"}


def _g(group, attr, fields):
    d = {"tietoryhma": group, "muutosattribuutti": attr}
    for k, v in fields.items():
        if k != "tietoryhma":
            d[k] = v
    return d


def _ended(e, loppu):
    d = _g(e["tietoryhma"], "MUUTETTU", e)
    d.pop("loppupv", None)
    d["loppupv"] = pv(loppu)
    return d


class ChangeGenerator:
    """Deterministic change scenario over the generated population (README.md §change mix)."""

    def __init__(self, store, count, pages, seed, mix, start_key, today, multi_share, apply_to_persons):
        self.store = store
        self.n = store.size
        self.count = count
        self.npages = pages
        self.rng = random.Random("vtj-mock-changes/%s" % seed)
        self.seed = seed
        self.mix = dict(DEFAULT_MIX)
        for k, v in (mix or {}).items():
            if k not in DEFAULT_MIX or not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise ValueError("mix: unknown kind or bad weight: %r" % k)
            self.mix[k] = float(v)
        self.kinds = [k for k, v in self.mix.items() if v > 0]
        if not self.kinds:
            raise ValueError("mix: every weight is 0")
        self.weights = [self.mix[k] for k in self.kinds]
        self.start_key = start_key
        self.today = today
        self.multi_share = multi_share
        self.apply = apply_to_persons
        self.states = {}      # index -> uncensored groups
        self.hetus = {}       # index -> current hetu
        self.retired = set()  # indices whose hetu was corrected
        self.by_kind = {k: 0 for k in DEFAULT_MIX}
        self.corrections = []
        self.n_corr = 0
        self.persons_multi = 0
        self.persons = 0

    # -- person state --------------------------------------------------------
    def state(self, i):
        s = self.states.get(i)
        if s is None:
            s = gen_person(i)[1]
            self.states[i] = s
            self.hetus[i] = hetu_of(i)
        return s

    def dead(self, i):
        if i in self.states:
            return any(g.get("tietoryhma") == "KUOLINPAIVA" and g.get("kuollut") is True for g in self.states[i])
        return person_traits(i)[0]

    def protected(self, i):
        if i in self.states:
            return is_protected(self.states[i])
        return person_traits(i)[1]

    def find(self, i, group):
        return [g for g in self.state(i) if g.get("tietoryhma") == group]

    def pick_person(self, need, used):
        for _ in range(20000):
            i = self.rng.randrange(self.n)
            if i in used or i in self.retired:
                continue
            dead = self.dead(i)
            if need == "dead":
                if dead:
                    return i
                continue
            if dead:
                continue
            if need == "protected" and not self.protected(i):
                continue
            return i
        return None

    def pick_kind(self, first):
        for _ in range(100):
            k = self.rng.choices(self.kinds, self.weights)[0]
            if not first and (k in _NEEDS or k == "hetu_correction"):
                continue
            return k
        return "move"

    # -- kinds: each returns uncensored entries, or None if not applicable ----
    def r(self):
        return Rnd(self.rng.getrandbits(64).to_bytes(8, "little"))

    def k_move(self, i, when):
        r = self.r()
        cur = self.find(i, "VAKINAINEN_KOTIMAINEN_OSOITE")
        abroad = self.find(i, "VAKINAINEN_ULKOMAINEN_OSOITE")
        kk = self.find(i, "KOTIKUNTA")
        old_kunta = kk[0].get("kuntakoodi") if kk else None
        change = old_kunta in (None, "200") or r.below(100) < 40
        kunta = pick_kunta(r) if change else old_kunta
        if kunta not in KUNNAT:
            kunta = pick_kunta(r)
        new = make_domestic_address(r, kunta, when)
        out = [_g(new["tietoryhma"], "LISATTY", new)]
        out += [_ended(e, when - dt.timedelta(days=1)) for e in cur + abroad]
        if change or not kk:
            out.append(_g("KOTIKUNTA", "LISATTY", {"kuntakoodi": kunta, "kuntaanMuuttopv": pv(when)}))
        else:
            out.append(_g("KOTIKUNTA", "LISATIETO", kk[0]))
        return out

    def k_address_correction(self, i, when):
        cur = self.find(i, "VAKINAINEN_KOTIMAINEN_OSOITE")
        if not cur:
            return None
        old = cur[0]
        fixed = dict(old)
        fixed["katunumero"] = str(int(re.sub(r"\D.*", "", old.get("katunumero", "1")) or 1) + 1)
        return [_g(old["tietoryhma"], "KORJATTAVA", old), _g(old["tietoryhma"], "KORJATTU", fixed)]

    def k_temporary_address(self, i, when):
        r = self.r()
        cur = self.find(i, "TILAPAINEN_KOTIMAINEN_OSOITE")
        new = make_domestic_address(r, pick_kunta(r), when, "TILAPAINEN_KOTIMAINEN_OSOITE")
        return [_g(new["tietoryhma"], "LISATTY", new)] + [_ended(e, when - dt.timedelta(days=1)) for e in cur]

    def k_postal_address(self, i, when):
        cur = self.find(i, "KOTIMAINEN_POSTIOSOITE")
        if cur:
            d = _g("KOTIMAINEN_POSTIOSOITE", "POISTETTU", cur[0])
            d["voimassaolevatTiedot"] = []
            return [d]
        r = self.r()
        kk = self.find(i, "KOTIKUNTA")
        kunta = kk[0]["kuntakoodi"] if kk and kk[0].get("kuntakoodi") in KUNNAT else pick_kunta(r)
        new = make_postal_address(r, kunta, when)
        return [_g(new["tietoryhma"], "LISATTY", new)]

    def k_move_abroad(self, i, when):
        cur = self.find(i, "VAKINAINEN_KOTIMAINEN_OSOITE")
        if not cur or self.find(i, "VAKINAINEN_ULKOMAINEN_OSOITE"):
            return None
        new = make_foreign_address(self.r(), when)
        return ([_g(new["tietoryhma"], "LISATTY", new)] + [_ended(e, when - dt.timedelta(days=1)) for e in cur]
                + [_g("KOTIKUNTA", "LISATTY", {"kuntakoodi": "200", "kuntaanMuuttopv": pv(when)})])

    def k_temporary_abroad(self, i, when):
        new = make_foreign_address(self.r(), when, "TILAPAINEN_ULKOMAINEN_OSOITE")
        return [_g(new["tietoryhma"], "LISATTY", new)]

    def k_foreign_postal(self, i, when):
        cur = self.find(i, "ULKOMAINEN_POSTIOSOITE")
        new = make_foreign_postal(self.r(), when)
        return [_g(new["tietoryhma"], "LISATTY", new)] + [_ended(e, when - dt.timedelta(days=1)) for e in cur]

    def k_name_change(self, i, when):
        r = self.r()
        cur = self.find(i, "HENKILON_NIMI")
        if not cur:
            return None
        old = cur[0]
        new = {k: v for k, v in old.items() if k != "alkupv"}
        out = []
        if r.below(4) == 0:   # first name
            male = int(self.hetus[i][7:10]) % 2 == 1
            e, e8 = pick_name(r, male)
            if e == old.get("etunimi"):
                return None
            new["etunimi"], new["etunimiUTF8"] = e, e8
            new["alkupv"] = pv(when)
            out.append(_g("HENKILON_NIMI", "MUUTETTU", new))
            out.append(_g("NIMENMUUTOS", "LISATTY", {"nimilaji": "NYKYINEN_ETUNIMI", "nimi": e, "nimiUTF8": e8,
                                                     "alkupv": pv(when)}))
            out.append(_g("NIMENMUUTOS", "LISATTY", {"nimilaji": "EDELLINEN_ETUNIMI", "nimi": old.get("etunimi"),
                                                     "nimiUTF8": old.get("etunimiUTF8"),
                                                     "loppupv": pv(when - dt.timedelta(days=1))}))
            return out
        s, s8 = pick_surname(r)
        if s == old.get("sukunimi"):
            return None
        new["sukunimi"], new["sukunimiUTF8"] = s, s8
        new["alkupv"] = pv(when)
        out.append(_g("HENKILON_NIMI", "MUUTETTU", new))
        out.append(_g("NIMENMUUTOS", "LISATTY", {"nimilaji": "NYKYINEN_SUKUNIMI", "nimi": s, "nimiUTF8": s8,
                                                 "alkupv": pv(when)}))
        for e in self.find(i, "NIMENMUUTOS"):
            if e.get("nimilaji") == "NYKYINEN_SUKUNIMI" and "loppupv" not in e:
                out.append(_ended(e, when - dt.timedelta(days=1)))
        out.append(_g("NIMENMUUTOS", "LISATTY", {"nimilaji": "EDELLINEN_SUKUNIMI", "nimi": old.get("sukunimi"),
                                                 "nimiUTF8": old.get("sukunimiUTF8"),
                                                 "loppupv": pv(when - dt.timedelta(days=1))}))
        return out

    def k_death(self, i, when):
        out = [_g("KUOLINPAIVA", "LISATTY", {"kuollut": True,
                                             "kuolinpv": pv(when - dt.timedelta(days=self.rng.randrange(6)))})]
        nimi = self.find(i, "HENKILON_NIMI")
        if nimi and self.rng.random() < 0.5:
            out.append(_g("HENKILON_NIMI", "LISATIETO", nimi[0]))
        return out

    def k_death_correction(self, i, when):
        cur = [g for g in self.find(i, "KUOLINPAIVA") if g.get("kuollut") is True]
        if not cur:
            return None
        return [_g("KUOLINPAIVA", "KORJATTAVA", cur[0]), _g("KUOLINPAIVA", "KORJATTU", {"kuollut": False})]

    def k_mother_tongue(self, i, when):
        cur = self.find(i, "AIDINKIELI")
        birth = birth_of(i)
        lang = LANGS[1] if not cur or cur[0].get("kielikoodi") == "fi" else LANGS[0]
        new = lang_entry("AIDINKIELI", lang, birth)
        if not cur:
            return [_g("AIDINKIELI", "LISATTY", new)]
        d = _g("AIDINKIELI", "POISTETTU", cur[0])
        d["voimassaolevatTiedot"] = [new]
        return [d]

    def k_business_language(self, i, when):
        cur = self.find(i, "ASIOINTIKIELI")
        if cur and self.rng.random() < 0.34:
            d = _g("ASIOINTIKIELI", "POISTETTU", cur[0])
            d["voimassaolevatTiedot"] = []
            return [d]
        lang = LANGS[1] if not cur or cur[0].get("kielikoodi") == "fi" else LANGS[0]
        out = [_g("ASIOINTIKIELI", "LISATTY", lang_entry("ASIOINTIKIELI", lang, when))]
        out += [_ended(e, when - dt.timedelta(days=1)) for e in cur]
        return out

    def k_turvakielto_start(self, i, when):
        if self.protected(i):
            return None
        return [_g("TURVAKIELTO", "LISATTY", {"turvakieltoAktiivinen": True,
                                              "turvaLoppuPv": pv(when.replace(year=when.year + 5, day=1))})]

    def k_turvakielto_end(self, i, when):
        cur = [g for g in self.find(i, "TURVAKIELTO") if g.get("turvakieltoAktiivinen") is True]
        if not cur:
            return None
        out = [_g("TURVAKIELTO", "MUUTETTU", {"turvakieltoAktiivinen": False, "turvaLoppuPv": pv(when)})]
        kk = self.find(i, "KOTIKUNTA")
        if kk:
            out.append(_g("KOTIKUNTA", "LISATIETO", kk[0]))
        return out

    def k_contact_address(self, i, when):
        r = self.r()
        new = make_postal_address(r, pick_kunta(r), when, "KOTIMAINEN_YHTEYSOSOITE")
        return [_g(new["tietoryhma"], "LISATTY", new)]

    def k_hetu_correction(self, i, when):
        old = self.hetus[i]
        while True:
            j = CORR_BASE + (hash_int("%s/%d" % (self.seed, self.n_corr)) % CORR_SPAN)
            self.n_corr += 1
            new = hetu_of(j)
            if new not in self.store.ov_frag and new not in self.store.fixture_frag:
                break
        base = {"voimassaolo": "AKTIIVI", "muutettuHenkilotunnus": new, "aktiivinenHenkilotunnus": new,
                "edellisetHenkilotunnukset": [old]}
        out = [_g("HENKILOTUNNUS_KORJAUS", "LISATTY", base),
               _g("HENKILOTUNNUS_KORJAUS", "MUUTETTU", dict(base, voimassaolo="PASSIIVI",
                                                             muutettuHenkilotunnus=old))]
        nimi = self.find(i, "HENKILON_NIMI")
        if nimi:
            out.append(_g("HENKILON_NIMI", "LISATIETO", nimi[0]))
        self.corrections.append([old, new])
        return out

    def k_guardianship(self, i, when):
        r = self.r()
        return [_g("EDUNVALVONTA", "LISATTY", {"alkupv": pv(when), "nykyisetEdunvalvojat": [
            {"edunvalvoja": nested_person(hetu_of(self.rng.randrange(max(self.n, 1))), r)}]})]

    def k_guardianship_power(self, i, when):
        r = self.r()
        return [_g("EDUNVALVONTAVALTUUTUS", "LISATTY", {"nykyisetEdunvalvontavaltuutetut": [
            {"edunvalvontavaltuutettu": nested_person(hetu_of(self.rng.randrange(max(self.n, 1))), r),
             "valtuutussuhteenAlkupv": pv(when)}]})]

    def k_other_group(self, i, when):
        if self.rng.random() < 0.6:
            return [_g("SIVIILISAATY", "MUUTETTU", {"siviilisaaty": self.rng.choice(
                ["AVIOLIITOSSA", "ERONNUT", "LESKI", "NAIMATON"]), "alkupv": pv(when)})]
        return [_g("KANSALAISUUS", "MUUTETTU", {"lisatytKansalaisuudet": [
            {"kansalaisuuskoodi": self.rng.choice(["752", "233", "578", "840"]), "voimassaolo": "AKTIIVI",
             "saamispv": pv(when)}]})]

    def k_unknown_group(self, i, when):
        return [_g("JOKU_MUU", "LISATTY", {"arvo": "testi", "alkupv": pv(when)})]

    # -- driver ---------------------------------------------------------------
    def record(self, i, kind, when):
        ents = getattr(self, "k_" + kind)(i, when)
        if ents is None:
            return None
        hetu = self.hetus[i]
        was = self.protected(i)
        state = apply_entries(self.state(i), ents, self.today.isoformat())
        self.states[i] = state
        now = is_protected(state)
        wire = ents
        if now:
            wire = censor_entries(ents)
            if not was:
                wire = wire + [e for e in stub_entries() if e["tietoryhma"] not in
                               {x["tietoryhma"] for x in wire if "turvakiellonAlaisetKentat" in x}]
        if kind == "hetu_correction":
            self.retired.add(i)
        self.by_kind[kind] += 1
        rec = {"henkilotunnus": hetu, "muutospv": "%sT21:00:00.000Z" % (when - dt.timedelta(days=1)).isoformat(),
               "tietoryhmat": wire}
        return hetu, rec, ents

    def quotas(self):
        """The kinds of all records, in exact proportion to the weights (largest remainder), shuffled."""
        total_w = sum(self.weights)
        raw = [(k, self.count * w / total_w) for k, w in zip(self.kinds, self.weights)]
        base = {k: int(x) for k, x in raw}
        rest = self.count - sum(base.values())
        for k, x in sorted(raw, key=lambda kx: (int(kx[1]) - kx[1], kx[0]))[:rest]:
            base[k] += 1
        q = [k for k in self.kinds for _ in range(base[k])]
        self.rng.shuffle(q)
        return collections.deque(q)

    def take_extra(self, queue):
        for j in range(1, min(len(queue), 64) + 1):
            k = queue[-j]
            if k not in _NEEDS and k != "hetu_correction":
                del queue[-j]
                return k
        return self.pick_kind(False)

    def run(self):
        if self.n <= 0:
            raise ValueError("the generated population is empty (POST /_mock/population first)")
        pages = []
        key = self.start_key
        queue = self.quotas()
        base, extra = divmod(self.count, self.npages)
        fails = 0
        for p in range(self.npages):
            want = base + (1 if p < extra else 0)
            when = self.today - dt.timedelta(days=self.npages - 1 - p)
            per_person = []
            used = set()
            total = 0
            while total < want:
                kind = queue.pop() if queue else self.pick_kind(True)
                if fails > 1000:
                    kind = "move"
                i = self.pick_person(_NEEDS.get(kind), used)
                if i is None:
                    queue.appendleft(kind)
                    kind = "move"
                    i = self.pick_person(None, used)
                    if i is None:
                        raise ValueError("population too small for this scenario")
                self.state(i)
                kinds = [kind]
                if (kind != "hetu_correction" and want - total >= 2
                        and self.rng.random() < self.multi_share):
                    more = 1 if (want - total == 2 or self.rng.random() < 0.75) else 2
                    kinds += [self.take_extra(queue) for _ in range(more)]
                    if "death" in kinds[:-1]:          # nothing happens to a person after death
                        kinds.remove("death")
                        kinds.append("death")
                recs = []
                for k in kinds:
                    rx = None if (self.dead(i) and k != "death_correction") else self.record(i, k, when)
                    if rx is None:
                        queue.appendleft(k)           # retried later with another person
                        continue
                    recs.append(rx)
                if not recs:
                    fails += 1
                    continue
                fails = 0
                used.add(i)
                self.persons += 1
                if len(recs) > 1:
                    self.persons_multi += 1
                per_person.append(recs)
                total += len(recs)
            # interleave persons, keeping each person's records in order
            tokens = [n for n, recs in enumerate(per_person) for _ in recs]
            self.rng.shuffle(tokens)
            nxt = [0] * len(per_person)
            hetus, items, applies = [], [], []
            for n in tokens:
                h, rec, ents = per_person[n][nxt[n]]
                nxt[n] += 1
                hetus.append(h)
                items.append(jdump(rec))
                applies.append((h, ents))
            next_key = key + len(items) + 1
            pages.append(Page(key, next_key, hetus, items, applies if self.apply else None))
            key = next_key
        info = {"records": self.count, "persons": self.persons, "persons_with_several_records": self.persons_multi,
                "by_kind": {k: v for k, v in self.by_kind.items() if v}, "hetu_corrections": self.corrections,
                "today": self.today.isoformat(), "seed": self.seed}
        return Scenario(self.start_key, pages, True, self.apply, info)


def hash_int(s):
    return int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------

FAULT_KINDS = {"status", "delay", "latency", "drop", "reset_mid_body", "truncate", "invalid_json",
               "invalid_utf8", "nul_in_string", "wrong_types", "bad_person", "oversized", "key_backwards",
               "empty_not_current", "partial", "stall_mid_body"}


WRONG_TYPES_VARIANTS = {"key_string", "list_object", "bool_string", "key_float", "hetu_number", "date_number"}
BAD_PERSON_VARIANTS = {"tietoryhmat_string", "missing_henkilotunnus", "henkilotunnus_number",
                       "invalid_henkilotunnus", "group_not_object", "group_without_name", "date_number",
                       "field_wrong_type", "unknown_attribute", "not_object"}


def check_rule(rule):
    if not isinstance(rule, dict):
        raise ValueError("a rule is an object")
    kind = rule.get("kind")
    if kind not in FAULT_KINDS:
        raise ValueError("unknown fault kind %r" % (kind,))
    path = rule.get("path", "*")
    if not isinstance(path, str):
        raise ValueError("path must be a string")
    times = rule.get("times", 1)
    skip = rule.get("skip", 0)
    if type(times) is not int or times < -1 or type(skip) is not int or skip < 0:
        raise ValueError("times must be an integer >= -1 and skip an integer >= 0")
    if kind == "status" and type(rule.get("status")) is not int:
        raise ValueError("status fault needs an integer status")
    if kind in ("delay", "latency", "stall_mid_body") and not isinstance(rule.get("ms"), (int, float)):
        raise ValueError("%s fault needs ms" % kind)
    if kind == "oversized" and type(rule.get("bytes")) is not int:
        raise ValueError("oversized fault needs bytes")
    allowed = {"wrong_types": WRONG_TYPES_VARIANTS, "bad_person": BAD_PERSON_VARIANTS}.get(kind)
    if allowed and "variant" in rule and rule["variant"] not in allowed:
        raise ValueError("%s variants: %s" % (kind, ", ".join(sorted(allowed))))
    if kind == "invalid_json" and rule.get("at", "middle") not in ("start", "middle", "end"):
        raise ValueError("invalid_json at: start, middle or end")
    r = dict(rule)
    r["path"], r["times"], r["skip"] = path, times, skip
    r["hits"] = 0
    return r


def rule_matches(rule_path, path):
    if rule_path in ("*", ""):
        return True
    rp = rule_path.rstrip("/")
    if rp.startswith("/api/v1/") or rp == "/api/v1":
        pass
    elif "/api/v1/" in rp:
        rp = rp[rp.rfind("/api/v1/"):]
    return path == rp or path.startswith(rp + "/")


class Body:
    """A JSON object response kept in parts so faults can corrupt it precisely."""

    def __init__(self, fields, list_field=None, items=None):
        self.fields = fields            # [(name, raw JSON bytes or None for the list field)]
        self.list_field = list_field
        self.items = items if items is not None else []
        self.bad_sep_at = None

    def render(self):
        # One join over all pieces: concatenating large bytes objects step by step
        # costs ~1.5 ms per MB (fresh allocations), a single join ~25 us.
        parts = [b"{"]
        for n, (name, raw) in enumerate(self.fields):
            parts.append(b'"%s":' % name.encode() if n == 0 else b',"%s":' % name.encode())
            if name != self.list_field:
                parts.append(raw)
                continue
            parts.append(b"[")
            for k, it in enumerate(self.items):
                if k:
                    parts.append(b";" if k == self.bad_sep_at else b",")
                parts.append(it)
            parts.append(b"]")
        parts.append(b"}")
        return b"".join(parts)

    def set(self, name, raw):
        for n, (k, _v) in enumerate(self.fields):
            if k == name:
                self.fields[n] = (k, raw)
                return
        self.fields.append((name, raw))

    def get(self, name):
        for k, v in self.fields:
            if k == name:
                return v
        return None


_NAME_FIELD = re.compile(rb'"(etunimi|sukunimi|etunimiUTF8|sukunimiUTF8|nimi|etunimet)":"')
_DATE_OBJ = re.compile(rb'\{"arvo":"(\d{4})-(\d{2})-(\d{2})","tarkkuus":"[A-Z]+"\}')


def _inject_in_name(body, payload):
    """Put payload inside the first name string of an item (or an extra envelope field)."""
    for n, it in enumerate(body.items):
        m = _NAME_FIELD.search(it)
        if m:
            body.items[n] = it[:m.end()] + payload + it[m.end():]
            return
    body.fields.append(("huomautus", b'"x' + payload + b'x"'))


def mutate_item(item, variant, endpoint):
    try:
        obj = json.loads(item)
    except ValueError:
        return b'"RIKKI"'
    if not isinstance(obj, dict):
        return b"42"
    if variant == "tietoryhmat_string":
        obj["tietoryhmat"] = "RIKKI"
    elif variant == "missing_henkilotunnus":
        obj.pop("henkilotunnus", None)
    elif variant == "henkilotunnus_number":
        obj["henkilotunnus"] = 12345678
    elif variant == "invalid_henkilotunnus":
        obj["henkilotunnus"] = "123"
    elif variant == "group_not_object":
        if isinstance(obj.get("tietoryhmat"), list):
            obj["tietoryhmat"].insert(0, 42)
    elif variant == "group_without_name":
        if isinstance(obj.get("tietoryhmat"), list) and obj["tietoryhmat"]:
            obj["tietoryhmat"][0] = {k: v for k, v in obj["tietoryhmat"][0].items() if k != "tietoryhma"}
        else:
            obj["tietoryhmat"] = [{"muutosattribuutti": "LISATTY"}]
    elif variant == "date_number":
        b = jdump(obj)
        m = _DATE_OBJ.search(b)
        if m:
            return b[:m.start()] + m.group(1) + m.group(2) + m.group(3) + b[m.end():]
        obj["tietoryhmat"] = [{"tietoryhma": "HENKILON_NIMI", "etunimi": "Testi", "alkupv": 20240101}]
    elif variant == "field_wrong_type":
        for g in obj.get("tietoryhmat") or []:
            if isinstance(g, dict):
                for k, v in g.items():
                    if k not in ("tietoryhma", "muutosattribuutti") and isinstance(v, str):
                        g[k] = 12345
                        return jdump(obj)
        obj["tietoryhmat"] = [{"tietoryhma": "HENKILON_NIMI", "etunimi": 12345}]
    elif variant == "unknown_attribute":
        for g in obj.get("tietoryhmat") or []:
            if isinstance(g, dict):
                g["muutosattribuutti"] = "TUNTEMATON"
                break
    elif variant == "not_object":
        return b'"RIKKI"'
    else:
        raise ValueError("unknown bad_person variant %r" % variant)
    return jdump(obj)


# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------

class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.store = Store(args.population, args.fixture)
        self.cfg = {"username": args.username, "password": args.password, "xroad_client": args.xroad_client,
                    "start_key": args.start_key}
        self.scenario = None
        self.faults = []
        self.log = []
        self.log_limit = 200_000
        self.stats = {"requests": 0, "persons_served": 0, "bytes_sent": 0}

    def reset(self):
        """Clears faults, request log, scenario, person overrides and /_mock/config changes.
        The population size stays (it is set up once, like the process)."""
        with self.lock:
            self.store.clear_overrides()
            self.cfg = {"username": self.args.username, "password": self.args.password,
                        "xroad_client": self.args.xroad_client, "start_key": self.args.start_key}
            self.scenario = None
            self.faults = []
            self.log = []

    def take_fault(self, path):
        """(rule or None, total latency ms) for one API request; consumes the rule."""
        latency = 0.0
        chosen = None
        with self.lock:
            for r in self.faults:
                if not rule_matches(r["path"], path):
                    continue
                if r["kind"] == "latency":
                    if r["times"] == 0:
                        continue
                    if r["skip"] > 0:
                        r["skip"] -= 1
                        continue
                    latency += float(r["ms"])
                    r["hits"] += 1
                    if r["times"] > 0:
                        r["times"] -= 1
                    continue
                if chosen is not None or r["times"] == 0:
                    continue
                if r["skip"] > 0:
                    r["skip"] -= 1
                    chosen = False    # this rule let the request pass
                    continue
                r["hits"] += 1
                if r["times"] > 0:
                    r["times"] -= 1
                chosen = r
        return (chosen or None), latency


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 406: "Not Acceptable", 413: "Payload Too Large",
           415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ApiError(Exception):
    def __init__(self, status, message, headers=()):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = list(headers)


def _error_body(status, message):
    return jdump({"status": status, "error": REASONS.get(status, "Error"), "message": message})


def _media_type(v):
    return (v or "").split(";", 1)[0].strip().lower()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vtj-mock/1.0"
    sys_version = ""
    timeout = 600            # idle keep-alive connections are closed after this

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("vtj_mock: %s %s\n" % (self.address_string(), fmt % args))

    # -- low level -------------------------------------------------------------
    def _head(self, status, length, ctype="application/json", extra=(), chunked=False):
        lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status")),
                 "Server: vtj-mock/1.0", "Content-Type: " + ctype]
        lines.append("Transfer-Encoding: chunked" if chunked else "Content-Length: %d" % length)
        for k, v in extra:
            lines.append("%s: %s" % (k, v))
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, status, body, extra=(), ctype="application/json"):
        head = self._head(status, len(body), ctype, extra)
        conn = self.connection
        if self.command == "HEAD":
            conn.sendall(head)
        elif len(body) > 65536:
            conn.sendall(head)
            conn.sendall(body)
        else:
            conn.sendall(head + body)
        self.server.state.stats["bytes_sent"] += len(body)

    def _send_json(self, status, obj, extra=()):
        self._send(status, jdump(obj), extra)

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if te == "chunked":
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    n = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    self._send(400, _error_body(400, "bad chunked encoding"))
                    return None
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += n
                if total > MAX_BODY:
                    self.close_connection = True
                    self._send(413, _error_body(413, "request body too large"))
                    return None
                chunks.append(self.rfile.read(n))
                self.rfile.readline(3)
            return b"".join(chunks)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl)
            if n < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._send(400, _error_body(400, "bad Content-Length"))
            return None
        if n > MAX_BODY:
            self.close_connection = True
            self._send(413, _error_body(413, "request body too large"))
            return None
        data = self.rfile.read(n) if n else b""
        if len(data) < n:
            self.close_connection = True
            return None
        return data

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def _dispatch(self, method):
        body = self._read_body()
        if body is None:
            return
        url = urlsplit(self.path)
        path = url.path
        try:
            if path == "/_mock" or path.startswith("/_mock/"):
                self._control(method, path, url.query, body)
                return
            pos = path.rfind("/api/v1/")
            if pos < 0:
                self._send(404, _error_body(404, "no such path"))
                return
            self._api(method, path[pos + len("/api/v1/"):], body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a mock bug must not kill the connection silently
            self.close_connection = True
            sys.stderr.write("vtj_mock: internal error: %r\n" % (e,))
            try:
                self._send(500, _error_body(500, "mock internal error: %s" % type(e).__name__))
            except OSError:
                pass

    # -- API ---------------------------------------------------------------------
    def _api(self, method, ep, body):
        S = self.server.state
        npath = "/api/v1/" + ep
        hdrs = {}
        for k, v in self.headers.items():
            hdrs[k.lower()] = v
        entry = {"method": method, "path": npath, "raw_path": self.path, "headers": hdrs,
                 "hetu_count": None, "body_keys": None, "status": None, "fault": None, "time": time.time()}
        parsed = _MISSING
        if body:
            try:
                parsed = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                parsed = _MISSING
            if isinstance(parsed, dict):
                entry["body_keys"] = list(parsed)
                hl = parsed.get("hetulista")
                if isinstance(hl, list):
                    entry["hetu_count"] = len(hl)
                if "viimeisinKirjausavain" in parsed:
                    entry["kirjausavain"] = parsed["viimeisinKirjausavain"]
        self._parsed = parsed
        S.stats["requests"] += 1
        try:
            self._api_checks(method, ep, hdrs, S)
        except ApiError as e:
            self._log(entry, e.status)
            self._send(e.status, _error_body(e.status, e.message), e.headers)
            return
        rule, latency = S.take_fault(npath)
        if rule:
            entry["fault"] = rule["kind"]
        if latency:
            time.sleep(latency / 1000.0)
        kind = rule["kind"] if rule else None
        if kind == "status":
            st = rule["status"]
            extra = [("Retry-After", str(rule["retry_after"]))] if rule.get("retry_after") is not None else []
            b = rule.get("body")
            payload = b.encode("utf-8") if isinstance(b, str) else _error_body(st, "injected fault")
            self._log(entry, st)
            self._send(st, payload, extra)
            return
        if kind == "drop":
            self._log(entry, 0)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if kind == "delay":
            time.sleep(float(rule["ms"]) / 1000.0)
        try:
            status, resp = self._api_handle(ep, parsed, body, S, rule)
        except ApiError as e:
            self._log(entry, e.status)
            self._send(e.status, _error_body(e.status, e.message), e.headers)
            return
        if rule and status == 200 and isinstance(resp, Body):
            self._corrupt(resp, rule, ep)
        data = resp.render() if isinstance(resp, Body) else resp
        self._log(entry, status)
        self._send_faulty(status, data, rule)

    def _log(self, entry, status):
        entry["status"] = status
        S = self.server.state
        with S.lock:
            if len(S.log) >= S.log_limit:
                del S.log[: S.log_limit // 10]
            S.log.append(entry)

    def _api_checks(self, method, ep, hdrs, S):
        name = ep.split("/", 1)[0]
        if name not in ENDPOINTS or (name == "kirjausavain") != ("/" in ep) or ep.count("/") > 1:
            raise ApiError(404, "unknown endpoint")
        cfg = S.cfg
        auth = hdrs.get("authorization")
        ok = False
        if auth is not None:
            if auth[:6].lower() == "basic ":
                try:
                    ok = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8") == \
                        "%s:%s" % (cfg["username"], cfg["password"])
                except (ValueError, UnicodeDecodeError):
                    ok = False
        elif "mutp-tunnus" in hdrs or "mutp-salasana" in hdrs:
            ok = hdrs.get("mutp-tunnus") == cfg["username"] and hdrs.get("mutp-salasana") == cfg["password"]
        if not ok:
            raise ApiError(401, "authentication required" if auth is None and "mutp-tunnus" not in hdrs
                           else "bad credentials", [("WWW-Authenticate", 'Basic realm="VTJmutpa"')])
        xr = hdrs.get("x-road-client")
        if xr is None:
            raise ApiError(400, "X-Road-Client header missing")
        if xr != cfg["xroad_client"]:
            raise ApiError(400, "X-Road-Client not permitted for this service")
        want = "GET" if name == "kirjausavain" else "POST"
        if method != want:
            raise ApiError(405, "use %s" % want, [("Allow", want)])
        accept = [_media_type(p) for p in (hdrs.get("accept") or "").split(",")]
        if "application/json" not in accept:
            raise ApiError(406, "Accept: application/json required")
        if method == "POST" and _media_type(hdrs.get("content-type")) != "application/json":
            raise ApiError(415, "Content-Type: application/json required")

    def _api_handle(self, ep, parsed, raw, S, rule):
        if ep.startswith("kirjausavain/"):
            d = ep.split("/", 1)[1]
            try:
                if not _DATE_RE.match(d):
                    raise ValueError
                dt.date.fromisoformat(d)
            except ValueError:
                raise ApiError(400, "date must be YYYY-MM-DD")
            sc = S.scenario
            key = sc.start_key if sc is not None else S.cfg["start_key"]
            return 200, Body([("viimeisinKirjausavain", b"%d" % key)])
        if parsed is _MISSING:
            raise ApiError(400, "body is not a JSON object" if raw else "body missing")
        if not isinstance(parsed, dict):
            raise ApiError(400, "body is not a JSON object")
        if ep in ("perustiedot", "perustiedot-vko"):
            return self._perustiedot(ep, parsed, S, rule)
        return self._muutokset(parsed, S, rule)

    @staticmethod
    def _hetulista(parsed, limit):
        hl = parsed.get("hetulista", _MISSING)
        if hl is _MISSING:
            raise ApiError(400, "hetulista missing")
        if not isinstance(hl, list):
            raise ApiError(400, "hetulista must be an array")
        for h in hl:
            if type(h) is not str:
                raise ApiError(400, "hetulista items must be strings")
        if limit and len(hl) > limit:
            raise ApiError(400, "at most %d hetus per request" % limit)
        return hl

    def _perustiedot(self, ep, parsed, S, rule):
        unknown = set(parsed) - {"hetulista", "tietoryhmat"}
        if unknown:
            raise ApiError(400, "unknown properties: %s" % ", ".join(sorted(unknown)))
        hl = self._hetulista(parsed, MAX_HETUS)
        tr = parsed.get("tietoryhmat", _MISSING)
        if tr is not _MISSING:
            if not isinstance(tr, list) or any(type(t) is not str for t in tr):
                raise ApiError(400, "tietoryhmat must be an array of strings")
            items = S.store.filtered_fragments(hl, tr)
        else:
            items = S.store.fragments(hl)
        S.stats["persons_served"] += len(items)
        fields = [("perustiedot", None), ("ajanTasalla", b"true")]
        if ep == "perustiedot-vko":
            t = helsinki_today()
            fields.append(("poimintapv", b'"%s"' % (t - dt.timedelta(days=t.weekday())).isoformat().encode()))
        return 200, Body(fields, "perustiedot", items)

    def _muutokset(self, parsed, S, rule):
        unknown = set(parsed) - {"hetulista", "viimeisinKirjausavain"}
        if unknown:
            raise ApiError(400, "unknown properties: %s" % ", ".join(sorted(unknown)))
        key = parsed.get("viimeisinKirjausavain", _MISSING)
        if key is _MISSING:
            raise ApiError(400, "viimeisinKirjausavain missing")
        if type(key) is not int or key < 0 or key >= 1 << 63:
            raise ApiError(400, "viimeisinKirjausavain must be a non-negative 64-bit integer")
        hl = self._hetulista(parsed, 0)
        sc = S.scenario
        loc = sc.locate(key) if sc is not None else None
        if loc is None:
            return 200, Body([("viimeisinKirjausavain", b"%d" % key), ("muutokset", None),
                              ("ajanTasalla", b"true")], "muutokset", [])
        i, off = loc
        page = sc.pages[i]
        if sc.apply_to_persons and not page.served:
            with S.lock:
                if not page.served:
                    today = helsinki_today().isoformat()
                    for h, ents in page.apply or ():
                        S.store.apply_record(h, ents, today)
        page.served = True
        if sc.filter:
            hs = page.hset.intersection(hl)    # cheaper than set(hl) for a register-sized hetulista
            ph = page.hetus
            items = [page.items[j] for j in range(off, len(page.items)) if ph[j] in hs]
        else:
            items = page.items[off:]
        last = i == len(sc.pages) - 1
        return 200, Body([("viimeisinKirjausavain", b"%d" % page.next_key), ("muutokset", None),
                          ("ajanTasalla", b"true" if last else b"false")], "muutokset", items)

    # -- faults ------------------------------------------------------------------
    def _corrupt(self, body, rule, ep):
        kind = rule["kind"]
        muut = ep == "muutokset"
        if kind == "invalid_json":
            at = rule.get("at", "middle")
            if at == "middle" and len(body.items) >= 2:
                body.bad_sep_at = len(body.items) // 2
            elif at == "start":
                body.fields.insert(0, ("x", b"nul"))
            else:
                body.fields.append(("loppu", b"tru"))
        elif kind == "invalid_utf8":
            _inject_in_name(body, b"\xff\xfe")
        elif kind == "nul_in_string":
            _inject_in_name(body, b"\\u0000")
        elif kind == "wrong_types":
            variant = rule.get("variant") or ("list_object" if body.list_field == "perustiedot" else "key_string")
            if variant == "key_string" and body.get("viimeisinKirjausavain") is not None:
                body.set("viimeisinKirjausavain", b'"' + body.get("viimeisinKirjausavain") + b'"')
            elif variant == "list_object" and body.list_field:
                body.set(body.list_field, b'{"henkilot":[]}')
                body.list_field = None
            elif variant == "bool_string":
                body.set("ajanTasalla", b'"true"')
            elif variant == "key_float" and body.get("viimeisinKirjausavain") is not None:
                body.set("viimeisinKirjausavain", body.get("viimeisinKirjausavain") + b".5")
            elif variant == "hetu_number":
                body.items = [re.sub(rb'"henkilotunnus":"([0-9]{6})[^"]*"',
                                     lambda m: b'"henkilotunnus":%d' % int(m.group(1)), it)
                              for it in body.items]
            elif variant == "date_number":
                for n, it in enumerate(body.items):
                    m = _DATE_OBJ.search(it)
                    if m:
                        body.items[n] = it[:m.start()] + m.group(1) + m.group(2) + m.group(3) + it[m.end():]
                        break
            else:
                body.set("ajanTasalla", b'"true"')
        elif kind == "bad_person":
            if body.items:
                idx = rule.get("index")
                if type(idx) is not int or not 0 <= idx < len(body.items):
                    idx = len(body.items) // 2
                body.items[idx] = mutate_item(body.items[idx], rule.get("variant", "tietoryhmat_string"), ep)
            else:
                body.items.append(b'{"henkilotunnus":"010101-900R","tietoryhmat":"RIKKI"}')
        elif kind == "key_backwards" and muut:
            cur = int(body.get("viimeisinKirjausavain"))
            req = self._req_key()
            by = int(rule.get("by", 1))
            body.set("viimeisinKirjausavain", b"%d" % max(0, (req if req is not None else cur) - by))
        elif kind == "empty_not_current" and muut:
            req = self._req_key()
            body.set("viimeisinKirjausavain", b"%d" % (req if req is not None else 0))
            body.items = []
            body.set("ajanTasalla", b"false")
        elif kind == "partial" and body.list_field == "perustiedot":
            omit = rule.get("omit")
            n = len(body.items)
            omit = (n + 1) // 2 if type(omit) is not int else min(max(omit, 0), n)
            body.items = body.items[: n - omit]
            body.set("ajanTasalla", b"false")

    def _req_key(self):
        p = getattr(self, "_parsed", None)
        k = p.get("viimeisinKirjausavain") if isinstance(p, dict) else None
        return k if type(k) is int else None

    def _send_faulty(self, status, data, rule):
        kind = rule["kind"] if rule else None
        conn = self.connection
        if kind == "truncate":
            keep = rule.get("bytes")
            keep = len(data) // 2 if type(keep) is not int else max(0, min(keep, len(data)))
            self._send(status, data[:keep])
        elif kind == "reset_mid_body":
            conn.sendall(self._head(status, len(data)) + data[: len(data) // 2])
            self.close_connection = True
            self._rst()
        elif kind == "stall_mid_body":
            half = len(data) // 2
            conn.sendall(self._head(status, len(data)) + data[:half])
            time.sleep(float(rule["ms"]) / 1000.0)
            conn.sendall(data[half:])
        elif kind == "oversized":
            total = int(rule["bytes"])
            chunked = bool(rule.get("chunked"))
            if total <= len(data) or not data.endswith(b"}"):
                self._send(status, data)
                return
            pad = total - len(data)
            conn.sendall(self._head(status, total, chunked=chunked))
            pieces = [data[:-1]]
            block = b" " * (1 << 20)
            while pad > 0:
                n = min(pad, len(block))
                pieces.append(block[:n] if n < len(block) else block)
                pad -= n
            pieces.append(b"}")
            for p in pieces:
                if chunked:
                    conn.sendall(b"%x\r\n" % len(p) + p + b"\r\n")
                else:
                    conn.sendall(p)
            if chunked:
                conn.sendall(b"0\r\n\r\n")
        else:
            self._send(status, data)

    def _rst(self):
        """Close the connection with a TCP RST (SO_LINGER 0, then the last reference closed)."""
        conn = self.connection
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()      # makefile() references would delay the real close
            conn.close()
        except OSError:
            pass

    # -- control API -----------------------------------------------------------------
    def _control(self, method, path, query, body):
        S = self.server.state
        try:
            obj = json.loads(body.decode("utf-8")) if body else None
        except (ValueError, UnicodeDecodeError):
            self._send_json(400, {"error": "body is not JSON"})
            return
        try:
            status, out = self._control_route(method, path, parse_qs(query), obj, S)
        except ValueError as e:
            status, out = 400, {"error": str(e)}
        if isinstance(out, bytes):
            self._send(status, out)
        else:
            self._send_json(status, out)

    def _control_route(self, method, path, q, obj, S):
        p = path.rstrip("/")
        if p == "/_mock/health" and method in ("GET", "HEAD"):
            return 200, {"ok": True}
        if p == "/_mock/reset" and method == "POST":
            S.reset()
            return 200, {"ok": True}
        if p == "/_mock/state" and method == "GET":
            sc = S.scenario
            return 200, {"population": S.store.size, "cached_persons": len(S.store.cache),
                         "overrides": len(S.store.ov_frag), "fixture_persons": len(S.store.fixture_frag),
                         "scenario": None if sc is None else {"start_key": sc.start_key, "end_key": sc.end_key,
                                                              "pages": len(sc.pages)},
                         "faults": len(S.faults), "logged_requests": len(S.log), "stats": S.stats,
                         "config": {k: v for k, v in S.cfg.items() if k != "password"}}
        if p == "/_mock/config":
            if method == "GET":
                return 200, dict(S.cfg)
            if method == "POST":
                if not isinstance(obj, dict) or set(obj) - set(DEFAULTS):
                    raise ValueError("config keys: %s" % ", ".join(DEFAULTS))
                for k, v in obj.items():
                    if (k == "start_key") != (type(v) is int):
                        raise ValueError("bad value for %s" % k)
                    if k != "start_key" and not isinstance(v, str):
                        raise ValueError("bad value for %s" % k)
                with S.lock:
                    S.cfg.update(obj)
                return 200, dict(S.cfg)
        if p == "/_mock/persons":
            if method == "PUT":
                if not isinstance(obj, dict):
                    raise ValueError("body must be an object {hetu: tietoryhmat|null}")
                for h, v in obj.items():
                    S.store.put(h, v)
                return 200, {"ok": True, "persons": len(obj)}
            if method == "DELETE":
                S.store.clear_overrides()
                return 200, {"ok": True}
        if p.startswith("/_mock/persons/") and method == "GET":
            h = p[len("/_mock/persons/"):]
            b = S.store.fragment(h)
            if b is None:
                return 404, {"error": "not served"}
            return 200, b
        if p == "/_mock/population":
            if method == "GET":
                return 200, {"size": S.store.size, "cached": len(S.store.cache)}
            if method == "POST":
                if not isinstance(obj, dict) or type(obj.get("size")) is not int or \
                        not 0 <= obj["size"] <= MAX_POPULATION:
                    raise ValueError("size must be an integer 0..%d" % MAX_POPULATION)
                S.store.set_size(obj["size"])
                out = {"size": S.store.size}
                if obj.get("prerender"):
                    n, secs = S.store.prerender(0, obj["size"])
                    out.update(rendered=n, seconds=round(secs, 3))
                return 200, out
        if p == "/_mock/prerender" and method == "POST":
            obj = obj or {}
            lo = obj.get("from", 0)
            hi = obj.get("to", S.store.size)
            if type(lo) is not int or type(hi) is not int:
                raise ValueError("from/to must be integers")
            n, secs = S.store.prerender(lo, hi)
            return 200, {"rendered": n, "seconds": round(secs, 3), "cached": len(S.store.cache)}
        if p == "/_mock/scenario":
            if method == "POST":
                sc = Scenario.from_json(obj)
                with S.lock:
                    S.scenario = sc
                return 200, {"start_key": sc.start_key, "end_key": sc.end_key, "pages": len(sc.pages),
                             "records": sum(len(x.items) for x in sc.pages)}
            if method == "GET":
                return 200, None if S.scenario is None else S.scenario.summary()
            if method == "DELETE":
                with S.lock:
                    S.scenario = None
                return 200, {"ok": True}
        if p == "/_mock/changes/generate" and method == "POST":
            return 200, self._generate(obj, S)
        if p == "/_mock/faults":
            if method == "POST":
                if not isinstance(obj, dict) or not isinstance(obj.get("rules"), list):
                    raise ValueError('body must be {"rules": [...]}')
                rules = [check_rule(r) for r in obj["rules"]]
                with S.lock:
                    if obj.get("append"):
                        S.faults.extend(rules)
                    else:
                        S.faults = rules
                return 200, {"ok": True, "rules": len(S.faults)}
            if method == "GET":
                return 200, {"rules": S.faults}
            if method == "DELETE":
                with S.lock:
                    S.faults = []
                return 200, {"ok": True}
        if p == "/_mock/requests":
            if method == "GET":
                with S.lock:
                    log = list(S.log)
                return 200, log
            if method == "DELETE":
                with S.lock:
                    S.log = []
                return 200, {"ok": True}
        return 404, {"error": "no such control endpoint or method"}

    def _generate(self, obj, S):
        if not isinstance(obj, dict):
            raise ValueError("body must be an object")
        unknown = set(obj) - {"count", "pages", "seed", "mix", "start_key", "today", "multi_share",
                              "apply_to_persons"}
        if unknown:
            raise ValueError("unknown properties: %s" % sorted(unknown))
        count = obj.get("count")
        pages = obj.get("pages", 1)
        if type(count) is not int or count < 0 or type(pages) is not int or pages < 1:
            raise ValueError("count must be an integer >= 0 and pages an integer >= 1")
        seed = obj.get("seed", 1)
        start = obj.get("start_key", S.cfg["start_key"])
        if type(start) is not int or start < 0:
            raise ValueError("start_key must be a non-negative integer")
        today = dt.date.fromisoformat(obj["today"]) if obj.get("today") else helsinki_today()
        multi = obj.get("multi_share", 0.2)
        if not isinstance(multi, (int, float)) or not 0 <= multi <= 1:
            raise ValueError("multi_share must be 0..1")
        mix = obj.get("mix")
        if mix is not None and not isinstance(mix, dict):
            raise ValueError("mix must be an object")
        t0 = time.monotonic()
        gen = ChangeGenerator(S.store, count, pages, seed, mix, start, today, float(multi),
                              bool(obj.get("apply_to_persons", False)))
        sc = gen.run()
        with S.lock:
            S.scenario = sc
        out = {"start_key": sc.start_key, "pages": len(sc.pages), "records": count, "end_key": sc.end_key,
               "seconds": round(time.monotonic() - t0, 3)}
        out.update({k: v for k, v in sc.info.items() if k != "records"})
        return out


class MockServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    block_on_close = False

    def __init__(self, addr, state, sslctx):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        self.sslctx = sslctx
        super().__init__(addr, Handler)

    def server_bind(self):
        # HTTPServer.server_bind would resolve the host name (getfqdn); not needed here
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def process_request_thread(self, request, client_address):
        if self.sslctx is not None:
            raw = request
            try:
                raw.settimeout(30)
                request = self.sslctx.wrap_socket(raw, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                if self.state.args.verbose:
                    sys.stderr.write("vtj_mock: TLS handshake failed: %s\n" % (e,))
                try:
                    raw.close()
                except OSError:
                    pass
                return
        super().process_request_thread(request, client_address)

    def handle_error(self, request, client_address):
        if self.state.args.verbose:
            super().handle_error(request, client_address)


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def make_ssl_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.tls_cert, args.tls_key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=args.client_ca)
    return ctx


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Mock DVV VTJ-muutosrajapinta server (see README.md)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = any free port")
    ap.add_argument("--port-file", help="the chosen port is written here (atomically) once listening")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--client-ca", help="require a client certificate signed by this CA")
    ap.add_argument("--username", default=DEFAULTS["username"])
    ap.add_argument("--password", default=DEFAULTS["password"])
    ap.add_argument("--xroad-client", default=DEFAULTS["xroad_client"])
    ap.add_argument("--population", type=int, default=0)
    ap.add_argument("--fixture", help="DVV sandbox perustiedot response whose persons are served too")
    ap.add_argument("--start-key", type=int, default=DEFAULTS["start_key"])
    ap.add_argument("--prerender", action="store_true",
                    help="render the whole population before listening (for benchmarks)")
    ap.add_argument("--verbose", action="store_true", help="access log and TLS errors on stderr")
    ap.add_argument("--print-hetus", type=int, metavar="N", help="print hetus of persons OFFSET..OFFSET+N-1 and exit")
    ap.add_argument("--offset", type=int, default=0)
    a = ap.parse_args(argv)
    if a.print_hetus is None:
        if (a.tls_cert is None) != (a.tls_key is None):
            ap.error("--tls-cert and --tls-key go together")
        if a.client_ca and not a.tls_cert:
            ap.error("--client-ca needs --tls-cert/--tls-key")
        if not 0 <= a.population <= MAX_POPULATION:
            ap.error("--population must be 0..%d" % MAX_POPULATION)
    return a


def print_hetus(n, offset):
    if n < 0 or offset < 0 or offset + n > MAX_POPULATION:
        sys.stderr.write("vtj_mock: persons must lie in 0..%d\n" % MAX_POPULATION)
        return 2
    out = sys.stdout
    step = 100_000
    for lo in range(offset, offset + n, step):
        hi = min(lo + step, offset + n)
        out.write("\n".join(hetu_of(i) for i in range(lo, hi)))
        out.write("\n")
    out.flush()
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.print_hetus is not None:
        try:
            return print_hetus(args.print_hetus, args.offset)
        except BrokenPipeError:
            return 0
    state = State(args)
    sslctx = make_ssl_context(args) if args.tls_cert else None
    if args.prerender and args.population:
        n, secs = state.store.prerender(0, args.population)
        if args.verbose:
            sys.stderr.write("vtj_mock: pre-rendered %d persons in %.1f s\n" % (n, secs))
    server = MockServer((args.host, args.port), state, sslctx)
    stop = threading.Event()

    def on_signal(_signo, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    port = server.server_address[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    if args.verbose:
        sys.stderr.write("vtj_mock: listening on %s:%d%s\n" % (args.host, port, " (TLS)" if sslctx else ""))
    while not stop.is_set():
        stop.wait(1.0)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
