#!/usr/bin/env python3
"""Checks that report.html reads at page width:
check_layout.py OUT DB [--dom FILE] [--fixture]

OUT is a report folder, DB the database it was made from, --dom FILE
report.html as a browser laid it out (chromium --dump-dom at a 1000 px wide
window of the page with test_layout.sh's script added, which marks each
<img data-shown="WxH">, the size it was shown at); --fixture:
DB is analysis/make_fixture.py's, whose divergence table must show an
expected divergence unshaded and an unexpected one shaded. Fails if

  - an <img> is not a valid PNG embedded in the page, or OUT/NAME.png is
    missing or differs from it;
  - a figure is shown downscaled by more than MAX_DOWNSCALE (its own width
    against the width it is shown at: measured in DOM, else the widest a
    figure can be shown at on a 1000 px page, CONTENT_PX), or its smallest
    text comes out under MIN_TEXT_PX pixels there (the figure's size, dpi
    and smallest font are in its PNG text chunk "netpoll", which
    analysis/report.py writes from the figure it saved);
  - a figure's title, axis labels or panel titles contain a raw metric name
    (any bench.metric of DB, e.g. p50_us, req_per_s);
  - the divergence table ("Workloads and divergences") has no "expected"
    column, names traces by absolute path, or shades a row whose divergences
    are expected;
  - the page does not say what the wake latency measures and what a 0 is.

Every failure is listed, then the exit status is 1. Standard library only."""

import base64
import html.parser
import json
import os
import re
import sqlite3
import struct
import sys
import zlib

PAGE_PX = 1000
# body: max-width 1000px, padding 1em (16 px) a side; the page scrollbar
# about 15 px; the figure's 1 px border a side
CONTENT_PX = PAGE_PX - 15 - 2 * 16 - 2
MAX_DOWNSCALE = 1.3
MIN_TEXT_PX = 10


FAILED = []


def fail(msg):
    """A failure: printed, and the check goes on (exit 1 at the end)."""
    print("FAIL: " + msg)
    FAILED.append(msg)


def png_info(data, what):
    """(width, height, {text chunk key: value}) of a PNG, checked chunk by chunk."""
    if len(data) < 57 or data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: not a PNG" % what)
        return 0, 0, {}
    pos, texts, size = 8, {}, None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            fail("%s: bad CRC in chunk %r" % (what, kind))
            return 0, 0, {}
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            k, _, v = body.partition(b"\0")
            texts[k.decode("latin-1")] = v.decode("latin-1")
        elif kind == b"iTXt":
            k, _, rest = body.partition(b"\0")
            flag, rest = rest[0], rest[2:]  # (compression flag, method)
            _lang, _, rest = rest.partition(b"\0")
            _tkey, _, v = rest.partition(b"\0")
            texts[k.decode("latin-1")] = (zlib.decompress(v) if flag else v).decode("utf-8")
        pos += 12 + n
    if not size or size[0] == 0 or size[1] == 0:
        fail("%s: no size" % what)
        return 0, 0, {}
    return size[0], size[1], texts


class Tables(html.parser.HTMLParser):
    """Every <table> after each <h2>: {h2 text: [[(cells, row class)], ...]}."""

    def __init__(self):
        super().__init__()
        self.h2, self.in_h2, self.tables = "", False, {}
        self.row = self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self.in_h2, self.h2 = True, ""
        elif tag == "table":
            self.tables.setdefault(self.h2, []).append([])
        elif tag == "tr":
            self.row = ([], dict(attrs).get("class", ""))
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "h2":
            self.in_h2 = False
        elif tag in ("td", "th") and self.row is not None:
            self.row[0].append(self.cell.strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.h2][-1].append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.in_h2:
            self.h2 += data
        if self.cell is not None:
            self.cell += data


