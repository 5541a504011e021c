"""Tests of the mock VTJ server (run: /usr/bin/python3 -m unittest test/mock/test_vtj_mock.py).

Starts real mock processes on free ports (plain HTTP, TLS, TLS with client
certificates) and talks to them over sockets. Prints a throughput
measurement; does not assert on it.
"""

import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "vtj_mock.py")
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
sys.path.insert(0, HERE)
import vtj_mock  # noqa: E402  (pure functions: hetu scheme, generator)

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
HETU_RE = re.compile(r"^[0-9]{6}[-+ABCDEFUVWXY][0-9]{3}[0-9A-FHJ-NPR-Y]$")
USER, PASSWORD, XROAD = "vtjuser", "vtjpass", "FI/MUN/0123456-7/vtj-test"
POPULATION = 5000
START_KEY = 1000000


def find_fixture():
    cands = [os.environ.get("VTJ_SANDBOX_FIXTURE", ""),
             os.path.join(HERE, "..", "fixtures", "dvv-sandbox", "perustiedot-response.json"),
             os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "dvv-sandbox", "perustiedot-response.json"),
             "/work/shared/fixtures/dvv-sandbox/perustiedot-response.json"]
    for c in cands:
        if c and os.path.isfile(c):
            return os.path.abspath(c)
    return None


FIXTURE = find_fixture()


def valid_hetu(h):
    if not HETU_RE.match(h):
        return False
    return h[10] == CHECK[int(h[:6] + h[7:10]) % 31]


class MockProcess:
    def __init__(self, *extra, tmp):
        self.port_file = os.path.join(tmp, "port-%d" % id(self))
        self.proc = subprocess.Popen([PY, MOCK, "--port", "0", "--port-file", self.port_file] + list(extra),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("mock exited: %s" % self.proc.stderr.read().decode())
            if time.time() > deadline:
                raise RuntimeError("mock did not start")
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()


TMP = None
PLAIN = None


def setUpModule():
    global TMP, PLAIN
    TMP = tempfile.mkdtemp(prefix="vtj-mock-test-")
    args = ["--population", str(POPULATION)]
    if FIXTURE:
        args += ["--fixture", FIXTURE]
    PLAIN = MockProcess(*args, tmp=TMP)


def tearDownModule():
    if PLAIN:
        PLAIN.stop()
    shutil.rmtree(TMP, ignore_errors=True)


def api_headers(**over):
    h = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode(),
         "X-Road-Client": XROAD, "Accept": "application/json", "Content-Type": "application/json"}
    for k, v in over.items():
        k = k.replace("_", "-")
        if v is None:
            h.pop(k, None)
        else:
            h[k] = v
    return h


class Client:
    def __init__(self, port, conn=None):
        self.port = port
        self.conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, body=None, headers=None):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def api(self, method, path, body=None, **hdr):
        return self.request(method, path, body, api_headers(**hdr))

    def ctl(self, method, path, body=None):
        st, _h, data = self.request(method, path, body, {"Content-Type": "application/json"})
        return st, json.loads(data) if data else None

    def close(self):
        self.conn.close()


class Base(unittest.TestCase):
    port = None

    def setUp(self):
        self.port = self.port or PLAIN.port
        self.c = Client(self.port)
        st, _ = self.c.ctl("POST", "/_mock/reset")
        self.assertEqual(st, 200)

    def tearDown(self):
        self.c.close()

    def perustiedot(self, hetus, **extra):
        body = {"hetulista": hetus}
        body.update(extra)
        st, h, data = self.c.api("POST", "/api/v1/perustiedot", body)
        self.assertEqual(st, 200, data)
        return json.loads(data)

    def muutokset(self, key, hetus):
        st, h, data = self.c.api("POST", "/api/v1/muutokset", {"viimeisinKirjausavain": key, "hetulista": hetus})
        self.assertEqual(st, 200, data)
        return json.loads(data)

    def hetus(self, n, offset=0):
        return [vtj_mock.hetu_of(i) for i in range(offset, offset + n)]


# ---------------------------------------------------------------------------

class TestHetuScheme(unittest.TestCase):
    def test_print_hetus_valid_and_consistent(self):
        out = subprocess.run([PY, MOCK, "--print-hetus", "2000", "--offset", "10"], capture_output=True,
                             text=True, check=True).stdout.split()
        self.assertEqual(len(out), 2000)
        self.assertEqual(out, [vtj_mock.hetu_of(i) for i in range(10, 2010)])
        for h in out:
            self.assertTrue(valid_hetu(h), h)
            self.assertTrue(900 <= int(h[7:10]) <= 999, h)

    def test_unique_for_five_million_and_invertible(self):
        out = subprocess.run([PY, MOCK, "--print-hetus", "5000000"], capture_output=True, check=True).stdout
        lines = out.split(b"\n")[:-1]
        self.assertEqual(len(lines), 5_000_000)
        self.assertEqual(len(set(lines)), 5_000_000)
        for i in range(0, 5_000_000, 4999):
            h = lines[i].decode()
            self.assertTrue(valid_hetu(h), h)
            self.assertEqual(vtj_mock.index_of(h), i)

    def test_century_signs_and_dates(self):
        signs = set()
        years = []
        for i in range(20000):
            h = vtj_mock.hetu_of(i)
            signs.add(h[6])
            y = int(h[4:6]) + (2000 if h[6] in "ABCDEF" else 1900)
            years.append(y)
            self.assertTrue(1900 <= y <= 2024)
        self.assertEqual(signs, set("-YXWVUABCDEF"))
        self.assertLess(min(years), 1905)
        self.assertGreater(max(years), 2020)

    def test_index_of_rejects_others(self):
        # Valid codes with an individual number below 900 are built here, not
        # written down: the tree holds only test hetus (900-999).
        def below_900(ddmmyy, n):
            return "%s-%03d%s" % (ddmmyy, n, vtj_mock.CHECK_CHARS[int("%s%03d" % (ddmmyy, n)) % 31])
        for bad in ["010190-999K", below_900("131052", 308), "290200-902D", below_900("010101", 123), "", "abc", 12,
                    "010594Y9032x"]:
            self.assertEqual(vtj_mock.index_of(bad), -1, bad)
        self.assertGreaterEqual(vtj_mock.index_of("010594Y9032"), 0)  # a DVV test hetu is in the slot space


