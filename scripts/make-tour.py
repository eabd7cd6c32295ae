#!/usr/bin/env python3
"""scripts/make-tour.py - regenerate the guided tour in docs/tour/.

usage: scripts/make-tour.py [BUILD_DIR]      (default: $BUILD or build)
       make docs                             (builds, then runs this)

Runs every command of every chapter with the built wdmsim, captures its
real output and the drawings it writes, and writes for each chapter a
Markdown page (NN-name.md, for reading on a forge) and an HTML page
(NN-name.html, drawings inline) plus docs/tour/drawings/*.html (the
drawings as wdmsim wrote them) and the index (README.md, index.html).
Nothing in docs/tour/ is edited by hand: change this script and rerun.

Stable output: fixed seeds, and address randomization off (setarch -R), so
the simulated virtual addresses (host addresses) are the same run after
run on one host. Paths are shown relative to the source tree, the build
directory as "build". Long outputs are cut in the middle, saying how many
lines were left out.
"""
import html
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOUR = os.path.join(ROOT, "docs", "tour")
DRAW = os.path.join(TOUR, "drawings")


class Tour:
    def __init__(self, build):
        self.build = os.path.relpath(os.path.abspath(build), ROOT)
        self.wdmsim = os.path.join(self.build, "wdmsim")
        if not os.access(os.path.join(ROOT, self.wdmsim), os.X_OK):
            sys.exit("make-tour: %s not built (make build first)" % self.wdmsim)
        self.setarch = ["setarch", os.uname().machine, "-R"] if shutil.which("setarch") else []

    def path(self, p):
        """A build product by its path under the build directory."""
        return os.path.join(self.build, p)

    def clean(self, text):
        text = text.replace(os.path.join(ROOT, self.build) + "/", "build/")
        text = text.replace(self.build + "/", "build/")
        return text.replace(ROOT + "/", "")

    def run(self, args, timeout=300):
        """wdmsim ARGS as a user types it (from the source tree)."""
        r = subprocess.run(self.setarch + [self.wdmsim] + args, cwd=ROOT, capture_output=True,
                           text=True, timeout=timeout)
        shown = "wdmsim " + " ".join(quote(a) for a in args)
        return r.returncode, self.clean(r.stdout), self.clean(r.stderr), self.clean(shown)


def quote(a):
    return "'%s'" % a if re.search(r"[\s!*?$`]", a) else a


def cut(text, head=28, tail=12):
    lines = text.rstrip("\n").split("\n")
    if len(lines) <= head + tail + 2:
        return "\n".join(lines)
    left = len(lines) - head - tail
    return "\n".join(lines[:head] + ["... (%d lines left out)" % left] + lines[-tail:])


def insp_values(out):
    m = re.search(r"^INSP (.*)$", out, re.M)
    if not m:
        sys.exit("make-tour: the inspect_known fixture printed no INSP line")
    return dict(kv.split("=", 1) for kv in m.group(1).split())


def xfers(out):
    """The rows of !xfer: dicts of n, kind, dir, bytes, pages, els, bounce."""
    rows = []
    for m in re.finditer(r"^\s*(\d+) (packet|list)\s+(\d+) (\S+)\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)\s+"
                         r"(\d+)\s+(\S+)$", out, re.M):
        rows.append(dict(n=int(m.group(1)), kind=m.group(2), dir=m.group(4),
                         bytes=int(m.group(5)), pages=int(m.group(6)), els=int(m.group(7)),
                         bounce=int(m.group(8))))
    return rows


def iobufs(out):
    rows = []
    for m in re.finditer(r"^\s*(\d+) \S+ (IRP_MJ_\S+)\s+(buffered|direct|neither)\s+\S+\s+\S+\s+"
                         r"(\d+)\s+(\d+)$", out, re.M):
        rows.append(dict(n=int(m.group(1)), major=m.group(2), method=m.group(3),
                         inl=int(m.group(4)), outl=int(m.group(5))))
    return rows


def pick(rows, *tests):
    """The first row passing the first test that any row passes."""
    for t in tests:
        for r in rows:
            if t(r):
                return r
    sys.exit("make-tour: no transfer or request fits (rows: %d)" % len(rows))


