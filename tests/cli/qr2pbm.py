#!/usr/bin/env python3
"""Turn `wipeer id --qr` output (stdin) back into QR modules.

Checks the drawing (one colour escape per line, only half-block glyphs,
square symbol, 4-module quiet zone, finder patterns in three corners, dark
modules dark) and writes the modules as a PBM image (argv[1], scaled 8x)
for a QR decoder. Prints the symbol size in modules (without quiet zone).
"""
import re
import sys

GLYPHS = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}
QUIET = 4


def fail(msg):
    print("qr2pbm: " + msg, file=sys.stderr)
    sys.exit(1)


lines = sys.stdin.read().split("\n")
qr = [l for l in lines if l.startswith("\x1b[")]
if not qr:
    fail("no QR lines (colour escape) in the output")
rows = []
for l in qr:
    # Black on white, set explicitly, reset at the end of every line.
    m = re.fullmatch(r"\x1b\[30;107m(.*)\x1b\[0m", l)
    if not m:
        fail("QR line without the black-on-white escape: %r" % l[:20])
    top, bottom = [], []
    for ch in m.group(1):
        if ch not in GLYPHS:
            fail("unexpected character %r" % ch)
        t, b = GLYPHS[ch]
        top.append(t)
        bottom.append(b)
    rows += [top, bottom]
width = len(rows[0])
if any(len(r) != width for r in rows):
    fail("lines of different widths")
if len(qr) != (width + 1) // 2:
    fail("%d lines for width %d, expected %d" % (len(qr), width, (width + 1) // 2))
rows = rows[:width]  # the last half row is padding when width is odd
n = width - 2 * QUIET
if n < 21 or (n - 21) % 4 != 0:
    fail("symbol size %d is not a QR version" % n)
for y in range(width):
    for x in range(width):
        inside = QUIET <= x < QUIET + n and QUIET <= y < QUIET + n
        if not inside and rows[y][x]:
            fail("dark module in the quiet zone at %d,%d" % (x, y))


def finder_ok(x0, y0):
    for dy in range(7):
        for dx in range(7):
            ring = max(abs(dx - 3), abs(dy - 3))
            want = 0 if ring == 2 else 1
            if rows[QUIET + y0 + dy][QUIET + x0 + dx] != want:
                return False
    return True


if not (finder_ok(0, 0) and finder_ok(n - 7, 0) and finder_ok(0, n - 7)):
    fail("finder patterns missing (inverted or mirrored drawing?)")
if finder_ok(n - 7, n - 7):
    fail("a finder pattern in the bottom-right corner")

scale = 8
with open(sys.argv[1], "w") as f:
    f.write("P1\n%d %d\n" % (width * scale, width * scale))
    for r in rows:
        line = " ".join(str(v) for v in r for _ in range(scale))
        for _ in range(scale):
            f.write(line + "\n")
print(n)
