"""Side by side: herald's real CLI and reader (the library behind discord-rss-bot) on the
same generated loopback feeds, CPU time per poll on each polling path.

    bench/reader_compare/run.sh [--feeds 1000] [--runs 3]

herald: `herald feeds import` then `herald poll --once` per path, each a child process
whose CPU (user and system apart) and peak RSS come from wait4's rusage: the whole
process, start-up included. reader: `update_feeds` (+ `update_search` when search is on)
in one process, CPU from getrusage around those calls only. Both sides get the same
feeds from `herald bench serve-feeds` (a separate process, not counted): 10 items of
~9 KB per feed; then one new item without a link; then one linking a ~20 KB page (herald
fetches, extracts and summarizes it; reader fetches no page). Between herald's polls the
script makes every feed due again by setting `feeds.next_poll_at` in herald's database.
Medians of `--runs`, order alternated.
"""

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PATHS = [
    ("first", "first poll (history stored, searchable)"),
    ("unchanged", "unchanged (304)"),
    ("new_no_page", "one new item, no page to fetch"),
    ("new_with_page", "one new item + page fetch, extract, summarize"),
]


def measured(cmd, env):
    """Runs cmd as a child and returns its own rusage (wait4), not the sum of all children."""
    # stderr goes to a file: two pipes read one after the other can deadlock a chatty child.
    with tempfile.TemporaryFile(mode="w+") as errf:
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=errf, text=True)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        errf.seek(0)
        err = errf.read()[-4000:]
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{out}\n{err}")
    return out, ru.ru_utime, ru.ru_stime, ru.ru_maxrss


class Server:
    def __init__(self, herald, feeds, workdir):
        self.opml = os.path.join(workdir, "feeds.opml")
        self.p = subprocess.Popen(
            [herald, "bench", "serve-feeds", "--feeds", str(feeds), "--opml", self.opml],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.p.stdout.readline()
        if "control:" not in line:
            raise SystemExit(f"feed server did not start: {line!r}")
        self.control = line.split("control:")[1].strip().split("?")[0]

    def generation(self, g):
        urllib.request.urlopen(f"{self.control}?gen={g}").read()

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def herald_side(herald, server, feeds, workdir):
    d = tempfile.mkdtemp(dir=workdir, prefix="herald-")
    db = os.path.join(d, "herald.db")
    env = dict(os.environ)
    env.update(
        HERALD_DATA_DIR=d,
        DATABASE_URL=f"sqlite://{db}",
        HERALD_ALLOW_PRIVATE_NETWORKS="true",
        RUST_LOG="error",
    )
    res = {}
    server.generation(0)
    out, u, s, rss = measured([herald, "feeds", "import", server.opml], env)
    res["import"] = {"user_s": u, "sys_s": s, "maxrss_kb": rss, "polls": feeds}
    for name, _ in PATHS:
        gen = {"first": 0, "unchanged": 0, "new_no_page": 1, "new_with_page": 2}[name]
        server.generation(gen)
        if name != "first":
            with sqlite3.connect(db) as c:
                c.execute("UPDATE feeds SET next_poll_at = 0")
        out, u, s, rss = measured([herald, "poll", "--once"], env)
        # "polled N feed(s): K new article(s), U unchanged, F failed"
        words = out.split()
        polled, new, unchanged, failed = (int(words[i]) for i in (1, 3, 6, 8))
        expect_new = feeds if name.startswith("new") else 0
        expect_unchanged = feeds if name == "unchanged" else 0
        if polled != feeds or failed or new != expect_new or unchanged != expect_unchanged:
            raise SystemExit(f"herald {name}: unexpected result: {out.strip()}")
        res[name] = {"user_s": u, "sys_s": s, "maxrss_kb": rss, "polls": polled}
    return res


def reader_side(python, server, feeds, workdir, search, first_only):
    db = os.path.join(tempfile.mkdtemp(dir=workdir, prefix="reader-"), "reader.sqlite")
    cmd = [python, os.path.join(HERE, "reader_side.py"), "--opml", server.opml, "--db", db,
           "--control", server.control, "--search", search]
    if first_only:
        cmd.append("--first-only")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"reader failed:\n{p.stdout}\n{p.stderr}")
    res = {}
    for line in p.stdout.splitlines():
        r = json.loads(line)
        if r["errors"] or r["polls"] != feeds:
            raise SystemExit(f"reader {r['path']}: {r}")
        res[r["path"]] = r
    return res


def ms_per_poll(r):
    return (r["user_s"] + r["sys_s"]) * 1000 / r["polls"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--herald", required=True)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", help="also write the raw figures here")
    a = ap.parse_args()
    python = sys.executable
    load0 = os.getloadavg()
    t0 = time.time()
    runs = {"herald": [], "reader": [], "reader_nosearch": []}
    with tempfile.TemporaryDirectory(prefix="herald-vs-reader-", dir="/var/tmp") as work:
        server = Server(a.herald, a.feeds, work)
        try:
            for i in range(a.runs):
                order = ["herald", "reader"] if i % 2 == 0 else ["reader", "herald"]
                for who in order:
                    if who == "herald":
                        runs["herald"].append(herald_side(a.herald, server, a.feeds, work))
                    else:
                        runs["reader"].append(reader_side(python, server, a.feeds, work, "on", False))
                        runs["reader_nosearch"].append(
                            reader_side(python, server, a.feeds, work, "off", True))
                print(f"  run {i + 1}/{a.runs} done", file=sys.stderr, flush=True)
        finally:
            server.close()
    load1 = os.getloadavg()

    def med(who, path, f=ms_per_poll):
        return statistics.median(f(r[path]) for r in runs[who])

    def split(who, path):
        u = statistics.median(r[path]["user_s"] * 1000 / r[path]["polls"] for r in runs[who])
        s = statistics.median(r[path]["sys_s"] * 1000 / r[path]["polls"] for r in runs[who])
        return f"{u:.2f}+{s:.2f}"

    print(f"\n{a.feeds} feeds, {a.runs} run(s), medians; CPU ms per poll (user+system)")
    print(f"load average at start {load0[0]:.2f}, at end {load1[0]:.2f} ({os.cpu_count()} cores); "
          f"{time.time() - t0:.0f} s")
    print("| path | herald ms/poll | reader ms/poll | herald ahead by |")
    print("|---|---|---|---|")
    for path, label in PATHS:
        h, r = med("herald", path), med("reader", path)
        extra = ""
        if path == "first":
            r0 = med("reader_nosearch", path)
            extra = f" (without search {r0:.2f} ms: {r0 / h:.1f}×)"
        print(f"| {label} | {h:.2f} ({split('herald', path)}) | {r:.2f} ({split('reader', path)}) "
              f"| {r / h:.1f}×{extra} |")
    imp = med("herald", "import")
    print(f"herald `feeds import`: {imp:.2f} ms per feed")
    rss_h = max(r[p]["maxrss_kb"] for r in runs["herald"] for p, _ in PATHS) / 1024
    rss_r = max(r[p]["maxrss_kb"] for r in runs["reader"] for p, _ in PATHS) / 1024
    print(f"peak RSS: herald {rss_h:.1f} MB (largest `poll --once`), reader {rss_r:.1f} MB")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"feeds": a.feeds, "load": [load0, load1], "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
