#!/usr/bin/python3
"""Helpers of bench/run (Python 3 standard library only).

  bench.py fetch-base URL HETUFILE OUT [BATCH]       /perustiedot bodies, one per line (CSV-safe for COPY)
  bench.py fetch-changes URL HETUFILE OUT KEY        /muutokset pages from KEY until ajanTasalla, one per line
  bench.py sample-rss OUT STOPFILE PID...            RssAnon of PIDs and of the run workers they start, every 20 ms
  bench.py rss-summary FILE                          first / max RssAnon (kB) per process, as JSON
  bench.py pgbench-latency T0 T1 LOG...              max / p99 / count of pgbench -l latencies (ms) in [T0, T1]
  bench.py report RAW.jsonl OUT.json [RESULTS.md]    medians, spreads and ratios; prints the summary

Measurements are JSON lines appended by bench/run:
  {"section": ..., "settings": "durable"|"fast", "metric": ..., "value": ..., "unit": ..., "warmup": false, ...}
"""

import base64
import glob
import json
import os
import statistics
import sys
import time
import urllib.request

AUTH = "Basic " + base64.b64encode(b"vtjuser:vtjpass").decode()
HEADERS = {"Authorization": AUTH, "X-Road-Client": "FI/MUN/0123456-7/vtj-test",
           "Accept": "application/json", "Content-Type": "application/json"}


def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers=HEADERS)
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.read()


def _line(raw):
    # One JSON text per line for COPY ... (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02'):
    # the mock's bodies are compact (no newline), and neither byte occurs in JSON.
    if b"\n" in raw or b"\x01" in raw or b"\x02" in raw:
        raw = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode()
    return raw + b"\n"


def fetch_base(url, hetufile, out, batch=1000):
    hetus = [l.strip() for l in open(hetufile) if l.strip()]
    with open(out, "wb") as f:
        for i in range(0, len(hetus), batch):
            f.write(_line(_post(url + "/api/v1/perustiedot", {"hetulista": hetus[i:i + batch]})))


def fetch_changes(url, hetufile, out, key):
    hetus = [l.strip() for l in open(hetufile) if l.strip()]
    with open(out, "wb") as f:
        while True:
            raw = _post(url + "/api/v1/muutokset", {"viimeisinKirjausavain": key, "hetulista": hetus})
            page = json.loads(raw)
            f.write(_line(json.dumps({"from_key": key, "page": page}, ensure_ascii=False,
                                     separators=(",", ":")).encode()))
            key = page["viimeisinKirjausavain"]
            if page["ajanTasalla"]:
                break