class Chapter:
    def __init__(self, tour, slug, title):
        self.tour, self.slug, self.title, self.blocks = tour, slug, title, []

    def text(self, t):
        self.blocks.append(("p", t))

    def cmd(self, args, keep=None, head=28, tail=12, stderr=True, expect=None):
        rc, out, err, shown = self.tour.run(args)
        if expect is not None and rc != expect:
            sys.exit("make-tour: %s exited %d, expected %d\n%s%s" % (shown, rc, expect, out, err))
        both = out + (err if stderr else "")
        if keep:
            both = "\n".join(l for l in both.split("\n") if keep(l))
        self.blocks.append(("cmd", shown, cut(both, head, tail), rc))
        return rc, out, err

    def draw(self, name, args, caption):
        rel = os.path.join("drawings", name + ".html")
        out = os.path.join(self.tour.build, "tour-" + name + ".html")
        rc, o, e, shown = self.tour.run(args[:3] + ["--out", out] + args[3:])
        if not os.path.exists(os.path.join(ROOT, out)):
            sys.exit("make-tour: %s wrote no drawing\n%s%s" % (shown, o, e))
        shutil.move(os.path.join(ROOT, out), os.path.join(TOUR, rel))
        shown = shown.replace("--out " + t_clean(self.tour, out), "--out " + name + ".html")
        self.blocks.append(("draw", shown, rel, caption))

    def write(self, number, prev, nxt):
        base = "%02d-%s" % (number, self.slug)
        with open(os.path.join(TOUR, base + ".md"), "w") as f:
            f.write(self.markdown(number, prev, nxt))
        with open(os.path.join(TOUR, base + ".html"), "w") as f:
            f.write(self.html(number, prev, nxt))
        return base

    def markdown(self, number, prev, nxt):
        s = ["<!-- generated by scripts/make-tour.py (make docs): do not edit -->",
             "# %d. %s" % (number, self.title), ""]
        for b in self.blocks:
            if b[0] == "p":
                s += [b[1], ""]
            elif b[0] == "cmd":
                s += ["```", "$ " + b[1], b[2], "```"]
                if b[3]:
                    s += ["(exit status %d)" % b[3]]
                s += [""]
            else:
                s += ["```", "$ " + b[1], "```", "",
                      "Drawing: [%s](%s) — %s" % (os.path.basename(b[2]), b[2], b[3]), ""]
        s += [nav_md(prev, nxt), ""]
        return "\n".join(s)

    def html(self, number, prev, nxt):
        title = "%d. %s" % (number, self.title)
        s = [page_head("wdmsim tour: " + title), "<h1>%s</h1>" % html.escape(title)]
        for b in self.blocks:
            if b[0] == "p":
                s.append("<p>%s</p>" % inline(b[1]))
            elif b[0] == "cmd":
                s.append("<pre class=\"cmd\">$ %s\n%s</pre>" % (html.escape(b[1]),
                                                               html.escape(b[2])))
                if b[3]:
                    s.append("<p class=\"rc\">(exit status %d)</p>" % b[3])
            else:
                s.append("<pre class=\"cmd\">$ %s</pre>" % html.escape(b[1]))
                s.append("<div class=\"drawing\">%s</div>" % drawing_body(b[2]))
                s.append("<p class=\"caption\">%s (<a href=\"%s\">the drawing alone</a>)</p>"
                         % (inline(b[3]), b[2]))
        s.append("<p class=\"nav\">%s</p>" % nav_html(prev, nxt))
        s.append("</body>\n</html>\n")
        return "\n".join(s)


def t_clean(tour, p):
    return tour.clean(p)


def inline(t):
    """Markdown's `code` and [text](link) in a paragraph, as HTML."""
    t = html.escape(t, quote=False)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    t = re.sub(r"\[([^\]]+)\]\(([^)]+)\)",
               lambda m: "<a href=\"%s\">%s</a>" % (m.group(2).replace(".md", ".html"), m.group(1)),
               t)
    return t


def drawing_body(rel):
    with open(os.path.join(TOUR, rel)) as f:
        page = f.read()
    m = re.search(r"<body>\n?(.*)</body>", page, re.S)
    return m.group(1) if m else ""


def drawing_style():
    for name in sorted(os.listdir(DRAW)):
        with open(os.path.join(DRAW, name)) as f:
            m = re.search(r"<style>\n?(.*?)</style>", f.read(), re.S)
            if m:
                return m.group(1)
    return ""


