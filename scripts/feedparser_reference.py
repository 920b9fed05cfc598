#!/usr/bin/env python3
"""Writes feedparser's reading of a folder of test feeds as compact JSON.

Usage: feedparser_reference.py DATA_DIR OUT.json

Emulates feedparser's own test harness: a file whose path contains "http" is served over
HTTP on 127.0.0.1:8097 under /tests/<path>, with the headers its `Header:` comment lines
name (Content-type defaults to what `mimetypes` guesses); every other file is parsed from
its bytes. Per file: bozo, entry count, feed title, first entry title and link (raw, as
feedparser gives them; herald's scorer normalizes both sides the same way).
Needs `pip install feedparser` (the result is committed; CI does not run this).
"""
import http.server
import json
import mimetypes
import os
import re
import sys
import threading

import feedparser

HEADER_RE = re.compile(rb"^Header:\s*([^:\s]+):\s*(.+?)\s*$", re.M)
PORT = 8097


def headers_of(data):
    head = data.split(b"-->", 1)[0]
    return {k.decode(): v.decode() for k, v in HEADER_RE.findall(head)}


def serve(root):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            rel = self.path[len("/tests/"):]
            with open(os.path.join(root, rel), "rb") as f:
                data = f.read()
            headers = headers_of(data)
            headers.setdefault("Content-type", mimetypes.guess_type(rel)[0] or "application/xml")
            self.send_response(200)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def main():
    root, out = sys.argv[1], sys.argv[2]
    httpd = serve(root)
    result = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if not name.endswith((".xml", ".json", ".rdf", ".atom", ".rss")):
                continue
            if "http" in rel:
                d = feedparser.parse(f"http://127.0.0.1:{PORT}/tests/{rel}")
            else:
                with open(path, "rb") as f:
                    d = feedparser.parse(f.read())
            entries = d.get("entries", [])
            first = entries[0] if entries else {}
            result[rel] = {
                "bozo": int(bool(d.get("bozo"))),
                "entries": len(entries),
                "title": d.get("feed", {}).get("title"),
                "entry_title": first.get("title"),
                "entry_link": first.get("link"),
            }
    httpd.shutdown()
    with open(out, "w") as f:
        # One line per file: small, and diffs stay readable.
        lines = [
            f"{json.dumps(k, ensure_ascii=False)}: {json.dumps(v, ensure_ascii=False, sort_keys=True)}"
            for k, v in sorted(result.items())
        ]
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