def main(argv):
    args = [a for a in argv if a != "--fixture"]
    fixture = "--fixture" in argv
    dompath = None
    if "--dom" in args:
        k = args.index("--dom")
        dompath = args[k + 1] if k + 1 < len(args) else None
        del args[k:k + 2]
    if len(args) != 2 or ("--dom" in argv and not dompath):
        print("usage: check_layout.py OUT DB [--dom FILE] [--fixture]", file=sys.stderr)
        return 2
    out, dbpath = args
    page = open(os.path.join(out, "report.html"), encoding="utf-8").read()
    shown = {}
    if dompath:
        dom = open(dompath, encoding="utf-8").read()
        for tag in re.findall(r"<img\b[^>]*>", dom):
            m, s = re.search(r'id="fig-([a-z_]+)"', tag), re.search(r'data-shown="(\d+)x\d+"', tag)
            if m and s:
                shown[m.group(1)] = int(s.group(1))
        if not shown:
            fail("the browser's page has no <img data-shown>: figures not laid out")
            return 1
    metrics = {r[0] for r in sqlite3.connect(dbpath).execute("SELECT DISTINCT metric FROM bench")}

    imgs = re.findall(r"<img\b[^>]*>", page)
    if not imgs:
        fail("no <img> in report.html")
    for tag in imgs:
        m = re.search(r'id="fig-([a-z_]+)"', tag)
        src = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', tag)
        if not m or not src:
            fail("an <img> without an id or an embedded PNG: %s" % tag[:80])
            continue
        name = m.group(1)
        data = base64.b64decode(src.group(1))
        path = os.path.join(out, name + ".png")
        if not os.path.isfile(path):
            fail("%s: <img> in the page, but no %s" % (name, path))
        else:
            with open(path, "rb") as f:
                if f.read() != data:
                    fail("%s: %s differs from the embedded figure" % (name, path))
        w, h, texts = png_info(data, name)
        if not w:
            continue
        if dompath and name not in shown:
            fail("%s: not laid out by the browser" % name)
            continue
        width = shown.get(name, min(w, CONTENT_PX))
        scale = w / width if width else float("inf")
        if scale > MAX_DOWNSCALE:
            fail("%s: %d px wide, shown %d px wide at a %d px page: shrunk %.2fx (at most %.1fx)"
                 % (name, w, width, PAGE_PX, scale, MAX_DOWNSCALE))
        if "netpoll" not in texts:
            fail("%s: no 'netpoll' text chunk (its fonts and titles undeclared)" % name)
            continue
        about = json.loads(texts["netpoll"])
        text_px = about["min_font_pt"] * about["dpi"] / 72 / max(scale, 1.0)
        if text_px < MIN_TEXT_PX:
            fail("%s: smallest text %.1f px as shown (at least %d)" % (name, text_px, MIN_TEXT_PX))
        labels = [about.get("suptitle", "")] + [t for ax in about["axes"]
                                                for t in (ax["title"], ax["xlabel"], ax["ylabel"])]
        for t in labels:
            raw = [m for m in metrics if re.search(r"(?<![A-Za-z0-9])%s(?![A-Za-z0-9])"
                                                    % re.escape(m), t)]
            if raw:
                fail("%s: raw metric name %r in the title or label %r" % (name, raw[0], t))
        print("ok: %s: %dx%d, shown %d px wide (%.2fx), smallest text %.1f px, %d panel%s"
              % (name, w, h, width, scale, text_px, len(about["axes"]),
                 "" if len(about["axes"]) == 1 else "s"))

    p = Tables()
    p.feed(page)
    div = p.tables.get("Workloads and divergences")
    if not div or not div[0]:
        fail("no divergence table under 'Workloads and divergences'")
    elif "expected" not in div[0][0][0]:
        fail("the divergence table has no 'expected' column: %s" % div[0][0][0])
    else:
        head, *rows = div[0]
        ci = head[0].index("expected")
        ti = next((i for i, c in enumerate(head[0]) if c.startswith(("trace", "workload"))), 0)
        for cells, cls in rows:
            if cells[ti].startswith("/"):
                fail("the divergence table names a trace by absolute path: %s" % cells[ti])
            if cells[ci].startswith("yes") and "bad" in cls:
                fail("an expected divergence shaded as bad: %s" % cells)
        n_exp = sum(c[ci].startswith("yes") for c, _ in rows)
        n_bad = sum("bad" in k for _, k in rows)
        if fixture and (n_exp == 0 or n_bad == 0):
            fail("the fixture's divergence table: %d expected and %d shaded rows, want both > 0"
                 % (n_exp, n_bad))
        print("ok: the divergence table has an 'expected' column, %d rows, %d expected, "
              "%d shaded" % (len(rows), n_exp, n_bad))
    if "latency of exactly 0" not in page.lower():
        fail("the page does not say what a wake latency of 0 is")
    if FAILED:
        print("FAIL: %d failure%s" % (len(FAILED), "" if len(FAILED) == 1 else "s"))
        return 1
    print("ok: report.html reads at %d px" % PAGE_PX)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
