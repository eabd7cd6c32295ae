#!/usr/bin/env python3
"""tests/host/draw_render.py - render wdmsim drawings and tour pages in
headless Chromium and check them.

usage: draw_render.py PAGE.html [TEXT...]
       draw_render.py --all DIR       every *.html under DIR (the tour)

For each page: Chromium's --dump-dom exits 0, the DOM holds an <svg> (for
--all: every page that links one of DIR's drawings or has one inline),
every TEXT given appears in the DOM, the console reports no error, and a
screenshot is written (a PNG, non-empty). Exit 0 when all pass, 1 with the
reason otherwise, 77 (CTest's skip) when no Chromium is installed.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser():
    for b in BROWSERS:
        p = shutil.which(b)
        if p:
            return p
    return None


def run(chrome, args, profile):
    cmd = [chrome, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def check(chrome, page, texts, need_svg=True):
    url = "file://" + os.path.abspath(page)
    with tempfile.TemporaryDirectory(prefix="wdmsim-chrome-") as profile:
        r = run(chrome, ["--dump-dom", url], profile)
        if r.returncode != 0:
            return "%s: chromium --dump-dom exited %d: %s" % (page, r.returncode, r.stderr[-500:])
        dom = r.stdout
        for line in r.stderr.splitlines():
            if "CONSOLE" in line or "Uncaught" in line or "net::ERR" in line:
                return "%s: browser error: %s" % (page, line)
        if need_svg and "<svg" not in dom:
            return "%s: no <svg> in the rendered DOM" % page
        for t in texts:
            if t not in dom:
                return "%s: '%s' not in the rendered DOM" % (page, t)
        png = os.path.join(profile, "shot.png")
        r = run(chrome, ["--screenshot=" + png, "--window-size=1300,900", url], profile)
        if r.returncode != 0 or not os.path.exists(png) or os.path.getsize(png) < 1000:
            return "%s: screenshot failed (exit %d)" % (page, r.returncode)
        with open(png, "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                return "%s: screenshot is not a PNG" % page
    return None


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    chrome = browser()
    if not chrome:
        print("draw_render: no Chromium installed (scripts/deps.sh installs it); skipped")
        return 77
    if argv[1] == "--all":
        pages = sorted(glob.glob(os.path.join(argv[2], "**", "*.html"), recursive=True))
        if not pages:
            print("draw_render: no pages in %s" % argv[2])
            return 1
        errors = []
        for p in pages:
            with open(p, encoding="utf-8") as f:
                text = f.read()
            need_svg = "<svg" in text or ".svg" in text or "data-transfer" in text
            e = check(chrome, p, [], need_svg)
            if e:
                errors.append(e)
        for e in errors:
            print(e)
        print("draw_render: %d pages, %d failed" % (len(pages), len(errors)))
        return 1 if errors else 0
    e = check(chrome, argv[1], argv[2:])
    if e:
        print(e)
        return 1
    print("draw_render: %s ok" % argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