class TestBasics(Base):
    def test_health_and_port_file(self):
        self.assertEqual(self.c.ctl("GET", "/_mock/health"), (200, {"ok": True}))
        with open(PLAIN.port_file) as f:
            self.assertRegex(f.read(), r"^\d+\n$")

    def test_kirjausavain(self):
        st, h, data = self.c.api("GET", "/api/v1/kirjausavain/2024-05-01", Content_Type=None)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data), {"viimeisinKirjausavain": START_KEY})
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(int(h["content-length"]), len(data))
        for bad in ["2024-13-01", "2024-02-30", "20240501", "yesterday", "2024-5-1"]:
            st, _h, data = self.c.api("GET", "/api/v1/kirjausavain/" + bad)
            self.assertEqual(st, 400, bad)
            self.assertIn("message", json.loads(data))

    def test_xroad_prefix(self):
        st, _h, data = self.c.api("GET", "/r1/FI/GOV/0245437-2/VTJmutpa/VTJmutpa/api/v1/kirjausavain/2024-05-01")
        self.assertEqual(st, 200)
        hs = self.hetus(3)
        st, _h, data = self.c.api("POST", "/r1/FI/GOV/0245437-2/VTJmutpa/VTJmutpa/api/v1/perustiedot",
                                  {"hetulista": hs})
        self.assertEqual([p["henkilotunnus"] for p in json.loads(data)["perustiedot"]], hs)
        st, _h, _d = self.c.api("GET", "/api/v2/kirjausavain/2024-05-01")
        self.assertEqual(st, 404)
        st, _h, _d = self.c.api("POST", "/api/v1/nothing", {})
        self.assertEqual(st, 404)

    def test_auth(self):
        path = "/api/v1/kirjausavain/2024-05-01"
        st, h, data = self.c.api("GET", path, Authorization=None)
        self.assertEqual(st, 401)
        self.assertIn("www-authenticate", h)
        st, _h, _d = self.c.api("GET", path, Authorization="Basic " + base64.b64encode(b"vtjuser:wrong").decode())
        self.assertEqual(st, 401)
        st, _h, _d = self.c.api("GET", path, Authorization="Bearer abc")
        self.assertEqual(st, 401)
        st, _h, _d = self.c.api("GET", path, Authorization=None, MUTP_Tunnus=USER, MUTP_Salasana=PASSWORD)
        self.assertEqual(st, 200)
        st, _h, _d = self.c.api("GET", path, Authorization=None, MUTP_Tunnus=USER, MUTP_Salasana="x")
        self.assertEqual(st, 401)
        st, h, data = self.c.api("GET", path, X_Road_Client=None)
        self.assertEqual(st, 400)
        self.assertEqual(h["content-type"], "application/json")
        self.assertIn("X-Road-Client", json.loads(data)["message"])
        st, _h, data = self.c.api("GET", path, X_Road_Client="FI/MUN/0123456-7/other")
        self.assertEqual(st, 400)
        st, _h, _d = self.c.api("GET", path, Accept=None)
        self.assertEqual(st, 406)
        st, _h, _d = self.c.api("GET", path, Accept="text/html")
        self.assertEqual(st, 406)
        st, _h, _d = self.c.api("GET", path, Accept="text/html, application/json;q=0.9")
        self.assertEqual(st, 200)
        st, _h, _d = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": []}, Content_Type="text/plain")
        self.assertEqual(st, 415)
        st, _h, _d = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": []},
                                Content_Type="application/json; charset=utf-8")
        self.assertEqual(st, 200)
        st, _h, _d = self.c.api("GET", "/api/v1/perustiedot")
        self.assertEqual(st, 405)

    def test_config_change(self):
        self.c.ctl("POST", "/_mock/config", {"password": "uusi", "xroad_client": "FI/MUN/1/x", "start_key": 42})
        path = "/api/v1/kirjausavain/2024-05-01"
        st, _h, _d = self.c.api("GET", path)
        self.assertEqual(st, 401)
        st, _h, data = self.c.api("GET", path, Authorization="Basic " + base64.b64encode(b"vtjuser:uusi").decode(),
                                  X_Road_Client="FI/MUN/1/x")
        self.assertEqual((st, json.loads(data)), (200, {"viimeisinKirjausavain": 42}))
        self.c.ctl("POST", "/_mock/reset")
        st, _h, _d = self.c.api("GET", path)
        self.assertEqual(st, 200)

    def test_keep_alive(self):
        st, h, _d = self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")
        sock = self.c.conn.sock
        self.assertIsNotNone(sock)
        for _ in range(5):
            self.perustiedot(self.hetus(10))
            st, h, _d = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": 1})   # errors keep it too
            self.assertEqual(st, 400)
        self.assertIs(self.c.conn.sock, sock)
        self.assertNotEqual(h.get("connection"), "close")