STYLE = ("pre.cmd{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow-x:auto;"
         "font-size:12px}\n div.drawing{border:1px solid #ccc;padding:0 1em;margin:.5em 0;"
         "overflow-x:auto}\n p.caption{font-style:italic}\n p{max-width:60em}\n")


def page_head(title):
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<!-- generated by scripts/make-tour.py (make docs): do not edit -->\n"
            "<title>%s</title>\n<style>\n%s%s</style>\n</head>\n<body>"
            % (html.escape(title), drawing_style(), STYLE))


def nav_md(prev, nxt):
    parts = ["[contents](README.md)"]
    if prev:
        parts.insert(0, "[previous: %s](%s.md)" % (prev[1], prev[0]))
    if nxt:
        parts.append("[next: %s](%s.md)" % (nxt[1], nxt[0]))
    return " · ".join(parts)


def nav_html(prev, nxt):
    parts = ["<a href=\"index.html\">contents</a>"]
    if prev:
        parts.insert(0, "<a href=\"%s.html\">previous: %s</a>" % (prev[0], html.escape(prev[1])))
    if nxt:
        parts.append("<a href=\"%s.html\">next: %s</a>" % (nxt[0], html.escape(nxt[1])))
    return " · ".join(parts)


# ---- the chapters ------------------------------------------------------------------------


def ch_pool(t):
    c = Chapter(t, "pool", "Pool and page rounding")
    fx = t.path("tests/fixtures/inspect_known.so")
    c.text("A driver asks `ExAllocatePoolWithTag` for bytes; the pool hands out blocks. Small "
           "requests share a page and are rounded up to 16-byte units with a 16-byte "
           "`POOL_HEADER` in front; requests of a page or more get whole pages of their own "
           "(\"big\" blocks), so 8192 bytes cost exactly two pages and 8193 would cost three. "
           "The fixture `inspect_known` allocates 'Insp' blocks of 100, 200 and 300 bytes, an "
           "8192-byte 'Ibuf' block and a 64-byte paged 'Ipgd' block, prints where they are, and "
           "stops the machine with `KeBugCheckEx(0xE2, ...)` so that we can look.")
    rc, out, err = c.cmd(["run", "--seed", "5", fx], expect=1, head=6, tail=2)
    v = insp_values(out)
    c.text("The 100-byte block sits in a shared page: the inspector's `!pool` walks that page "
           "header by header (sizes are hex bytes, header included: 100 bytes plus the 16-byte "
           "header, rounded to 16, make 0x80). The lines of blocks parked free in a "
           "processor's cache, `(Free, cached)`, are left out here. The 8192-byte block is a "
           "big block of two whole pages.")
    c.cmd(["run", "--seed", "5", "--cmd", "!pool " + v["pool"], "--cmd", "!pool " + v["big"],
           "--cmd", "!poolused I*", fx], expect=1, stderr=False,
          keep=lambda l: "Free, cached" not in l and not l.startswith("INSP"), head=40, tail=4)
    c.text("Contiguous virtual pages need not be contiguous frames: `!vtop` of the big block's "
           "two pages gives the frame under each (`MmGetPhysicalAddress` answers the same). "
           "`--pool-usage` prints poolmon's table at the end of any run.")
    big = int(v["big"], 16)
    c.cmd(["run", "--seed", "5", "--cmd", "!vtop " + v["big"], "--cmd",
           "!vtop %x" % (big + 0x1000), fx], expect=1, stderr=False,
          keep=lambda l: not l.startswith("INSP"))
    return c


