"""report end to end: generate -> ingest (store names holding markup) -> train (2 ranks) -> promote -> report; Debian's
chromium renders the page headless: the DOM has every section, N worst-series charts with their paths, histogram
bars and the run id, and a screenshot is a non-empty PNG. A registry and a predictions file of two runs are
refused (exit 1, both named); an output naming an input is a usage error (exit 2)."""
import html.parser
import os
import shutil
import struct
import subprocess
import tempfile

import h5py

from common import Checks, run, workdir

c = Checks("report")
d = workdir()
H, WORST = 14, 4
panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
reg, pred, prod = (os.path.join(d, f) for f in ("reg.h5", "pred.h5", "prod.h5"))
out = os.path.join(d, "report.html")

CHROMIUM = shutil.which("chromium")
c.ok(CHROMIUM is not None, "Debian's chromium is installed (scripts/bootstrap.sh installs it)")

# Store names with markup, an ampersand and quotes: the page must show them as text.
run(["generate", "--out", panel, "--stores", "3", "--items", "3", "--length", "300", "--seed", "7"])
with open(panel) as f:
    lines = f.read().splitlines()
header = lines[0].split(",")
si = header.index("store")
rows = []
for line in lines[1:]:
    cells = line.split(",")
    cells[si] = '"<b>s' + cells[si] + '</b> & ""q"" \'x\'"'
    rows.append(",".join(cells))
with open(panel, "w") as f:
    f.write("\n".join([lines[0], *rows]) + "\n")
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales",
     "--covariates", "price,promo", "--out", lake])
run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg, "--predictions", pred, "--quiet"], mpi=2)
run(["promote", "--registry", reg, "--production", prod, "--rule", "smape<60"])
with h5py.File(reg, "r") as f:
    run_id = f.attrs["run_id"]
    run_id = run_id.decode() if isinstance(run_id, bytes) else run_id
    mase = f["mase"][:]
    n_models = len(mase)

p = run(["report", "--registry", reg, "--predictions", pred, "--production", prod, "--lake", lake, "--out", out,
         "--worst", str(WORST)])
c.ok(p.stdout == "" and "report:" in p.stderr and run_id in p.stderr, f"a log line on stderr only: {p.stderr}")
c.ok(os.path.getsize(out) > 10000 and not [f for f in os.listdir(d) if ".tmp-" in f], "the page, no temporaries")
with open(out, encoding="utf-8") as f:
    page = f.read()
for bad in ("<script", "src=", "<link", "url(", "@import", "http://", "https://"):
    if bad == "http://":  # the SVG namespace is the one address allowed: it is a name, nothing is fetched
        c.ok(page.replace('xmlns="http://www.w3.org/2000/svg"', "").find(bad) < 0, "no address but the SVG namespace")
    else:
        c.ok(bad not in page, f"self-contained: no {bad}")


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def all(self):
        for ch in self.children:
            yield ch
            yield from ch.all()

    def find(self, tag=None, cls=None, id=None):
        return [n for n in self.all() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes()) and
                (id is None or n.attrs.get("id") == id)]

    def alltext(self):
        return self.text + "".join(ch.alltext() for ch in self.children)


class Tree(html.parser.HTMLParser):
    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in self.VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


def render(path, *extra):
    profile = tempfile.mkdtemp(prefix="mm_chromium_")
    try:
        return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                               *extra, "file://" + path], capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


r = render(out, "--dump-dom")
c.ok(r.returncode == 0 and "<html" in r.stdout, f"chromium renders the page: {r.returncode} {r.stderr[-2000:]}")
tree = Tree()
tree.feed(r.stdout)
dom = tree.root

for sid in ("metrics", "models", "worst", "promotion", "provenance"):
    c.ok(len(dom.find("section", id=sid)) == 1, f"section #{sid}")
c.ok(not dom.find("b"), "markup in the keys stays text: no <b> element")
c.ok(not dom.find("script"), "no script element")

# Histograms: one per metric, bars in those with finite values.
metrics = dom.find("section", id="metrics")[0]
hists = metrics.find("svg", cls="histogram")
c.ok(len(hists) == 5, f"five histograms: {len(hists)}")
for name in ("mae", "rmse", "smape", "mase"):
    fig = metrics.find("figure", id=f"metric-{name}")
    c.ok(len(fig) == 1 and len(fig[0].find("rect", cls="bar")) > 0, f"{name} histogram has bars")
    table = fig[0].find("table", cls="summary")[0]
    cells = {tr.find("th")[0].alltext(): tr.find("td")[0].alltext() for tr in table.find("tr")}
    c.ok(all(k in cells for k in ("count", "NaN", "median", "5%", "95%")), f"{name} summary: {cells}")
    c.ok(int(cells["count"]) + int(cells["NaN"]) == n_models, f"{name}: count + NaN = models")
bars = sum(len(h.find("rect", cls="bar")) for h in hists)
c.ok(bars >= 5, f"histogram bars: {bars}")

# Models chosen: a bar per family, the counts adding up to the models.
models = dom.find("section", id="models")[0]
fam = models.find("svg", cls="bars")
c.ok(len(fam) == 1 and fam[0].find("rect", cls="bar"), "the family bar chart")
texts = [t.alltext() for t in fam[0].find("text")]
c.ok(any(t.startswith(("Weighted(", "Median(")) for t in texts), f"an ensemble family: {texts}")
c.ok(sum(int(t) for t in texts if t.isdigit()) == n_models, f"family counts add up to {n_models}: {texts}")
c.ok(models.find("span", id="failed-count") and models.find("span", id="note-count"), "failed and note counts")