class TestPerustiedot(Base):
    def test_order_unknown_and_duplicates(self):
        hs = self.hetus(50, 100)
        unknown = ["111111-9072", vtj_mock.hetu_of(POPULATION + 5), "not-a-hetu"]
        req = [hs[3], unknown[0], hs[0], hs[3], unknown[1]] + hs[10:] + [unknown[2]]
        d = self.perustiedot(req)
        self.assertIs(d["ajanTasalla"], True)
        got = [p["henkilotunnus"] for p in d["perustiedot"]]
        self.assertEqual(got, [hs[3], hs[0]] + hs[10:])

    def test_shapes_and_determinism(self):
        hs = self.hetus(1000)
        d1 = self.perustiedot(hs)
        st, _h, raw2 = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": hs})
        self.assertEqual(json.loads(raw2), d1)
        groups = sizes = 0
        names = {}
        for p in d1["perustiedot"]:
            self.assertEqual(set(p), {"henkilotunnus", "tietoryhmat"})
            sizes += len(json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode())
            groups += len(p["tietoryhmat"])
            for g in p["tietoryhmat"]:
                self.assertNotIn("muutosattribuutti", g)
                names[g["tietoryhma"]] = names.get(g["tietoryhma"], 0) + 1
                for k, v in g.items():
                    if k.endswith("pv") or k.endswith("Pv"):
                        self.assertEqual(set(v), {"arvo", "tarkkuus"})
                        self.assertRegex(v["arvo"], r"^\d{4}-\d{2}-\d{2}$")
                if g["tietoryhma"] in ("VAKINAINEN_KOTIMAINEN_OSOITE", "TILAPAINEN_KOTIMAINEN_OSOITE") \
                        and "turvakiellonAlaisetKentat" not in g:
                    self.assertRegex(g["postinumero"], r"^\d{5}$")
                    self.assertRegex(g["kuntakoodi"], r"^\d{3}$")
                    self.assertRegex(g["rakennustunnus"], r"^\w{10}$")
                    self.assertIsInstance(g["osoitenumero"], int)
                    self.assertIn("fi", g["katunimi"])
                    if "huoneistonumero" in g:
                        self.assertRegex(g["huoneistonumero"], r"^\d{3}$")
                if g["tietoryhma"] == "KOTIKUNTA" and "kuntakoodi" in g:
                    self.assertIn(g["kuntakoodi"], set(vtj_mock.KUNNAT) | {"200"})
        avg_bytes, avg_groups = sizes / 1000, groups / 1000
        print("\n  generated persons: %.0f bytes and %.2f groups on average" % (avg_bytes, avg_groups))
        self.assertTrue(700 < avg_bytes < 1000, avg_bytes)
        self.assertTrue(4.0 < avg_groups < 5.2, avg_groups)
        for g in ["HENKILON_NIMI", "AIDINKIELI", "KOTIKUNTA", "VAKINAINEN_KOTIMAINEN_OSOITE", "ASIOINTIKIELI",
                  "NIMENMUUTOS", "KOTIMAINEN_POSTIOSOITE", "TILAPAINEN_KOTIMAINEN_OSOITE",
                  "VAKINAINEN_ULKOMAINEN_OSOITE", "SUKUPUOLI", "KANSALAISUUS", "KUOLINPAIVA"]:
            self.assertIn(g, names)

    def test_turvakielto_persons_censored(self):
        hs = self.hetus(POPULATION)
        found = 0
        for k in range(0, POPULATION, 1000):
            for p in self.perustiedot(hs[k:k + 1000])["perustiedot"]:
                tk = [g for g in p["tietoryhmat"] if g["tietoryhma"] == "TURVAKIELTO"]
                if not tk:
                    self.assertFalse(any("turvakiellonAlaisetKentat" in g for g in p["tietoryhmat"]))
                    continue
                found += 1
                self.assertIs(tk[0]["turvakieltoAktiivinen"], True)
                stubs = [g for g in p["tietoryhmat"] if "turvakiellonAlaisetKentat" in g]
                self.assertEqual([(g["tietoryhma"], g["turvakiellonAlaisetKentat"]) for g in stubs],
                                 vtj_mock.CENSORED_STUBS)
                for g in stubs:
                    self.assertEqual(set(g), {"tietoryhma", "turvakiellonAlaisetKentat"})
        self.assertGreater(found, 5)
        if FIXTURE:
            with open(FIXTURE) as f:
                fx = json.load(f)
            for p in fx["perustiedot"]:
                if p["henkilotunnus"] == "020275-9862":
                    want = [(g["tietoryhma"], g["turvakiellonAlaisetKentat"]) for g in p["tietoryhmat"]
                            if g["tietoryhma"] in vtj_mock.CENSORED_GROUPS]
                    self.assertEqual(sorted(want), sorted(vtj_mock.CENSORED_STUBS))

    @unittest.skipUnless(FIXTURE, "sandbox fixture not found")
    def test_fixture_persons(self):
        with open(FIXTURE) as f:
            fx = json.load(f)
        hs = [p["henkilotunnus"] for p in fx["perustiedot"]]
        d = self.perustiedot(list(reversed(hs)))
        self.assertEqual(d["perustiedot"], list(reversed(fx["perustiedot"])))

    def test_filter(self):
        hs = self.hetus(200)
        d = self.perustiedot(hs, tietoryhmat=["KOTIKUNTA", "HENKILON_NIMI"])
        self.assertEqual(len(d["perustiedot"]), 200)
        for p in d["perustiedot"]:
            self.assertTrue(p["tietoryhmat"])
            self.assertLessEqual({g["tietoryhma"] for g in p["tietoryhmat"]}, {"KOTIKUNTA", "HENKILON_NIMI"})
        d = self.perustiedot(hs[:5], tietoryhmat=[])
        self.assertEqual([p["tietoryhmat"] for p in d["perustiedot"]], [[]] * 5)

    def test_vko(self):
        st, _h, data = self.c.api("POST", "/api/v1/perustiedot-vko", {"hetulista": self.hetus(3)})
        d = json.loads(data)
        self.assertEqual(st, 200)
        self.assertRegex(d["poimintapv"], r"^\d{4}-\d{2}-\d{2}$")
        self.assertEqual(len(d["perustiedot"]), 3)

    def test_bad_requests(self):
        hs = self.hetus(1001)
        cases = [
            {"hetulista": hs},
            {"hetulista": hs[:2], "extra": 1},
            {"hetulista": hs[:2], "tuotekoodi": "x"},
            {"hetulista": None},
            {"hetulista": hs[:2], "tietoryhmat": None},
            {"hetulista": [hs[0], None]},
            {"hetulista": [hs[0], 12345]},
            {"hetulista": hs[0]},
            {"hetulista": {"a": 1}},
            {"tietoryhmat": ["KOTIKUNTA"]},
            {"hetulista": hs[:2], "tietoryhmat": "KOTIKUNTA"},
            {"hetulista": hs[:2], "tietoryhmat": [1]},
            [hs[0]],
        ]
        for body in cases:
            st, h, data = self.c.api("POST", "/api/v1/perustiedot", body)
            self.assertEqual(st, 400, body if len(json.dumps(body)) < 200 else "1001")
            self.assertEqual(h["content-type"], "application/json")
        for raw in [b"", b"{", b"not json", b"\xff\xfe", b"null"]:
            st, _h, _d = self.c.api("POST", "/api/v1/perustiedot", raw)
            self.assertEqual(st, 400, raw)
        st, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": hs[:1000]})
        self.assertEqual(st, 200)
        self.assertEqual(len(json.loads(data)["perustiedot"]), 1000)

    def test_person_overrides(self):
        hs = self.hetus(3)
        new = "010594Y9032"
        groups = [{"tietoryhma": "HENKILON_NIMI", "etunimi": "Testi", "sukunimi": "Henkilö Tes"}]
        st, _ = self.c.ctl("PUT", "/_mock/persons", {hs[0]: groups, hs[1]: None, new: groups,
                                                     hs[2]: {"raw": '{"henkilotunnus":"%s","tietoryhmat":"RIKKI"}'
                                                             % hs[2]}})
        self.assertEqual(st, 200)
        d = self.perustiedot(hs + [new])
        self.assertEqual(d["perustiedot"][0], {"henkilotunnus": hs[0], "tietoryhmat": groups})
        self.assertEqual(d["perustiedot"][1]["tietoryhmat"], "RIKKI")
        self.assertEqual(d["perustiedot"][2], {"henkilotunnus": new, "tietoryhmat": groups})
        self.assertEqual(len(d["perustiedot"]), 3)
        st, p = self.c.ctl("GET", "/_mock/persons/" + new)
        self.assertEqual((st, p["tietoryhmat"]), (200, groups))
        st, _ = self.c.ctl("GET", "/_mock/persons/" + hs[1])
        self.assertEqual(st, 404)
        # censor on request
        prot = groups + [{"tietoryhma": "TURVAKIELTO", "turvakieltoAktiivinen": True},
                         {"tietoryhma": "KOTIKUNTA", "kuntakoodi": "091"}]
        self.c.ctl("PUT", "/_mock/persons", {new: {"tietoryhmat": prot, "censor": True}})
        p = self.perustiedot([new])["perustiedot"][0]
        self.assertNotIn({"tietoryhma": "KOTIKUNTA", "kuntakoodi": "091"}, p["tietoryhmat"])
        self.assertEqual(sum("turvakiellonAlaisetKentat" in g for g in p["tietoryhmat"]), 7)
        st, _ = self.c.ctl("PUT", "/_mock/persons", {new: "bad"})
        self.assertEqual(st, 400)
        self.c.ctl("POST", "/_mock/reset")
        self.assertEqual(len(self.perustiedot(hs + [new])["perustiedot"]), 3)

    def test_population_size(self):
        self.addCleanup(Client(self.port).ctl, "POST", "/_mock/population", {"size": POPULATION})
        h = vtj_mock.hetu_of(POPULATION + 10)
        self.assertEqual(self.perustiedot([h])["perustiedot"], [])
        self.assertEqual(self.c.ctl("POST", "/_mock/population", {"size": POPULATION + 20})[0], 200)
        self.assertEqual(len(self.perustiedot([h])["perustiedot"]), 1)
        self.c.ctl("POST", "/_mock/population", {"size": 10})
        self.assertEqual(len(self.perustiedot(self.hetus(20))["perustiedot"]), 10)
        st, _ = self.c.ctl("POST", "/_mock/population", {"size": -1})
        self.assertEqual(st, 400)
        st, out = self.c.ctl("POST", "/_mock/prerender", {})
        self.assertEqual(st, 200)
        self.c.ctl("POST", "/_mock/reset")
        self.assertEqual(self.c.ctl("GET", "/_mock/population")[1]["size"], 10)   # reset keeps the size
        self.c.ctl("POST", "/_mock/population", {"size": POPULATION})
        self.assertEqual(len(self.perustiedot(self.hetus(20))["perustiedot"]), 20)