def _rss_anon(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _run_workers(callers):
    # the run worker a backend starts is titled "pg_vtj <kind> run for PID <caller>"
    marks = [("run for PID %d" % c).encode() for c in callers]
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    cmd = f.read()
                if b"pg_vtj" in cmd and any(m in cmd for m in marks):
                    pids.append(int(d))
            except OSError:
                pass
    return pids


def sample_rss(out, stopfile, pids):
    pids = [int(p) for p in pids]
    samples = {}
    last_scan = 0.0
    workers = []
    while not os.path.exists(stopfile):
        now = time.time()
        if now - last_scan > 0.2:
            workers = _run_workers(pids)
            last_scan = now
        for pid in set(pids) | set(workers):
            v = _rss_anon(pid)
            if v is not None:
                kind = "backend" if pid in pids else "run_worker"
                s = samples.setdefault(str(pid), {"kind": kind, "first_kb": v, "max_kb": v, "n": 0})
                s["max_kb"] = max(s["max_kb"], v)
                s["last_kb"] = v
                s["n"] += 1
        time.sleep(0.02)
    with open(out, "w") as f:
        json.dump(samples, f)


def pgbench_latency(t0, t1, logs):
    lat = []
    for path in logs:
        for p in glob.glob(path):
            with open(p) as f:
                for line in f:
                    parts = line.split()
                    # client_id transaction_no time script_no time_epoch time_us
                    if len(parts) < 6:
                        continue
                    end = int(parts[4]) + int(parts[5]) / 1e6
                    us = int(parts[2])
                    if end - us / 1e6 < t1 and end > t0:   # overlaps the run
                        lat.append(us / 1000.0)
    lat.sort()
    if not lat:
        return {"count": 0}
    return {"count": len(lat), "max_ms": lat[-1], "p99_ms": lat[int(0.99 * (len(lat) - 1))],
            "median_ms": statistics.median(lat)}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def summarize(raw):
    groups = {}
    for m in raw:
        if m.get("warmup"):
            continue
        key = (m["section"], m["settings"], m["metric"])
        groups.setdefault(key, {"unit": m.get("unit"), "values": []})["values"].append(m["value"])
    out = []
    for (section, settings, metric), g in sorted(groups.items()):
        v = g["values"]
        med = statistics.median(v)
        out.append({"section": section, "settings": settings, "metric": metric, "unit": g["unit"],
                    "n": len(v), "median": med, "min": min(v), "max": max(v),
                    "spread_pct": (100.0 * (max(v) - min(v)) / med) if med else 0.0, "values": v})
    return out


def _med(summary, section, settings, metric):
    for s in summary:
        if s["section"] == section and s["settings"] == settings and s["metric"] == metric:
            return s["median"]
    return None


def ratios(summary, meta):
    r = []

    def add(name, settings, value, target, better, note=""):
        if value is None:
            return
        ok = (value >= target) if better == "higher" else (value <= target)
        r.append({"name": name, "settings": settings, "value": value, "target": target,
                  "better": better, "met": ok, "note": note})

    for st in ("durable", "fast"):
        n = meta.get("base_persons")
        t = _med(summary, "base", st, "seconds")
        if t:
            add("base load persons/s (%s persons)" % n, st, n / t, 35000, "higher")
            if st == "durable":
                add("base load seconds (%s persons)" % n, st, t, 20.0, "lower")
        f = _med(summary, "floor_base", st, "seconds")
        if t and f:
            add("base load / floor (time)", st, t / f, 1.25, "lower")
        nb = _med(summary, "neighbour_base", st, "persons_per_s")
        if t and nb:
            add("base load speed / PL/pgSQL neighbour", st, (n / t) / nb, 1.5, "higher")
        lt = _med(summary, "latency", st, "seconds")
        if lt:
            add("base load persons/s, 200 ms latency, http_parallel 4 (ceiling 20,000)", st,
                meta.get("latency_persons") / lt, 20000, "higher",
                "4 requests x 1000 persons per 0.2 s = 20,000/s is the ceiling")
        c = _med(summary, "changes", st, "records_per_s")
        if c:
            add("change sync records/s", st, c, 50000, "higher")
        cf = _med(summary, "floor_changes", st, "seconds")
        ct = _med(summary, "changes", st, "merge_seconds")
        if cf and ct:
            add("change sync / floor (time)", st, ct / cf, 1.5, "lower")
        cn = _med(summary, "neighbour_changes", st, "records_per_s")
        if c and cn:
            add("change sync speed / PL/pgSQL change neighbour", st, c / cn, 1.5, "higher")
        d = _med(summary, "daily", st, "seconds")
        if d:
            add("daily run seconds", st, d, 10.0, "lower")
        dl = _med(summary, "daily", st, "reader_max_ms")
        if dl is not None:
            add("daily run: longest vtj.persons reader wait (ms)", st, dl, 100.0, "lower")
        for q in ("point", "join"):
            v = _med(summary, "reads", st, q + "_view_ms")
            s = _med(summary, "reads", st, q + "_storage_ms")
            if v and s:
                add("reads: %s lookup view / storage" % q, st, v / s, 1.3, "lower")
        for phase in ("base", "sync"):
            for who in ("backend", "run_worker"):
                g = _med(summary, "memory", st, "%s_%s_growth_mb" % (phase, who))
                if g is not None:
                    add("memory growth %s, %s (MB; limit 64 + max_response_bytes)" % (who, phase), st, g,
                        64 + meta.get("max_response_mb", 256), "lower")
    return r


def fmt(v):
    if isinstance(v, float):
        if abs(v) >= 1000:
            return "{:,.0f}".format(v)
        if abs(v) >= 10:
            return "{:.1f}".format(v)
        return "{:.3g}".format(v)
    return str(v)


def report(raw_path, out_path, md_path=None):
    raw = [json.loads(l) for l in open(raw_path) if l.strip()]
    meta = {}
    for m in raw:
        if m.get("section") == "meta":
            meta.update(m.get("meta", {}))
    raw = [m for m in raw if m.get("section") != "meta"]
    summary = summarize(raw)
    rat = ratios(summary, meta)
    result = {"meta": meta, "summary": summary, "ratios": rat, "raw": raw}
    with open(out_path, "w") as f:
        json.dump(result, f, indent=1)
    lines = []
    lines.append("| section | settings | metric | median | min | max | spread | n |")
    lines.append("|---|---|---|---:|---:|---:|---:|---:|")
    for s in summary:
        lines.append("| %s | %s | %s (%s) | %s | %s | %s | %.1f %% | %d |" % (
            s["section"], s["settings"], s["metric"], s["unit"], fmt(s["median"]), fmt(s["min"]),
            fmt(s["max"]), s["spread_pct"], s["n"]))
    lines.append("")
    lines.append("| target | settings | measured | target | met |")
    lines.append("|---|---|---:|---:|---|")
    for r in rat:
        lines.append("| %s | %s | %s | %s %s | %s |" % (r["name"], r["settings"], fmt(r["value"]),
                                                         "≥" if r["better"] == "higher" else "≤",
                                                         fmt(r["target"]), "yes" if r["met"] else "**no**"))
    text = "\n".join(lines)
    print(text)
    if md_path:
        with open(md_path, "w") as f:
            f.write(text + "\n")


def main(argv):
    cmd = argv[1]
    if cmd == "fetch-base":
        fetch_base(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) > 5 else 1000)
    elif cmd == "fetch-changes":
        fetch_changes(argv[2], argv[3], argv[4], int(argv[5]))
    elif cmd == "sample-rss":
        sample_rss(argv[2], argv[3], argv[4:])
    elif cmd == "rss-summary":
        print(open(argv[2]).read())
    elif cmd == "pgbench-latency":
        print(json.dumps(pgbench_latency(float(argv[2]), float(argv[3]), argv[4:])))
    elif cmd == "report":
        report(argv[2], argv[3], argv[4] if len(argv) > 4 else None)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
