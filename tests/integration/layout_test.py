"""Same inputs, same outputs: 1 process x 1 thread, 2 ranks x 2 threads and 3 ranks (oversubscribed), with the
static and the dynamic schedule, give byte-identical prediction exports and registry listings identical apart
from the run id (version). The summary's peak memory is the program's own, whatever its parent's size."""
import json
import os

from common import Checks, read_csv, run, workdir

c = Checks("layout")
d = workdir()
panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
run(["generate", "--out", panel, "--stores", "5", "--items", "7", "--length", "200", "--seed", "3"])
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales", "--out", lake])

layouts = {"1x1": (0, ["--threads", "1"], []),
           "2x2": (2, ["--threads", "2"], ["--bind-to", "none"]),
           "3x1": (3, ["--threads", "1"], []),
           "2x2 dynamic": (2, ["--threads", "2", "--schedule", "dynamic"], ["--bind-to", "none"]),
           "3x1 dynamic": (3, ["--threads", "1", "--schedule", "dynamic"], [])}
exports, listings = {}, {}
for name, (ranks, threads, flags) in layouts.items():
    reg, pred = (os.path.join(d, f"{kind}{name.replace(' ', '_')}.h5") for kind in ("reg", "pred"))
    # A small batch makes several result messages per rank, so their arrival order varies.
    summary = os.path.join(d, "summary.json")
    run(["train", "--lake", lake, "--horizon", "10", "--registry", reg, "--predictions", pred, "--batch", "3",
         "--quiet", "--summary-json", summary, *threads], mpi=ranks, mpi_flags=flags)
    with open(summary) as f:
        s = json.load(f)
    c.ok(sum(r["models"] for r in s["ranks"]) == 35, f"{name}: the ranks fitted every model once")
    c.ok(s["schedule"] == ("dynamic" if "dynamic" in name else "static"), f"{name}: summary names the schedule")
    c.ok(s["imbalance"] >= 1 and all(r["busy_seconds"] > 0 for r in s["ranks"]), f"{name}: busy seconds, imbalance")
    exports[name] = run(["predictions", "export", "--predictions", pred]).stdout
    rows = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
    for r in rows:
        del r["version"]
    listings[name] = rows

# The summary's peak memory is the program's own, also when its parent is large (a Python driver): getrusage's
# peak survives exec and would report the parent's 300 MB.
ballast = bytearray(300 * 1024 * 1024)
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
run(["train", "--lake", lake, "--horizon", "10", "--registry", os.path.join(d, "reg-peak.h5"), "--predictions",
     os.path.join(d, "pred-peak.h5"), "--quiet", "--summary-json", summary, "--threads", "1"])
del ballast
with open(summary) as f:
    peak = json.load(f)["ranks"][0]["peak_rss_mib"]
c.ok(5 < peak < 150, f"peak memory of a small run started by a 300 MB parent: {peak} MiB")

c.ok(exports["1x1"].count("\n") == 35 * 10 + 1, "export has every row")
c.ok(len(listings["1x1"]) == 35, "listing has every model")
for name in layouts:
    c.ok(exports[name] == exports["1x1"], f"predictions export {name} identical to 1x1")
    c.ok(listings[name] == listings["1x1"], f"registry listing {name} identical to 1x1 apart from version")
c.done()
