"""reader's side of the comparison: the same four polling paths as herald, in this one
process, CPU from getrusage around reader's own calls (interpreter start-up and imports
are not counted). Prints one JSON object per path.

Run by compare.py with the venv's Python (reader 3.27 needs Python >= 3.12).
"""

import argparse
import json
import resource
import sys
import urllib.request
import xml.etree.ElementTree as ET

from reader import make_reader


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--opml", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--control", required=True, help="http://HOST:PORT/control")
    ap.add_argument("--search", choices=["on", "off"], default="on")
    ap.add_argument("--first-only", action="store_true")
    a = ap.parse_args()

    urls = [o.get("xmlUrl") for o in ET.parse(a.opml).iter("outline") if o.get("xmlUrl")]
    reader = make_reader(a.db)
    if a.search == "on":
        reader.enable_search()
    for u in urls:
        reader.add_feed(u)

    paths = [("first", 0), ("unchanged", 0), ("new_no_page", 1), ("new_with_page", 2)]
    if a.first_only:
        paths = paths[:1]
    for name, gen in paths:
        urllib.request.urlopen(f"{a.control}?gen={gen}").read()
        u0, s0 = cpu()
        # scheduled=False: every feed now, as herald is made to poll every feed.
        results = list(reader.update_feeds_iter(scheduled=False))
        if a.search == "on":
            reader.update_search()
        u1, s1 = cpu()
        errors = [r for r in results if r.error is not None]
        new = sum(r.updated_feed.new for r in results if r.updated_feed is not None)
        print(
            json.dumps(
                {
                    "path": name,
                    "polls": len(results),
                    "errors": len(errors),
                    "first_error": str(errors[0].error) if errors else None,
                    "new": new,
                    "user_s": u1 - u0,
                    "sys_s": s1 - s0,
                    "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                }
            ),
            flush=True,
        )
    reader.close()


if __name__ == "__main__":
    sys.exit(main())