class TestMuutokset(Base):
    def scenario(self, **kw):
        hs = self.hetus(6)
        rec = lambda h, g="KUOLINPAIVA": {"henkilotunnus": h, "muutospv": "2024-05-01T21:00:00.000Z",  # noqa: E731
                                          "tietoryhmat": [{"tietoryhma": g, "muutosattribuutti": "LISATTY",
                                                           "kuollut": True,
                                                           "kuolinpv": {"arvo": "2024-04-29", "tarkkuus": "PAIVA"}}]}
        spec = {"start_key": 5446623400, "pages": [
            {"muutokset": [rec(hs[0]), rec(hs[1]), rec(hs[2])]},
            {"muutokset": [rec(hs[3]), rec(hs[0])], "next_key": 5446623431},
            {"muutokset": [rec(hs[4])]},
        ]}
        spec.update(kw)
        st, out = self.c.ctl("POST", "/_mock/scenario", spec)
        self.assertEqual(st, 200, out)
        return hs, out

    def test_no_scenario(self):
        d = self.muutokset(123, self.hetus(3))
        self.assertEqual(d, {"viimeisinKirjausavain": 123, "muutokset": [], "ajanTasalla": True})

    def test_paging(self):
        hs, out = self.scenario()
        self.assertEqual(out["end_key"], 5446623433)
        st, _h, data = self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")
        self.assertEqual(json.loads(data)["viimeisinKirjausavain"], 5446623400)
        d = self.muutokset(5446623400, hs)
        self.assertEqual(d["viimeisinKirjausavain"], 5446623404)
        self.assertIs(d["ajanTasalla"], False)
        self.assertEqual([m["henkilotunnus"] for m in d["muutokset"]], hs[:3])
        d = self.muutokset(5446623404, hs)
        self.assertEqual((d["viimeisinKirjausavain"], d["ajanTasalla"]), (5446623431, False))
        self.assertEqual([m["henkilotunnus"] for m in d["muutokset"]], [hs[3], hs[0]])
        d = self.muutokset(5446623431, hs)
        self.assertEqual((d["viimeisinKirjausavain"], d["ajanTasalla"]), (5446623433, True))
        self.assertEqual(len(d["muutokset"]), 1)
        d = self.muutokset(5446623433, hs)
        self.assertEqual(d, {"viimeisinKirjausavain": 5446623433, "muutokset": [], "ajanTasalla": True})
        d = self.muutokset(9999999999, hs)
        self.assertEqual(d["viimeisinKirjausavain"], 9999999999)
        # filtered by hetulista (DVV's behaviour)
        d = self.muutokset(5446623400, [hs[1], "111111-9072"])
        self.assertEqual([m["henkilotunnus"] for m in d["muutokset"]], [hs[1]])
        self.assertEqual(d["viimeisinKirjausavain"], 5446623404)
        d = self.muutokset(5446623400, [])
        self.assertEqual((d["muutokset"], d["viimeisinKirjausavain"]), ([], 5446623404))
        # a key inside a page serves the rest of it; an older key serves page 0
        d = self.muutokset(5446623402, hs)
        self.assertEqual([m["henkilotunnus"] for m in d["muutokset"]], [hs[2]])
        d = self.muutokset(10, hs)
        self.assertEqual(len(d["muutokset"]), 3)
        st, summary = self.c.ctl("GET", "/_mock/scenario")
        self.assertEqual([p["served"] for p in summary["pages"]], [True, True, True])

    def test_unfiltered_and_raw(self):
        hs = self.hetus(2)
        st, _ = self.c.ctl("POST", "/_mock/scenario", {"start_key": 1, "filter": False, "pages": [
            {"muutokset": [{"henkilotunnus": hs[0], "tietoryhmat": []},
                           '{"henkilotunnus":"%s","tietoryhmat":[],"x":1e400}' % hs[1]]}]})
        self.assertEqual(st, 200)
        st, _h, data = self.c.api("POST", "/api/v1/muutokset", {"viimeisinKirjausavain": 1, "hetulista": []})
        self.assertIn(b'"x":1e400', data)
        self.assertEqual(data.count(b"henkilotunnus"), 2)

    def test_bad_requests(self):
        for body in [{"viimeisinKirjausavain": 1, "hetulista": [], "tietoryhmat": []},
                     {"viimeisinKirjausavain": "1", "hetulista": []},
                     {"viimeisinKirjausavain": 1.5, "hetulista": []},
                     {"viimeisinKirjausavain": True, "hetulista": []},
                     {"viimeisinKirjausavain": -1, "hetulista": []},
                     {"viimeisinKirjausavain": None, "hetulista": []},
                     {"viimeisinKirjausavain": 1},
                     {"hetulista": []},
                     {"viimeisinKirjausavain": 1, "hetulista": None},
                     {"viimeisinKirjausavain": 1, "hetulista": [1]},
                     {"viimeisinKirjausavain": 1, "hetulista": "x"}]:
            st, _h, _d = self.c.api("POST", "/api/v1/muutokset", body)
            self.assertEqual(st, 400, body)
        st, _h, _d = self.c.api("POST", "/api/v1/muutokset", b"{]")
        self.assertEqual(st, 400)
        st, _ = self.c.ctl("POST", "/_mock/scenario", {"start_key": 1, "pages": [{}]})
        self.assertEqual(st, 400)
        st, _ = self.c.ctl("POST", "/_mock/scenario", {"start_key": 5, "pages": [{"muutokset": [], "next_key": 3}]})
        self.assertEqual(st, 400)

    def test_apply_to_persons(self):
        hs = self.hetus(4, 200)
        new_hetu = "010594Y9021"
        spec = {"start_key": 100, "apply_to_persons": True, "pages": [
            {"muutokset": [
                {"henkilotunnus": hs[0], "muutospv": "2024-05-01T21:00:00.000Z", "tietoryhmat": [
                    {"tietoryhma": "HENKILON_NIMI", "muutosattribuutti": "MUUTETTU", "etunimi": "Uusi",
                     "sukunimi": "Nimi Tes", "etunimiUTF8": "Uusi", "sukunimiUTF8": "Nimi Tes"}]},
                {"henkilotunnus": hs[1], "tietoryhmat": [
                    {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "LISATTY", "turvakieltoAktiivinen": True,
                     "turvaLoppuPv": {"arvo": "2099-01-01", "tarkkuus": "PAIVA"}}]},
                {"henkilotunnus": hs[2], "tietoryhmat": [
                    {"tietoryhma": "HENKILOTUNNUS_KORJAUS", "muutosattribuutti": "LISATTY", "voimassaolo": "AKTIIVI",
                     "muutettuHenkilotunnus": new_hetu, "aktiivinenHenkilotunnus": new_hetu,
                     "edellisetHenkilotunnukset": [hs[2]]},
                    {"tietoryhma": "HENKILOTUNNUS_KORJAUS", "muutosattribuutti": "MUUTETTU", "voimassaolo": "PASSIIVI",
                     "muutettuHenkilotunnus": hs[2], "aktiivinenHenkilotunnus": new_hetu,
                     "edellisetHenkilotunnukset": [hs[2]]}]},
                {"henkilotunnus": hs[3], "tietoryhmat": [
                    {"tietoryhma": "KUOLINPAIVA", "muutosattribuutti": "LISATTY", "kuollut": True,
                     "kuolinpv": {"arvo": "2024-04-29", "tarkkuus": "PAIVA"}}]}]},
            {"muutokset": [
                {"henkilotunnus": hs[1], "tietoryhmat": [
                    {"tietoryhma": "TURVAKIELTO", "muutosattribuutti": "MUUTETTU", "turvakieltoAktiivinen": False,
                     "turvaLoppuPv": {"arvo": "2024-05-01", "tarkkuus": "PAIVA"}}]},
                {"henkilotunnus": hs[3], "tietoryhmat": [
                    {"tietoryhma": "KUOLINPAIVA", "muutosattribuutti": "KORJATTAVA", "kuollut": True,
                     "kuolinpv": {"arvo": "2024-04-29", "tarkkuus": "PAIVA"}},
                    {"tietoryhma": "KUOLINPAIVA", "muutosattribuutti": "KORJATTU", "kuollut": False}]}]}]}
        before = {p["henkilotunnus"]: p for p in self.perustiedot(hs)["perustiedot"]}
        self.c.ctl("POST", "/_mock/scenario", spec)
        self.assertEqual(self.perustiedot(hs)["perustiedot"], [before[h] for h in hs])   # not served yet
        self.muutokset(100, [hs[0]])            # page 0 served: applied to every person of the page
        after = {p["henkilotunnus"]: p for p in self.perustiedot(hs + [new_hetu])["perustiedot"]}
        nimi = [g for g in after[hs[0]]["tietoryhmat"] if g["tietoryhma"] == "HENKILON_NIMI"]
        self.assertEqual([(g["etunimi"], g["sukunimi"]) for g in nimi], [("Uusi", "Nimi Tes")])
        self.assertEqual(sum("turvakiellonAlaisetKentat" in g for g in after[hs[1]]["tietoryhmat"]), 7)
        self.assertNotIn(hs[2], after)
        korj = [g for g in after[new_hetu]["tietoryhmat"] if g["tietoryhma"] == "HENKILOTUNNUS_KORJAUS"]
        self.assertEqual(korj[0]["voimassaolo"], "AKTIIVI")
        self.assertTrue(any(g["tietoryhma"] == "KUOLINPAIVA" for g in after[hs[3]]["tietoryhmat"]))
        self.muutokset(105, [])                 # page 1: ban ends (data revealed), death cancelled
        after = {p["henkilotunnus"]: p for p in self.perustiedot(hs)["perustiedot"]}
        self.assertEqual(after[hs[1]]["tietoryhmat"],
                         [g for g in before[hs[1]]["tietoryhmat"]])
        self.assertFalse(any(g["tietoryhma"] == "KUOLINPAIVA" for g in after[hs[3]]["tietoryhmat"]))


