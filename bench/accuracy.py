#!/usr/bin/env python3
"""Accuracy sweep: random simulated incidents, each report checked against its truth.

For every seed, draws an incident (formats, zone, skews, techniques, wave times, noise,
proxy pool, shared addresses, compensation, route and table names, untagged SQL, start
day; with --layers also two gateway layers, two DB formats and DB logs through syslog),
runs `breachline simulate` and `breachline report`, and compares `report.json` and the
CSV files with `truth.json`: waves (count, start and end within 2 min, addresses, targets,
techniques), bonus deltas, exposed accounts, push recipients, message verdicts and
indicators. Prints one line per incident and the differences under it; keeps the
directories of incidents that differ.

With --no-roster the report runs without the customer roster, as a responder without a
customer export would: exposed and pushed accounts are then a lower bound, so an account
reported that the truth does not hold is a difference and a missing one is only counted.

With --scale N the incidents are drawn N times busier (`simulate --scale`): the same
customers, N times the everyday traffic around the attack, so that rules whose
coincidences grow with traffic are tried where they fire by chance.

Usage: bench/accuracy.py FIRST_SEED LAST_SEED [--layers] [--wild] [--no-roster] [--scale N]
       [--bin PATH] [--work DIR]
"""
import argparse, csv, json, os, random, shutil, subprocess
from datetime import datetime, timedelta

GW = ["apigw-json", "apigw-clf", "apigw-xml", "apigw-csv", "kong", "nginx-combined",
      "nginx-json", "envoy", "envoy-json"]
DB = ["pg-stderr", "pg-stderr-default", "pg-stderr-execute", "pg-csvlog", "pg-jsonlog",
      "mysql-audit-json", "percona-audit-json", "percona-audit-csv", "mysql-audit-xml", "mariadb-audit",
      "rds-activity-stream"]
PUSH = ["fcm-bigquery-json", "fcm-bigquery-csv", "onesignal", "sns-delivery", "fcm-v1-log",
        "expo-push-log"]
ZONES = ["Europe/Kyiv", "UTC", "America/New_York", "Asia/Tokyo", "Australia/Sydney",
         "Europe/London", "America/Los_Angeles", "Asia/Kolkata"]


def draw(seed, layers, wild=False):
    """The `simulate` options of one incident; `wild` draws clock skews from ranges
    rather than from the few fixed values."""
    r = random.Random(seed)
    gw, db, push = r.choice(GW), r.choice(DB), r.choice(PUSH)
    if layers and r.random() < .5:
        gw += "," + r.choice([g for g in GW if g != gw])
    if layers and r.random() < .3:
        db += "," + r.choice([d for d in DB if d != db])
    a = ["--seed", str(seed), "--gateway", gw, "--db", db, "--push", push,
         "--server-tz", r.choice(ZONES), "--db-skew", f"{r.choice([0, 37, -90, 300, -1800])}s"]
    if r.random() < .3:
        a += ["--push-skew", f"{r.choice([20, -45, 120])}s"]
    a += ["--wave1", r.choice(["stuffing", "idor", "hijack"]),
          "--wave2", r.choice(["staff", "injection", "direct"])]
    t1 = datetime(2025, 1, 1, r.randint(0, 20), r.randint(0, 59), r.randint(0, 59))
    t2 = t1 + timedelta(minutes=r.choice([15, 25, 40, 90, 200, 400]))
    if t2.day == t1.day:
        a += ["--attack-at", f"{t1:%H:%M:%S},{t2:%H:%M:%S}"]
    if r.random() < .4:
        a += ["--noise"]
    if r.random() < .3:
        a += ["--proxy-pool", str(r.choice([10, 30, 60]))]
    if r.random() < .25:
        a += ["--shared-address", str(r.choice([5, 20]))]
    if r.random() < .3:
        a += ["--compensation"]
    x = r.random()
    if x < .25:
        a += ["--other-names"]
    elif x < .6:
        a += ["--random-names", str(r.randint(1, 999))]
    if r.random() < .2:
        a += ["--untagged-sql"]
    if layers and "," in gw:
        a += ["--gateway-skew", f"{r.choice([3, -20, 90])}s"]
    if wild:
        w = random.Random(seed * 7919 + 1)
        a[a.index("--db-skew") + 1] = f"{w.randint(-5400, 5400)}s"
        if "--push-skew" in a:
            a[a.index("--push-skew") + 1] = f"{w.randint(-900, 900)}s"
        elif w.random() < .5:
            a += ["--push-skew", f"{w.randint(-900, 900)}s"]
        if "--gateway-skew" in a:
            a[a.index("--gateway-skew") + 1] = f"{w.randint(-300, 300)}s"
    if layers and r.random() < .4 and any(k in db for k in ("pg-stderr", "mariadb")):
        a += ["--db-via-syslog"]
    if r.random() < .3:
        a += ["--start", r.choice(["2025-03-28", "2025-10-24", "2025-12-30", "2024-02-27"])]
    return a