# The worst series: WORST charts, each with a history and a forecast path and both bands; highest MASE first.
worst = dom.find("section", id="worst")[0]
charts = worst.find("svg", cls="series-chart")
c.ok(len(charts) == WORST, f"{WORST} worst-series charts: {len(charts)}")
for ch in charts:
    paths = {cl for p_ in ch.find("path") for cl in p_.classes() if p_.attrs.get("d")}
    c.ok({"history", "forecast", "band80", "band95"} <= paths, f"paths of a chart: {paths}")
    c.ok("nan" not in "".join(p_.attrs.get("d", "") for p_ in ch.find("path")).lower(), "no NaN coordinates")
keys = [k.alltext() for k in worst.find("span", cls="key")]
c.ok(len(keys) == WORST and all("<b>s" in k and '& "q"' in k and "'x'" in k for k in keys),
     f"keys shown as text, markup included: {keys}")
shown = []
for art in worst.find("article", cls="series"):
    cells = {tr.find("th")[0].alltext(): tr.find("td")[0].alltext() for tr in art.find("table", cls="facts")[0].find("tr")}
    shown.append(float(cells["mase"]) if cells["mase"] != "NaN" else float("nan"))
finite = sorted((m for m in mase if m == m), reverse=True)
c.ok(len(shown) == WORST and all(abs(a - b) <= 1e-3 * max(1, abs(b)) for a, b in zip(shown, finite)),
     f"highest MASE first: {shown} {finite[:WORST]}")

# The last promotion: counts by action, the rows.
promo = dom.find("section", id="promotion")[0]
actions = {tr.find("td")[0].alltext(): int(tr.find("td")[1].alltext())
           for tr in promo.find("div", id="audit-actions")[0].find("tr") if tr.find("td")}
c.ok(sum(actions.values()) == n_models and actions.get("promote", 0) > 0, f"audit actions: {actions}")
c.ok(len(promo.find("table", id="audit-rows")[0].find("tr")) > 1, "audit rows")

# Provenance: the run id, command line, ranks.
prov = dom.find("section", id="provenance")[0]
tables = prov.find("table", cls="provenance")
c.ok(len(tables) == 3, f"provenance of the registry, the predictions and the production registry: {len(tables)}")
attrs = {tr.attrs.get("data-attribute"): tr.find("td")[0].alltext() for tr in tables[0].find("tr")}
c.ok(attrs.get("run_id") == run_id, f"provenance run id: {attrs.get('run_id')} {run_id}")
c.ok(attrs.get("ranks") == "2" and attrs.get("command") == "train" and " train " in attrs.get("command_line", "") and
     attrs.get("host") and attrs.get("season_lengths") == "7, 365.25" and "max_history=" in attrs.get("resolved", ""),
     f"provenance: {attrs}")
pattrs = {tr.attrs.get("data-attribute"): tr.find("td")[0].alltext() for tr in tables[1].find("tr")}
c.ok(pattrs.get("run_id") == run_id and pattrs.get("registry") == os.path.realpath(reg), f"predictions: {pattrs}")
c.ok(dom.find("code", id="run-id")[0].alltext() == run_id, "run id in the header")

# A screenshot: a non-empty PNG of the asked size.
png = os.path.join(d, "report.png")
r = render(out, f"--screenshot={png}", "--window-size=1200,3000")
c.ok(r.returncode == 0 and os.path.exists(png), f"screenshot: {r.returncode} {r.stderr[-2000:]}")
with open(png, "rb") as f:
    head = f.read(24)
c.ok(head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1200, 3000) and
     os.path.getsize(png) > 20000, f"a 1200x3000 PNG with content: {os.path.getsize(png)} bytes")
if os.environ.get("MM_REPORT_KEEP"):
    shutil.copy(png, os.environ["MM_REPORT_KEEP"])

# Without --production and --lake: forecasts only, the promotion section says so.
out2 = os.path.join(d, "plain.html")
run(["report", "--registry", reg, "--predictions", pred, "--out", out2])
with open(out2, encoding="utf-8") as f:
    plain = f.read()
c.ok("No production registry given" in plain and plain.count('<svg class="series-chart"') == 6 and
     "no --lake given" in plain, "defaults: 6 worst series, no production, no history")

# Outputs of two runs: refused, naming both files; nothing written.
reg2, pred2 = os.path.join(d, "reg2.h5"), os.path.join(d, "pred2.h5")
run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg2, "--predictions", pred2, "--models", "naive",
     "--quiet"], mpi=2)
mixed = os.path.join(d, "mixed.html")
p = run(["report", "--registry", reg, "--predictions", pred2, "--out", mixed], check=False)
c.ok(p.returncode == 1 and reg in p.stderr and pred2 in p.stderr and "not the outputs of one training run" in p.stderr,
     f"a mix of two runs: {p.returncode} {p.stderr}")
c.ok(pred in p.stderr, f"names the predictions the registry was written with: {p.stderr}")
c.ok(not os.path.exists(mixed) and not [f for f in os.listdir(d) if ".tmp-" in f], "nothing written for a mix")

# Usage errors: an output naming an input, a bad --worst.
p = run(["report", "--registry", reg, "--predictions", pred, "--out", pred], check=False)
c.ok(p.returncode == 2 and "--out" in p.stderr and "--predictions" in p.stderr, f"--out onto an input: {p.stderr}")
p = run(["report", "--registry", reg, "--predictions", pred, "--out", out2, "--worst", "-1"], check=False)
c.ok(p.returncode == 2 and "--worst" in p.stderr, f"--worst -1: {p.stderr}")
c.done()