class TestGenerate(Base):
    def gen(self, **kw):
        body = {"count": 3000, "pages": 3, "seed": 42, "today": "2025-05-01"}
        body.update(kw)
        st, out = self.c.ctl("POST", "/_mock/changes/generate", body)
        self.assertEqual(st, 200, out)
        return out

    def all_pages(self, out):
        hs = self.hetus(POPULATION)
        for _h, new in out["hetu_corrections"]:
            hs.append(new)
        pages = []
        key = out["start_key"]
        while True:
            d = self.muutokset(key, hs)
            pages.append(d)
            if d["ajanTasalla"]:
                break
            key = d["viimeisinKirjausavain"]
        return pages

    def test_generate_mix(self):
        out = self.gen()
        self.assertEqual((out["start_key"], out["pages"], out["records"]), (START_KEY, 3, 3000))
        self.assertEqual(sum(out["by_kind"].values()), 3000)
        pages = self.all_pages(out)
        self.assertEqual(len(pages), 3)
        self.assertEqual(sum(len(p["muutokset"]) for p in pages), 3000)
        self.assertEqual(pages[-1]["viimeisinKirjausavain"], out["end_key"])
        multi = 0
        persons = 0
        seen = {}
        population = set(self.hetus(POPULATION))
        for p in pages:
            per = {}
            for m in p["muutokset"]:
                self.assertRegex(m["muutospv"], r"^\d{4}-\d{2}-\d{2}T21:00:00\.000Z$")
                per[m["henkilotunnus"]] = per.get(m["henkilotunnus"], 0) + 1
                for g in m["tietoryhmat"]:
                    a = g["muutosattribuutti"]
                    self.assertIn(a, ("LISATTY", "MUUTETTU", "POISTETTU", "KORJATTAVA", "KORJATTU", "LISATIETO"))
                    seen[(g["tietoryhma"], a)] = seen.get((g["tietoryhma"], a), 0) + 1
                    if a == "POISTETTU":
                        self.assertIsInstance(g["voimassaolevatTiedot"], list)
                    if g["tietoryhma"] == "HENKILOTUNNUS_KORJAUS" and a == "LISATTY":
                        new = g["aktiivinenHenkilotunnus"]
                        self.assertTrue(valid_hetu(new))
                        self.assertGreaterEqual(int(new[7:10]), 900)
                        self.assertNotIn(new, population)
                        self.assertEqual(g["edellisetHenkilotunnukset"], [m["henkilotunnus"]])
                if any(g["tietoryhma"] == "TURVAKIELTO" and g["muutosattribuutti"] == "LISATTY"
                       for g in m["tietoryhmat"]):
                    stubs = [g["tietoryhma"] for g in m["tietoryhmat"] if "turvakiellonAlaisetKentat" in g]
                    self.assertEqual(sorted(stubs), sorted(vtj_mock.CENSORED_GROUPS))
            persons += len(per)
            multi += sum(1 for v in per.values() if v > 1)
        share = multi / persons
        self.assertTrue(0.15 < share < 0.25, share)
        for key in [("VAKINAINEN_KOTIMAINEN_OSOITE", "LISATTY"), ("VAKINAINEN_KOTIMAINEN_OSOITE", "MUUTETTU"),
                    ("KOTIKUNTA", "LISATTY"), ("HENKILON_NIMI", "MUUTETTU"), ("NIMENMUUTOS", "LISATTY"),
                    ("KUOLINPAIVA", "LISATTY"), ("KUOLINPAIVA", "KORJATTU"), ("AIDINKIELI", "POISTETTU"),
                    ("TURVAKIELTO", "LISATTY"), ("TURVAKIELTO", "MUUTETTU"), ("HENKILOTUNNUS_KORJAUS", "LISATTY"),
                    ("JOKU_MUU", "LISATTY"), ("ASIOINTIKIELI", "LISATTY")]:
            self.assertIn(key, seen)

    def test_deterministic(self):
        a = self.all_pages(self.gen(count=500, pages=2))
        b = self.all_pages(self.gen(count=500, pages=2))
        self.assertEqual(a, b)
        c = self.all_pages(self.gen(count=500, pages=2, seed=43))
        self.assertNotEqual(a, c)

    def test_custom_mix_and_apply(self):
        out = self.gen(count=40, pages=1, mix={k: 0 for k in vtj_mock.DEFAULT_MIX} | {"name_change": 1},
                       apply_to_persons=True, multi_share=0)
        self.assertEqual(out["by_kind"], {"name_change": 40})
        page = self.all_pages(out)[0]
        for m in page["muutokset"][:5]:
            want = [g for g in m["tietoryhmat"] if g["tietoryhma"] == "HENKILON_NIMI"][0]
            p = self.perustiedot([m["henkilotunnus"]])["perustiedot"][0]
            got = [g for g in p["tietoryhmat"] if g["tietoryhma"] == "HENKILON_NIMI"][0]
            self.assertEqual(got["sukunimi"], want["sukunimi"])
        st, err = self.c.ctl("POST", "/_mock/changes/generate", {"count": 1, "mix": {"nonsense": 1}})
        self.assertEqual(st, 400)