def when(ts):
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def compare(truth, rep, out, lower_bound=False):
    """The differences between a report and its truth, as lines; with `lower_bound`,
    accounts the report misses are noted (prefixed `~`), not differences."""
    d = []
    tw, rw = truth["waves"], rep["waves"]
    if len(tw) != len(rw):
        d.append(f"waves {len(rw)} vs truth {len(tw)}")
    for n, (x, y) in enumerate(zip(tw, rw), 1):
        if abs((when(x["start_utc"]) - when(y["start_utc"])).total_seconds()) > 120:
            d.append(f"wave {n} start {y['start_utc']} vs {x['start_utc']}")
        if abs((when(x["end_utc"]) - when(y["end_utc"])).total_seconds()) > 120:
            d.append(f"wave {n} end {y['end_utc']} vs {x['end_utc']}")
        for k in ("attacker_ips", "targets", "techniques"):
            want, got = set(x[k]), set(y[k])
            if want != got:
                d.append(f"wave {n} {k} -{sorted(want - got)[:5]} +{sorted(got - want)[:5]}")
    bonus = {r["account_id"]: int(r["fraudulent_delta"])
             for r in rows(os.path.join(out, "bonus-adjustments.csv"))}
    if bonus != truth["affected"]["bonus_tampered"]:
        d.append("bonus deltas differ")
    impacts = {}
    for r in rows(os.path.join(out, "affected-customers.csv")):
        for imp in r["impacts"].split(";"):
            impacts.setdefault(imp, set()).add(r["account_id"])
    for k in ("data_exposed", "malicious_push"):
        want = truth["affected"][k]
        want = set(want if isinstance(want, list) else want.keys())
        got = impacts.get(k, set())
        if lower_bound and got <= want:
            if want != got:
                d.append(f"~{k}: {len(got)} of {len(want)} found, none extra")
        elif want != got:
            d.append(f"{k}: {len(want - got)} missing, {len(got - want)} extra")
    verdict = {m["id"]: m["verdict"] for m in rep["messages"]}
    for k, v in (("malicious", "malicious"), ("legitimate", "legitimate")):
        wrong = [m for m in truth["messages"][k] if verdict.get(m) != v]
        if wrong:
            d.append(f"{k} messages not so: {wrong[:3]}")
    iocs = {}
    for r in rows(os.path.join(out, "iocs.csv")):
        iocs.setdefault(r["type"], set()).add(r["value"])
    for k, kind in (("ips", "ip"), ("principals", "principal"), ("user_agents", "user_agent")):
        want, got = set(truth["indicators"].get(k, [])), iocs.get(kind, set())
        if want != got:
            d.append(f"indicators {k} -{sorted(want - got)[:4]} +{sorted(got - want)[:4]}")
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", type=int)
    ap.add_argument("last", type=int)
    ap.add_argument("--layers", action="store_true")
    ap.add_argument("--wild", action="store_true",
                    help="clock skews drawn from ranges (minutes to hours either way)")
    ap.add_argument("--no-roster", action="store_true",
                    help="report without the roster; affected accounts are a lower bound")
    ap.add_argument("--scale", type=float, default=None,
                    help="traffic scale passed to simulate (its default when absent)")
    ap.add_argument("--bin", default="target/release/breachline")
    ap.add_argument("--work", default="/tmp/breachline-accuracy")
    o = ap.parse_args()
    exact = 0
    for seed in range(o.first, o.last + 1):
        a = draw(seed, o.layers, o.wild)
        if o.scale is not None:
            a += ["--scale", str(o.scale)]
        d = os.path.join(o.work, f"s{seed}")
        shutil.rmtree(d, ignore_errors=True)
        ev, out = os.path.join(d, "ev"), os.path.join(d, "out")
        subprocess.run([o.bin, "simulate", "--out-dir", ev] + a, check=True,
                       capture_output=True)
        extra = []
        # Zone-less times: MariaDB's, and syslog's traditional headers where PostgreSQL's
        # prefix leaves the time to syslog.
        if "mariadb-audit" in a[a.index("--db") + 1] or "--db-via-syslog" in a:
            extra = ["--assume-tz", a[a.index("--server-tz") + 1]]
        if not o.no_roster:
            extra += ["--roster", os.path.join(ev, "roster.csv")]
        p = subprocess.run([o.bin, "report", ev, "-q", "--out-dir", out] + extra,
                           capture_output=True, text=True)
        if not os.path.exists(os.path.join(out, "report.json")):
            diffs = [f"no report (exit {p.returncode}): {p.stderr[:300]}"]
        else:
            with open(os.path.join(ev, "truth.json")) as f:
                truth = json.load(f)
            with open(os.path.join(out, "report.json")) as f:
                rep = json.load(f)
            diffs = compare(truth, rep, out, o.no_roster)
        notes = [x for x in diffs if x.startswith("~")]
        diffs = [x for x in diffs if not x.startswith("~")]
        print(seed, "exact" if not diffs else "differs", " ".join(a[2:]), flush=True)
        for x in diffs + notes:
            print("   ", x, flush=True)
        if not diffs:
            exact += 1
            shutil.rmtree(d, ignore_errors=True)
    print(f"{exact} of {o.last - o.first + 1} exact")


if __name__ == "__main__":
    main()
