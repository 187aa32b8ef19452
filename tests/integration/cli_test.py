"""The command-line contract: --help on every subcommand, --version, job files (common keys + own section,
unknown keys rejected, command line overrides), and a plain single-process train without a launcher."""
import os

from common import Checks, read_csv, run, workdir

c = Checks("cli")
d = workdir()
c.ok(run(["--version"]).stdout.startswith("manymodels "), "--version")
for cmd in (["generate"], ["ingest"], ["train"], ["registry", "list"], ["registry", "show"], ["promote"],
            ["predictions", "export"]):
    p = run([*cmd, "--help"])
    c.ok("usage: manymodels " + " ".join(cmd) in p.stdout and "--config" in p.stdout, f"{cmd} --help")

job = os.path.join(d, "job.ini")
with open(job, "w") as f:
    f.write(f"""lake = {d}/lake.h5
registry = {d}/reg.h5
predictions = {d}/pred.h5
horizon = 7

[generate]
out = {d}/panel.csv
stores = 2
items = 3
length = 90

[ingest]
input = {d}/panel.csv
keys = store,item
time = date
target = sales

[train]
models = naive,snaive
quiet = true

[promote]
rule = mase<1

[registry]
registry = {d}/reg_section.h5
""")
run(["generate", "--config", job])
run(["ingest", "--config", job])
run(["train", "--config", job, "--horizon", "3"])  # command line wins; runs without mpirun
preds = read_csv(run(["predictions", "export", "--predictions", f"{d}/pred.h5"]).stdout)
c.ok(len(preds) == 6 * 3, f"job file + override: 6 series x horizon 3 (got {len(preds)})")
c.ok({p["model"] for p in preds} <= {"Naive", "SNaive(7)"}, "models from the [train] section")
p = run(["registry", "list", "--config", job], check=False)
c.ok(p.returncode != 0 and "reg_section.h5" in p.stderr,
     f"a key of the command's own section overrides the common key: {p.stderr}")

with open(job, "a") as f:
    f.write("\n[train]\nhorizn = 3\n")
p = run(["train", "--config", job], check=False)
c.ok(p.returncode == 2 and "horizn" in p.stderr, f"unknown key in own section: {p.stderr!r}")
bad = os.path.join(d, "bad.ini")
with open(bad, "w") as f:
    f.write("colour = blue\n")
p = run(["generate", "--config", bad, "--out", f"{d}/x.csv"], check=False)
c.ok(p.returncode == 2 and "colour" in p.stderr, "unknown common key")
p = run(["train", "--lake", f"{d}/lake.h5", "--horizon", "3", "--registry", f"{d}/r.h5", "--predictions",
         f"{d}/p.h5", "--models", "prophet"], check=False)
c.ok(p.returncode == 2 and "prophet" in p.stderr, f"unknown model name is a usage error: {p.stderr}")
base = ["train", "--lake", f"{d}/lake.h5", "--registry", f"{d}/r.h5", "--predictions", f"{d}/p.h5"]
for extra, word in ((["--horizon", "3", "--max-history", "5abc"], "--max-history"),
                    (["--horizon", "3", "--ensemble", "xyz"], "--ensemble"),
                    (["--horizon", "3", "--backtest-windows", "1000000000"], "--backtest-windows")):
    p = run(base + extra, check=False, mpi=2)
    c.ok(p.returncode == 2 and word in p.stderr and "MPI_ABORT" not in p.stderr,
         f"{extra}: a usage error before MPI starts: {p.returncode} {p.stderr}")
p = run(base + ["--horizon", "100000000"], check=False)
c.ok(p.returncode == 1 and "longest series" in p.stderr, f"a horizon longer than any series: {p.stderr}")
c.done()