class TestFaults(Base):
    def faults(self, *rules, append=False):
        st, out = self.c.ctl("POST", "/_mock/faults", {"rules": list(rules), "append": append})
        self.assertEqual(st, 200, out)

    def raw_request(self, path, body):
        """Send one API request on a fresh socket; return the raw bytes until the server closes or 2 s pass."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        data = json.dumps(body).encode()
        hdr = "".join("%s: %s\r\n" % kv for kv in api_headers().items())
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
                   % (path, hdr, len(data))).encode() + data)
        chunks = []
        err = None
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except (ConnectionResetError, socket.timeout) as e:
            err = e
        s.close()
        return b"".join(chunks), err

    def test_status_and_retry_after(self):
        self.faults({"path": "/api/v1/perustiedot", "kind": "status", "status": 429, "retry_after": "2"},
                    {"path": "/api/v1/perustiedot", "kind": "status", "status": 503, "times": 2, "skip": 1})
        hs = self.hetus(2)
        st, h, _d = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": hs})
        self.assertEqual((st, h.get("retry-after")), (429, "2"))
        st, _h, _d = self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")   # other path: no fault
        self.assertEqual(st, 200)
        sts = [self.c.api("POST", "/api/v1/perustiedot", {"hetulista": hs})[0] for _ in range(4)]
        self.assertEqual(sts, [200, 503, 503, 200])
        st, out = self.c.ctl("GET", "/_mock/faults")
        self.assertEqual([r["hits"] for r in out["rules"]], [1, 2])

    def test_always_and_wildcard(self):
        self.faults({"path": "*", "kind": "status", "status": 500, "times": -1})
        for _ in range(3):
            self.assertEqual(self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")[0], 500)
        self.assertEqual(self.c.ctl("GET", "/_mock/health")[0], 200)   # control API never faulted
        self.c.ctl("DELETE", "/_mock/faults")
        self.assertEqual(self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")[0], 200)

    def test_delay_and_latency(self):
        self.faults({"path": "/api/v1/kirjausavain", "kind": "latency", "ms": 150, "times": -1},
                    {"path": "/api/v1/kirjausavain", "kind": "delay", "ms": 300})
        t = time.monotonic()
        self.assertEqual(self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.44)
        t = time.monotonic()
        self.assertEqual(self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")[0], 200)
        el = time.monotonic() - t
        self.assertTrue(0.14 <= el < 0.4, el)
        t = time.monotonic()
        self.assertEqual(self.c.api("POST", "/api/v1/perustiedot", {"hetulista": []})[0], 200)
        self.assertLess(time.monotonic() - t, 0.14)

    def test_drop(self):
        self.faults({"kind": "drop"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
            self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(3)})
        c2 = Client(self.port)
        self.assertEqual(c2.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(3)})[0], 200)
        c2.close()
        st, log = self.c.ctl("GET", "/_mock/requests")
        self.assertEqual([(e["status"], e["fault"]) for e in log], [(0, "drop"), (200, None)])

    def test_reset_mid_body(self):
        self.faults({"kind": "reset_mid_body"})
        data, err = self.raw_request("/api/v1/perustiedot", {"hetulista": self.hetus(200)})
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        self.assertLess(len(body), length)
        self.assertIsInstance(err, ConnectionResetError)

    def test_stall_mid_body(self):
        self.faults({"kind": "stall_mid_body", "ms": 300})
        t = time.monotonic()
        d = self.perustiedot(self.hetus(50))
        self.assertGreaterEqual(time.monotonic() - t, 0.29)
        self.assertEqual(len(d["perustiedot"]), 50)

    def test_truncate(self):
        self.faults({"kind": "truncate"})
        st, h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(20)})
        self.assertEqual(st, 200)
        self.assertEqual(int(h["content-length"]), len(data))
        with self.assertRaises(ValueError):
            json.loads(data)
        self.assertEqual(len(self.perustiedot(self.hetus(20))["perustiedot"]), 20)   # connection still usable

    def test_invalid_json(self):
        for at in ("middle", "end", "start"):
            self.faults({"kind": "invalid_json", "at": at})
            st, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(20)})
            self.assertEqual(st, 200)
            with self.assertRaises(ValueError, msg=at):
                json.loads(data)

    def test_invalid_utf8_and_nul(self):
        self.faults({"kind": "invalid_utf8"}, {"kind": "nul_in_string"})
        st, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(20)})
        with self.assertRaises(UnicodeDecodeError):
            data.decode("utf-8")
        st, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(20)})
        d = json.loads(data)
        names = [g.get("etunimi", "") + g.get("sukunimi", "") for p in d["perustiedot"] for g in p["tietoryhmat"]]
        self.assertTrue(any("\x00" in n for n in names))
        self.assertIn(b"\\u0000", data)
        # also on an empty /muutokset answer (an extra envelope field carries it)
        self.faults({"kind": "nul_in_string"})
        st, _h, data = self.c.api("POST", "/api/v1/muutokset", {"viimeisinKirjausavain": 1, "hetulista": []})
        self.assertIn(b"\\u0000", data)

    def test_wrong_types(self):
        self.faults({"kind": "wrong_types"}, {"kind": "wrong_types"}, {"kind": "wrong_types"},
                    {"kind": "wrong_types", "variant": "date_number"},
                    {"kind": "wrong_types", "variant": "hetu_number"})
        _s, _h, data = self.c.api("GET", "/api/v1/kirjausavain/2024-05-01")
        self.assertEqual(json.loads(data), {"viimeisinKirjausavain": str(START_KEY)})
        _s, _h, data = self.c.api("POST", "/api/v1/muutokset", {"viimeisinKirjausavain": 7, "hetulista": []})
        self.assertIsInstance(json.loads(data)["viimeisinKirjausavain"], str)
        _s, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(3)})
        self.assertIsInstance(json.loads(data)["perustiedot"], dict)
        _s, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(3)})
        self.assertRegex(data.decode(), r'"(alkupv|kuntaanMuuttopv|kuolinpv)":\d{8}')
        hs = [h for h in self.hetus(100) if h.startswith("0")][:3]
        _s, _h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": hs})
        self.assertEqual([p["henkilotunnus"] for p in json.loads(data)["perustiedot"]], [int(h[:6]) for h in hs])

    def test_bad_person(self):
        for variant, check in [
                ("tietoryhmat_string", lambda p: p["tietoryhmat"] == "RIKKI"),
                ("missing_henkilotunnus", lambda p: "henkilotunnus" not in p),
                ("group_not_object", lambda p: p["tietoryhmat"][0] == 42),
                ("date_number", lambda p: re.search(r'pv":\d{8}', json.dumps(p, separators=(",", ":")))),
                ("field_wrong_type", lambda p: 12345 in [v for g in p["tietoryhmat"] for v in g.values()]),
                ("not_object", lambda p: p == "RIKKI")]:
            self.faults({"kind": "bad_person", "variant": variant})
            d = self.perustiedot(self.hetus(9))
            ps = d["perustiedot"]
            self.assertEqual(len(ps), 9)
            bad = [k for k, p in enumerate(ps) if not (isinstance(p, dict) and isinstance(p.get("tietoryhmat"), list)
                                                       and isinstance(p.get("henkilotunnus"), str)
                                                       and all(isinstance(g, dict) for g in p["tietoryhmat"])
                                                       and not re.search(r'pv":\d', json.dumps(p, separators=(",", ":")))
                                                       and 12345 not in [v for g in p["tietoryhmat"]
                                                                         for v in g.values()])]
            self.assertEqual(bad, [4], variant)
            self.assertTrue(check(ps[4]), variant)

    def test_oversized(self):
        self.faults({"kind": "oversized", "bytes": 3_000_000}, {"kind": "oversized", "bytes": 2_000_000,
                                                               "chunked": True})
        for _ in range(2):
            st, h, data = self.c.api("POST", "/api/v1/perustiedot", {"hetulista": self.hetus(10)})
            self.assertEqual(st, 200)
            self.assertIn(len(data), (3_000_000, 2_000_000))
            self.assertEqual(len(json.loads(data)["perustiedot"]), 10)
        self.assertEqual(h.get("transfer-encoding"), "chunked")

    def test_key_backwards_and_empty_not_current(self):
        self.c.ctl("POST", "/_mock/scenario", {"start_key": 500, "pages": [{"muutokset": []}, {"muutokset": []}]})
        self.faults({"path": "/api/v1/muutokset", "kind": "key_backwards"},
                    {"path": "/api/v1/muutokset", "kind": "empty_not_current"})
        d = self.muutokset(500, [])
        self.assertLess(d["viimeisinKirjausavain"], 500)
        d = self.muutokset(500, [])
        self.assertEqual(d, {"viimeisinKirjausavain": 500, "muutokset": [], "ajanTasalla": False})
        d = self.muutokset(500, [])
        self.assertEqual(d, {"viimeisinKirjausavain": 501, "muutokset": [], "ajanTasalla": False})

    def test_partial(self):
        self.faults({"kind": "partial", "omit": 3})
        d = self.perustiedot(self.hetus(10))
        self.assertEqual((len(d["perustiedot"]), d["ajanTasalla"]), (7, False))

    def test_bad_rules(self):
        for rule in [{"kind": "nope"}, {"kind": "status"}, {"kind": "delay"}, {"kind": "oversized"},
                     {"kind": "bad_person", "variant": "x"}, {"kind": "wrong_types", "variant": "x"},
                     {"kind": "invalid_json", "at": "x"},
                     {"kind": "drop", "times": -2}, "x"]:
            st, _ = self.c.ctl("POST", "/_mock/faults", {"rules": [rule]})
            self.assertEqual(st, 400, rule)


class TestRequestLog(Base):
    def test_log(self):
        self.c.ctl("DELETE", "/_mock/requests")
        hs = self.hetus(7)
        self.c.api("POST", "/r1/X/api/v1/perustiedot", {"hetulista": hs, "tietoryhmat": ["KOTIKUNTA"]})
        self.c.api("POST", "/api/v1/muutokset", {"viimeisinKirjausavain": 5, "hetulista": hs[:2]})
        self.c.api("GET", "/api/v1/kirjausavain/2024-05-01", Authorization=None)
        self.c.ctl("GET", "/_mock/health")
        st, log = self.c.ctl("GET", "/_mock/requests")
        self.assertEqual(len(log), 3)
        a, b, c = log
        self.assertEqual((a["method"], a["path"], a["hetu_count"], a["body_keys"], a["status"]),
                         ("POST", "/api/v1/perustiedot", 7, ["hetulista", "tietoryhmat"], 200))
        self.assertEqual(a["headers"]["authorization"], api_headers()["Authorization"])
        self.assertEqual(a["headers"]["x-road-client"], XROAD)
        self.assertEqual((b["path"], b["hetu_count"], b["status"], b["kirjausavain"]), ("/api/v1/muutokset", 2, 200, 5))
        self.assertEqual((c["method"], c["status"], c["hetu_count"]), ("GET", 401, None))
        self.assertNotIn("authorization", c["headers"])
        self.c.ctl("DELETE", "/_mock/requests")
        self.assertEqual(self.c.ctl("GET", "/_mock/requests"), (200, []))


# ---------------------------------------------------------------------------

def have_openssl():
    return shutil.which("openssl") is not None


@unittest.skipUnless(have_openssl(), "openssl CLI missing")
class TestTLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = os.path.join(TMP, "certs")
        subprocess.run(["sh", os.path.join(HERE, "make_certs.sh"), cls.certs], check=True)
        c = lambda n: os.path.join(cls.certs, n)  # noqa: E731
        cls.tls = MockProcess("--tls-cert", c("server.crt"), "--tls-key", c("server.key"), "--population", "50",
                              tmp=TMP)
        cls.mtls = MockProcess("--tls-cert", c("server.crt"), "--tls-key", c("server.key"), "--client-ca",
                               c("ca.crt"), "--population", "50", tmp=TMP)

    @classmethod
    def tearDownClass(cls):
        cls.tls.stop()
        cls.mtls.stop()

    def ctx(self, ca="ca.crt", cert=None):
        ctx = ssl.create_default_context(cafile=os.path.join(self.certs, ca))
        if cert:
            ctx.load_cert_chain(os.path.join(self.certs, cert + ".crt"), os.path.join(self.certs, cert + ".key"))
        return ctx

    def https(self, port, ctx, host="127.0.0.1"):
        return Client(port, http.client.HTTPSConnection(host, port, context=ctx, timeout=10))

    def test_files(self):
        for n in ["ca.crt", "ca.key", "server.crt", "server.key", "client.crt", "client.key", "other-ca.crt",
                  "other-ca.key", "other-client.crt", "other-client.key"]:
            self.assertTrue(os.path.isfile(os.path.join(self.certs, n)), n)

    def test_https(self):
        for host in ("127.0.0.1", "localhost"):
            c = self.https(self.tls.port, self.ctx(), host)
            st, _h, data = c.api("POST", "/api/v1/perustiedot", {"hetulista": [vtj_mock.hetu_of(0)]})
            self.assertEqual(st, 200)
            sock = c.conn.sock
            c.api("GET", "/api/v1/kirjausavain/2024-05-01")
            self.assertIs(c.conn.sock, sock)     # keep-alive over TLS
            c.close()

    def test_plain_http_refused(self):
        c = Client(self.tls.port)
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine)):
            c.request("GET", "/_mock/health")
        c.close()

    def test_wrong_ca(self):
        c = self.https(self.tls.port, self.ctx("other-ca.crt"))
        with self.assertRaises(ssl.SSLCertVerificationError):
            c.request("GET", "/_mock/health")
        c.close()

    def test_client_cert_required(self):
        c = self.https(self.mtls.port, self.ctx())
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
            c.request("GET", "/_mock/health")
        c.close()
        c = self.https(self.mtls.port, self.ctx(cert="other-client"))
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
            c.request("GET", "/_mock/health")
        c.close()
        c = self.https(self.mtls.port, self.ctx(cert="client"))
        self.assertEqual(c.ctl("GET", "/_mock/health"), (200, {"ok": True}))
        st, _h, _d = c.api("GET", "/api/v1/kirjausavain/2024-05-01")
        self.assertEqual(st, 200)
        c.close()

    def test_reset_mid_body_tls(self):
        c = self.https(self.tls.port, self.ctx())
        c.ctl("POST", "/_mock/faults", {"rules": [{"kind": "reset_mid_body"}]})
        with self.assertRaises((http.client.IncompleteRead, ConnectionResetError, ssl.SSLError)):
            c.api("POST", "/api/v1/perustiedot", {"hetulista": [vtj_mock.hetu_of(i) for i in range(40)]})
        c.close()


class TestProcess(unittest.TestCase):
    def test_sigterm_and_sigint(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            p = MockProcess(tmp=TMP)
            c = Client(p.port)
            self.assertEqual(c.ctl("GET", "/_mock/health")[0], 200)   # an open keep-alive connection too
            t = time.monotonic()
            p.proc.send_signal(sig)
            self.assertEqual(p.proc.wait(10), 0)
            self.assertLess(time.monotonic() - t, 3)
            c.close()
            p.stop()

    def test_cli_errors(self):
        r = subprocess.run([PY, MOCK, "--client-ca", "x"], capture_output=True)
        self.assertEqual(r.returncode, 2)


class TestThroughput(unittest.TestCase):
    """Measures 1000-hetu /perustiedot requests per second (printed, not asserted)."""

    def test_throughput(self):
        n_persons = int(os.environ.get("VTJ_MOCK_BENCH_PERSONS", "100000"))
        p = MockProcess("--population", str(n_persons), "--prerender", tmp=TMP)
        try:
            hs = [vtj_mock.hetu_of(i) for i in range(n_persons)]
            bodies = [json.dumps({"hetulista": hs[k:k + 1000]}) for k in range(0, n_persons, 1000)]
            hdr = api_headers()

            def worker(chunk, out):
                c = http.client.HTTPConnection("127.0.0.1", p.port, timeout=60)
                n = 0
                for b in chunk:
                    c.request("POST", "/api/v1/perustiedot", b, hdr)
                    r = c.getresponse()
                    r.read()
                    assert r.status == 200
                    n += 1
                c.close()
                out.append(n)

            def cpu():
                try:
                    with open("/proc/%d/stat" % p.proc.pid) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                except (OSError, ValueError, IndexError):
                    return float("nan")

            results = []
            for par in (1, 4):
                out = []
                c0 = cpu()
                t = time.monotonic()
                ths = [threading.Thread(target=worker, args=(bodies[k::par], out)) for k in range(par)]
                for th in ths:
                    th.start()
                for th in ths:
                    th.join()
                el = time.monotonic() - t
                results.append("%d client%s: %.0f req/s (%.0f persons/s), server CPU %.2f ms/request" % (
                    par, "s" if par > 1 else "", sum(out) / el, sum(out) * 1000 / el,
                    (cpu() - c0) * 1000 / sum(out)))
            print("\n  throughput, 1000-hetu /perustiedot, pre-rendered %d persons: %s"
                  % (n_persons, "; ".join(results)))
        finally:
            p.stop()


if __name__ == "__main__":
    unittest.main()