def ch_mdl(t):
    c = Chapter(t, "mdl", "MDLs and the three address spaces")
    fx = t.path("tests/fixtures/inspect_known.so")
    rc, out, err = t.run(["run", "--seed", "5", fx])[:3]
    v = insp_values(out)
    mdl = re.search(r"Arg2: ([0-9a-f]+)", err).group(1)
    c.text("An MDL describes a buffer by its virtual start (`StartVa` + `ByteOffset`), its "
           "length and, after the 48-byte header, the PFN array: one frame number per page the "
           "buffer spans. `MmProbeAndLockPages` fills the array and locks the frames; "
           "`MmMapLockedPagesSpecifyCache` maps the same frames at a second virtual address. "
           "The fixture `inspect_known` does both on its 8192-byte block (the MDL is bug check "
           "parameter 2).")
    c.cmd(["run", "--seed", "5", "--cmd", "dt _MDL " + mdl, "--cmd", "!vtop " + v["big"],
           "--cmd", "!vtop " + v["map2"], "--cmd", "!pfn %x" % (int(v["bigpa"], 16) >> 12),
           fx], expect=1, stderr=False, keep=lambda l: not l.startswith("INSP"), head=40)
    c.text("Two virtual addresses, one frame, map count 2: that is the first two address "
           "spaces. The third is the device's. The fixture's adapter is a 32-bit bus master, "
           "and its buffer lies above 4 GiB, so each page it maps goes through a map register "
           "that targets a bounce frame below 4 GiB: the logical address the device uses is "
           "the bounce frame's. `!xfer` lists the DMA transfers the run made (the transfer log "
           "is kept whenever the inspector or a drawing is asked for).")
    c.cmd(["run", "--seed", "5", "--cmd", "!xfer", "--cmd", "!xfer 3", fx], expect=1,
          stderr=False, keep=lambda l: not l.startswith("INSP"))
    c.draw("mdl-transfer3", ["draw", "--transfer", "3", "--seed", "5", fx],
           "transfer 3: the MDL's first page, its frame above 4 GiB, map register 0 and the "
           "bounce frame the device writes (copied back at FlushAdapterBuffers).")
    c.draw("mdl-transfer2", ["draw", "--transfer", "2", "--seed", "5", fx],
           "transfer 2: GetScatterGatherList over both pages: two bounced registers whose "
           "bounce frames are consecutive, so the device sees one element of 8192 bytes.")
    return c


def ch_io(t):
    c = Chapter(t, "io-methods", "Buffered, direct and neither I/O")
    drv, app = t.path("drivers/piofifo.so"), t.path("drivers/piofifo_app.so")
    base = ["run", "--machine", "machines/default.ini", "--app", app]
    c.text("How a driver sees a caller's buffer depends on the transfer method. Buffered: the "
           "I/O manager allocates `SystemBuffer` in nonpaged pool and copies (in when it builds "
           "the IRP, out at completion). Direct: it probes and locks the caller's pages and "
           "hands the driver an MDL of them (`MdlAddress`). Neither: the driver gets the "
           "caller's raw addresses. The PIO-1 sample driver `piofifo` has one IOCTL per method, "
           "and its app uses each from a user process.")
    c.cmd(base + [drv], expect=0, head=16, tail=14)
    c.text("`!iobuf` lists the buffers of each request the I/O manager built: method, "
           "`SystemBuffer`, `MdlAddress`, input and output lengths.")
    rc, out, err = c.cmd(base + ["--cmd", "!iobuf", drv], expect=0, stderr=False,
                         keep=lambda l: not l.startswith(("ok ", "FAIL")), head=24, tail=4)
    rows = iobufs(out)
    b = pick(rows, lambda r: r["method"] == "buffered" and r["inl"] > 0)
    d = pick(rows, lambda r: r["method"] == "direct" and r["outl"] > 4096,
             lambda r: r["method"] == "direct")
    n = pick(rows, lambda r: r["method"] == "neither" and r["inl"] and r["outl"])
    c.draw("io-buffered", ["draw", "--irp", str(b["n"])] + base[1:] + [drv],
           "buffered: the caller's page and SystemBuffer's page are different frames; the "
           "bytes are copied.")
    c.draw("io-direct", ["draw", "--irp", str(d["n"])] + base[1:] + [drv],
           "direct: the MDL's PFN array names the frames under the caller's own pages.")
    c.draw("io-neither", ["draw", "--irp", str(n["n"])] + base[1:] + [drv],
           "neither: the driver holds the caller's virtual addresses, valid only in the "
           "caller's process.")
    return c


