"""Same inputs, same outputs: 1 process x 1 thread, 2 ranks x 2 threads and 3 ranks (oversubscribed) give
byte-identical prediction exports and registry listings identical apart from the run id (version)."""
import os

from common import Checks, read_csv, run, workdir

c = Checks("layout")
d = workdir()
panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
run(["generate", "--out", panel, "--stores", "5", "--items", "7", "--length", "200", "--seed", "3"])
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales", "--out", lake])

layouts = {"1x1": (0, ["--threads", "1"], []),
           "2x2": (2, ["--threads", "2"], ["--bind-to", "none"]),
           "3x1": (3, ["--threads", "1"], [])}
exports, listings = {}, {}
for name, (ranks, threads, flags) in layouts.items():
    reg, pred = os.path.join(d, f"reg{name}.h5"), os.path.join(d, f"pred{name}.h5")
    # A small batch makes several result messages per rank, so their arrival order varies.
    run(["train", "--lake", lake, "--horizon", "10", "--registry", reg, "--predictions", pred, "--batch", "3",
         "--quiet", *threads], mpi=ranks, mpi_flags=flags)
    exports[name] = run(["predictions", "export", "--predictions", pred]).stdout
    rows = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
    for r in rows:
        del r["version"]
    listings[name] = rows

c.ok(exports["1x1"].count("\n") == 35 * 10 + 1, "export has every row")
c.ok(len(listings["1x1"]) == 35, "listing has every model")
for name in ("2x2", "3x1"):
    c.ok(exports[name] == exports["1x1"], f"predictions export {name} identical to 1x1")
    c.ok(listings[name] == listings["1x1"], f"registry listing {name} identical to 1x1 apart from version")
c.done()
