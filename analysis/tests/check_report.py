#!/usr/bin/env python3
"""Checks a report folder: check_report.py OUT --figures a,b,... --nodata c,d,...

Every expected figure is OUT/NAME.png, a valid PNG (signature, IHDR with a
nonzero size, IEND) embedded byte for byte in OUT/report.html as a data URI;
every plot listed under --nodata has no PNG and a 'no data' note in the
page; the page links to nothing outside itself. Standard library only."""

import base64
import os
import re
import struct
import sys
import zlib


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check_png(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 57 or data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s: not a PNG" % path)
    pos, chunks = 8, []
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        crc = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]
        if zlib.crc32(kind + body) != crc:
            fail("%s: bad CRC in chunk %r" % (path, kind))
        chunks.append((kind, body))
        pos += 12 + n
    if chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        fail("%s: no IHDR first or IEND last" % path)
    w, h = struct.unpack(">II", chunks[0][1][:8])
    if w == 0 or h == 0:
        fail("%s: size %dx%d" % (path, w, h))
    if not any(k == b"IDAT" for k, _ in chunks):
        fail("%s: no image data" % path)
    return data, w, h


def main(argv):
    out = argv[0]
    opts = dict(zip(argv[1::2], argv[2::2]))
    figures = [x for x in opts.get("--figures", "").split(",") if x]
    nodata = [x for x in opts.get("--nodata", "").split(",") if x]
    page_path = os.path.join(out, "report.html")
    if not os.path.isfile(page_path):
        fail("no report.html in " + out)
    page = open(page_path, encoding="utf-8").read()
    uris = re.findall(r'<img id="fig-([a-z_]+)"[^>]* src="data:image/png;base64,([A-Za-z0-9+/=]+)"',
                      page)
    embedded = {name: base64.b64decode(b64) for name, b64 in uris}
    for name in figures:
        data, w, h = check_png(os.path.join(out, name + ".png"))
        if embedded.get(name) != data:
            fail("%s.png is not embedded in report.html" % name)
        print("ok: %s.png %dx%d, %d bytes, embedded" % (name, w, h, len(data)))
    for name in nodata:
        if os.path.exists(os.path.join(out, name + ".png")):
            fail("%s.png exists, but its plot has no data" % name)
        if ('class="nodata" data-plot="%s"' % name) not in page:
            fail("no 'no data' note for %s in the page" % name)
        print("ok: %s: no data, noted in the page" % name)
    if sorted(embedded) != sorted(figures):
        fail("embedded figures %s, expected %s" % (sorted(embedded), sorted(figures)))
    if page.count("<img") != len(figures):
        fail("%d <img> elements, expected %d" % (page.count("<img"), len(figures)))
    for bad in ("http:", "https:", "<link", "@import", "url("):
        if bad in page:
            fail("the page refers outside itself: %r" % bad)
    for src in re.findall(r'src="([^"]*)"', page):
        if not src.startswith("data:"):
            fail("external src " + src)
    for title in ("Runs per kind", "Workloads and divergences", "Violations per scenario",
                  "Exploration per strategy", "Benchmark medians"):
        if title not in page:
            fail("summary table '%s' missing" % title)
    print("ok: report.html: %d figures embedded, %d noted without data, self-contained"
          % (len(figures), len(nodata)))


if __name__ == "__main__":
    main(sys.argv[1:])