def ch_sg(t):
    c = Chapter(t, "scatter-gather", "Scatter/gather with a descriptor table in a common buffer")
    drv, app = t.path("drivers/sgdisk.so"), t.path("drivers/sgdisk_app.so")
    base = ["run", "--machine", "machines/default.ini", "--app", app]
    c.text("A scatter/gather bus master takes a list of (logical address, length) elements. "
           "The SGD-1 sample driver `sgdisk` asks `GetScatterGatherList` for each request and "
           "copies the elements into a descriptor table that lives in a common buffer "
           "(`AllocateCommonBuffer`: contiguous, reachable, with a virtual and a logical "
           "address), then points the device at the table. Its app reads and writes the disk "
           "from user buffers that start anywhere in a page.")
    c.cmd(base + [drv], expect=0, head=14, tail=14)
    c.text("At the end of the run, `!dma` shows the adapter and its common buffer, and `!xfer` "
           "the last transfers (lists: one per request).")
    rc, out, err = c.cmd(base + ["--cmd", "!dma", "--cmd", "!xfer", drv],
                         expect=0, stderr=False, head=30, tail=8,
                         keep=lambda l: not l.startswith(("ok ", "FAIL")))
    x = pick(xfers(out), lambda r: r["kind"] == "list" and r["els"] >= 3 and r["pages"] <= 8,
             lambda r: r["kind"] == "list" and r["els"] >= 2 and r["pages"] <= 16,
             lambda r: r["kind"] == "list")
    c.draw("sg-list", ["draw", "--transfer", str(x["n"])] + base[1:] + [drv],
           "transfer %d: a user buffer over scattered frames becomes %d elements; "
           "each is what the driver writes into one descriptor." % (x["n"], x["els"]))
    return c


def ch_packet(t):
    c = Chapter(t, "packet-bounce", "Packet-based DMA and bounce buffers")
    drv, app = t.path("drivers/pktdisk.so"), t.path("drivers/pktdisk_app.so")
    base = ["run", "--machine", "machines/highmem.ini", "--app", app]
    c.text("A packet-based bus master without scatter/gather takes one logical address and a "
           "length. The driver calls `AllocateAdapterChannel`, then `MapTransfer` for as much "
           "of the MDL as its map registers cover, starts the device, and "
           "`FlushAdapterBuffers` at the end. The PKD-1 sample `pktdisk` is a 32-bit device; "
           "on `machines/highmem.ini` most RAM is above 4 GiB, so the HAL bounces: each map "
           "register targets a bounce frame below 4 GiB, and because the adapter has no "
           "scatter/gather its bounce frames are consecutive, giving the device one logically "
           "contiguous run.")
    c.cmd(base + [drv], expect=0, head=14, tail=14)
    rc, out, err = c.cmd(base + ["--cmd", "!xfer", drv], expect=0, stderr=False, head=14,
                         tail=6, keep=lambda l: not l.startswith(("ok ", "FAIL")))
    x = pick(xfers(out), lambda r: r["kind"] == "packet" and r["bounce"] >= 2 and
             r["pages"] <= 6 and r["dir"] == "memory->device",
             lambda r: r["kind"] == "packet" and r["bounce"] >= 1 and r["pages"] <= 8,
             lambda r: r["kind"] == "packet")
    c.draw("packet-bounce", ["draw", "--transfer", str(x["n"])] + base[1:] + [drv],
           "transfer %d: %d pages bounced; the HAL copies the buffer's frames into the bounce "
           "frames at MapTransfer (to the device) or back at FlushAdapterBuffers (from it)."
           % (x["n"], x["bounce"]))
    return c


def ch_sysdma(t):
    c = Chapter(t, "system-dma", "System DMA in auto-initialize mode with ReadDmaCounter")
    drv, app = t.path("drivers/isastream.so"), t.path("drivers/isastream_app.so")
    base = ["run", "--machine", "machines/isa.ini", "--app", app]
    c.text("An ISA device has no bus-master logic: the 8237 DMA controller moves its bytes. "
           "The IST-1 sample `isastream` asks for an adapter on its channel with "
           "`AutoInitialize`, maps one ring buffer with `MapTransfer` (which programs the "
           "channel: page, address, count, mode), and the controller cycles through the ring "
           "forever; the driver learns how far it got with `ReadDmaCounter`, the bytes left in "
           "the current cycle. Everything below 16 MiB: the 8237 reaches 24 bits.")
    c.cmd(base + [drv, "--", "0"], expect=0, head=14, tail=14)
    rc, out, err = c.cmd(base + ["--cmd", "!dma8237", "--cmd", "!xfer", drv, "--", "0"],
                         expect=0, stderr=False, head=30, tail=6,
                         keep=lambda l: not l.startswith(("ok ", "FAIL")))
    x = pick(xfers(out), lambda r: r["kind"] == "packet" and r["pages"] <= 8,
             lambda r: r["kind"] == "packet")
    c.draw("system-dma", ["draw", "--transfer", str(x["n"])] + base[1:] + [drv, "--", "0"],
           "transfer %d: the ring buffer's pages, the channel's map registers and the "
           "physical addresses the 8237 walks." % x["n"])
    return c


def ch_paging(t):
    c = Chapter(t, "paging-irql", "Paging and IRQL")
    c.text("Pageable memory (paged pool, a driver's `PAGE` sections) can be trimmed: its pages "
           "stay on their frames but become inaccessible, and the next touch faults. Below "
           "`DISPATCH_LEVEL` the fault handler pages it back in and the driver never notices; "
           "at or above it no page fault can be serviced, and Windows stops with 0xD1 or 0xA. "
           "The fixture's paged 'Ipgd' block shows the PTE flags (pageable, trimmed once the "
           "balance set or the verifier trims it):")
    fx = t.path("tests/fixtures/inspect_known.so")
    v = insp_values(t.run(["run", "--seed", "5", fx])[1])
    c.cmd(["run", "--seed", "5", "--cmd", "!pte " + v["paged"], fx], expect=1, stderr=False,
          keep=lambda l: not l.startswith("INSP"))
    c.text("`paged-call-passive` calls a function of its `PAGE` section at `PASSIVE_LEVEL`, "
           "with the verifier trimming pageable memory on every IRQL raise "
           "(`irql-checking`): the page faults in, and the run is clean.")
    c.cmd(["run", "--seed", "1", "--verifier", "standard,irql-checking",
           t.path("tests/fixtures/paged-call-passive.so")], expect=0)
    c.text("`irql-pageable-access` calls the same kind of function after `KeRaiseIrql("
           "DISPATCH_LEVEL)`. With `irql-checking` the raise trims first, so the call faults "
           "every time, not only when memory is short, and the machine stops with "
           "DRIVER_IRQL_NOT_LESS_OR_EQUAL; `!irql` shows the processor at DISPATCH_LEVEL.")
    c.cmd(["run", "--seed", "1", "--verifier", "standard,irql-checking", "--cmd", "!irql",
           t.path("tests/fixtures/irql-pageable-access.so")], expect=1,
          keep=lambda l: not re.match(r"\s+#[4-9] ", l), head=40, tail=10)
    return c


CHAPTERS = [ch_pool, ch_mdl, ch_io, ch_sg, ch_packet, ch_sysdma, ch_paging]


def index(chapters):
    intro = ("A guided tour of Windows driver memory management in wdmsim: one chapter per "
             "flow, each with the commands to run, their real output and drawings of the "
             "address spaces. Generated by `scripts/make-tour.py` (`make docs`); the outputs "
             "come from the run that made the page. Drawings: [docs/draw.md](../draw.md); the "
             "inspector: [docs/inspect.md](../inspect.md).")
    md = ["<!-- generated by scripts/make-tour.py (make docs): do not edit -->",
          "# The wdmsim tour", "", intro, ""]
    md += ["%d. [%s](%s.md)" % (i + 1, title, base) for i, (base, title) in enumerate(chapters)]
    with open(os.path.join(TOUR, "README.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    h = [page_head("The wdmsim tour"), "<h1>The wdmsim tour</h1>", "<p>%s</p>" % inline(intro),
         "<ol>"]
    h += ["<li><a href=\"%s.html\">%s</a></li>" % (base, html.escape(title))
          for base, title in chapters]
    h += ["</ol>", "</body>\n</html>\n"]
    with open(os.path.join(TOUR, "index.html"), "w") as f:
        f.write("\n".join(h))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BUILD", "build")
    t = Tour(build if os.path.isabs(build) else os.path.join(ROOT, build))
    if os.path.isdir(TOUR):
        shutil.rmtree(TOUR)
    os.makedirs(DRAW)
    chapters = []
    for fn in CHAPTERS:
        c = fn(t)
        chapters.append(c)
        print("make-tour: %s" % c.title)
    names = [("%02d-%s" % (i + 1, c.slug), c.title) for i, c in enumerate(chapters)]
    for i, c in enumerate(chapters):
        c.write(i + 1, names[i - 1] if i else None, names[i + 1] if i + 1 < len(names) else None)
    index(names)
    print("make-tour: %d chapters in %s" % (len(chapters), os.path.relpath(TOUR, ROOT)))


if __name__ == "__main__":
    main()
