"""Outputs never replace inputs, survive a full disk and a signal intact, leave no temporaries behind, and stdout
that cannot be written is an error. Runs the real binary (under mpirun where it trains); the full-disk cases
mount a small tmpfs in a private mount namespace (`unshare -m`, as root: CI runs as root)."""
import glob
import json
import os
import signal
import subprocess
import time

from common import digest, in_mount_namespace, BINARY, MPIRUN, Checks, read_csv, run, workdir

c = Checks("safe_outputs")
d = workdir()


def path(name):
    return os.path.join(d, name)



def leftovers(folder):
    return sorted(glob.glob(os.path.join(folder, "*.tmp-*")) + glob.glob(os.path.join(folder, "*.old-*")))


# Data: a small panel (outputs fit in 200 KiB) and a bigger one (they do not).
for name, stores, items, length in (("small", 2, 3, 200), ("big", 40, 30, 400)):
    run(["generate", "--out", path(name + ".csv"), "--stores", str(stores), "--items", str(items),
         "--length", str(length)])
    run(["ingest", "--input", path(name + ".csv"), "--keys", "store,item", "--time", "date", "--target", "sales",
         "--covariates", "price,promo", "--out", path(name + ".h5")])
train = ["train", "--horizon", "7", "--models", "naive", "--quiet"]
run(train + ["--lake", path("small.h5"), "--registry", path("reg.h5"), "--predictions", path("pred.h5")])
lake_digest = digest(path("small.h5"))

# 1. Outputs never replace inputs, nor each other (compared by the real file, not the spelling).
os.symlink(path("small.h5"), path("alias.h5"))
for args, options in [
    (["--lake", path("small.h5"), "--registry", path("small.h5"), "--predictions", path("p2.h5")],
     ("--registry", "--lake")),
    (["--lake", path("small.h5"), "--registry", path("alias.h5"), "--predictions", path("p2.h5")],
     ("--registry", "--lake")),
    (["--lake", "small.h5", "--registry", "./r2.h5", "--predictions", "r2.h5"], ("--predictions", "--registry")),
]:
    p = run(train + args, check=False, cwd=d)
    c.ok(p.returncode == 2, f"refused as a usage error: {args}: {p.returncode} {p.stderr}")
    c.ok(all(o in p.stderr for o in options), f"the message names both options: {p.stderr}")
c.ok(digest(path("small.h5")) == lake_digest, "the lake is untouched")
p = run(["ingest", "--input", path("small.csv"), "--keys", "store,item", "--time", "date", "--target", "sales",
         "--out", path("small.csv")], check=False)
c.ok(p.returncode == 2 and "--out" in p.stderr and "--input" in p.stderr, f"ingest onto its input: {p.stderr}")
p = run(["predictions", "export", "--predictions", path("pred.h5"), "--out", path("pred.h5")], check=False)
c.ok(p.returncode == 2 and os.path.getsize(path("pred.h5")) > 1000, f"export onto its input: {p.stderr}")

# 2. A full disk: an error naming the file and the cause, the old outputs byte-identical, nothing left behind.
if os.geteuid() == 0:
    mnt = path("mnt")
    os.mkdir(mnt)
    script = f"""set -u
mount -t tmpfs -o size=200k tmpfs {mnt}
{BINARY} train --horizon 7 --models naive --quiet --lake {path('small.h5')} --registry {mnt}/reg.h5 --predictions {mnt}/pred.h5 >/dev/null || exit 10
sha256sum {mnt}/reg.h5 {mnt}/pred.h5 > {d}/before.txt
{BINARY} train --horizon 7 --models naive --quiet --lake {path('big.h5')} --registry {mnt}/reg.h5 --predictions {mnt}/pred.h5 2> {d}/train.err
echo $? > {d}/train.rc
{BINARY} ingest --input {path('big.csv')} --keys store,item --time date --target sales --out {mnt}/lake.h5 2> {d}/ingest.err
echo $? > {d}/ingest.rc
head -c 150000 /dev/zero > {mnt}/filler
{BINARY} predictions export --predictions {mnt}/pred.h5 --out {mnt}/pred.csv 2> {d}/export.err
echo $? > {d}/export.rc
rm {mnt}/filler
sha256sum {mnt}/reg.h5 {mnt}/pred.h5 > {d}/after.txt
ls -a {mnt} > {d}/listing.txt
"""
    script += f"umount {mnt}\n"
    p = in_mount_namespace(script)
    c.ok(p.returncode == 0, f"full-disk script ran: {p.returncode} {p.stderr}")
    read = lambda name: open(os.path.join(d, name)).read()
    c.ok(read("train.rc").strip() == "1", f"train on a full disk exits 1: {read('train.err')}")
    c.ok("No space left on device" in read("train.err") and "reg.h5" in read("train.err") + read("train.err"),
         f"train names the file and the cause: {read('train.err')}")
    c.ok("Segmentation" not in read("train.err") and ".tmp-" not in read("train.err"), read("train.err"))
    c.ok(read("before.txt") == read("after.txt"), "the previous registry and predictions survive byte-identical")
    c.ok(read("ingest.rc").strip() == "1" and "No space left on device" in read("ingest.err"),
         f"ingest on a full disk: {read('ingest.err')}")
    c.ok(read("export.rc").strip() == "1" and "No space left on device" in read("export.err"),
         f"export on a full disk: {read('export.err')}")
    names = read("listing.txt").split()
    # The failed train's journal stays, for a --resume once there is room.
    c.ok(sorted(names) == [".", "..", "pred.h5", "reg.h5", "reg.h5.journal"],
         f"nothing else left on the full disk: {names}")

# 3. Standard output that cannot be written is an error.
for args in (["registry", "list", "--registry", path("reg.h5")],
             ["registry", "show", "--registry", path("reg.h5"), "--key", "store=1,item=1"],
             ["predictions", "export", "--predictions", path("pred.h5")],
             train + ["--lake", path("small.h5"), "--registry", path("r3.h5"), "--predictions", path("p3.h5")]):
    with open("/dev/full", "w") as full:
        p = subprocess.run([BINARY, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    c.ok(p.returncode != 0 and "No space left on device" in p.stderr, f"{args[:2]} > /dev/full: {p.stderr}")

# 4. Signals: SIGTERM to mpirun and SIGINT to a single process stop the run, remove the temporaries, keep the
# previous outputs; a killed process's temporaries are removed by the next run.
before = (digest(path("reg.h5")), digest(path("pred.h5")))
# 1,200 series in batches of 20: the registry's temporary appears with the first batch, and the signal half a
# second later finds the run fitting (600 series, 300 a rank in one batch, once ended within that half second).
slow = ["train", "--horizon", "14", "--lake", path("big.h5"), "--registry", path("reg.h5"),
        "--predictions", path("pred.h5"), "--progress-every", "0.2", "--batch", "20"]


def start(mpi):
    cmd = ([*MPIRUN, "-n", "2"] if mpi else []) + [BINARY, *slow]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not glob.glob(path("reg.h5.tmp-*")) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # well into the fits
    return proc


for mpi, sig, code in ((True, signal.SIGTERM, None), (False, signal.SIGINT, 130), (False, signal.SIGTERM, 143)):
    proc = start(mpi)
    c.ok(proc.poll() is None and leftovers(d), "a run in progress has its temporaries")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    c.ok(proc.returncode != 0 if code is None else proc.returncode == code,
         f"stopped by {sig.name} ({'mpirun' if mpi else 'one process'}): exit {proc.returncode}, {err[-300:]}")
    if mpi and leftovers(d):
        # mpirun sends SIGKILL 1 s after passing SIGTERM on (odls_base_sigkill_timeout); on a loaded machine a
        # rank may not have run its handler by then, and its temporaries go as a kill -9's do: the next run
        # that writes the same outputs removes them.
        c.ok((digest(path("reg.h5")), digest(path("pred.h5"))) == before, "previous outputs intact")
        p = run(train + ["--lake", path("small.h5"), "--registry", path("reg.h5"), "--predictions", path("pred.h5")],
                check=False)
        c.ok(leftovers(d) == [] and "gone" in p.stderr, f"mpirun's late SIGKILL: cleaned by the next run: {p.stderr}")
        before = (digest(path("reg.h5")), digest(path("pred.h5")))
        continue
    c.ok(f"stopped by {sig.name}" in err, f"says why it stopped: {err[-300:]}")
    c.ok(leftovers(d) == [], f"no temporaries left: {leftovers(d)}")
    c.ok((digest(path("reg.h5")), digest(path("pred.h5"))) == before, "previous outputs intact")

proc = start(False)
proc.kill()
proc.communicate()
stale = leftovers(d)
c.ok(len(stale) == 2, f"kill -9 leaves its temporaries: {stale}")
p = run(train + ["--lake", path("small.h5"), "--registry", path("reg.h5"), "--predictions", path("pred.h5")])
c.ok(leftovers(d) == [] and "removed" in p.stderr and "gone" in p.stderr,
     f"the next run removes them and says so: {p.stderr}")

# 5. Devices and links: /dev/null stays a device, a link stays a link and its file is replaced.
run(["predictions", "export", "--predictions", path("pred.h5"), "--out", "/dev/null"])
c.ok(os.path.exists("/dev/null") and not os.path.isfile("/dev/null"), "/dev/null is still a device")
p = run(train + ["--lake", path("small.h5"), "--registry", "/dev/null", "--predictions", path("p4.h5")], check=False)
c.ok(p.returncode == 2 and "regular file" in p.stderr, f"an HDF5 output onto a device is refused: {p.stderr}")
open(path("real.csv"), "w").write("old")
os.symlink(path("real.csv"), path("link.csv"))
run(["predictions", "export", "--predictions", path("pred.h5"), "--out", path("link.csv")])
c.ok(os.path.islink(path("link.csv")) and open(path("real.csv")).read().startswith("store,item,step"),
     "export through a link replaces its file and keeps the link")
p = run(["generate", "--out", path("no/such/x.csv")], check=False)
c.ok(p.returncode == 2 and "no/such" in p.stderr and ".tmp-" not in p.stderr, f"missing folder: {p.stderr}")

# 6. Readers: JSON export equals the CSV export; the run summary as JSON.
csv_rows = read_csv(run(["predictions", "export", "--predictions", path("pred.h5")]).stdout)
json_rows = json.loads(run(["predictions", "export", "--predictions", path("pred.h5"), "--format", "json"]).stdout)
c.ok(len(json_rows) == len(csv_rows) > 0, "one JSON object per CSV row")
c.ok(all(str(j["store"]) == r["store"] and j["time"] == r["time"] and j["model"] == r["model"] and
         abs(j["forecast"] - float(r["forecast"])) <= 1e-9 * max(1, abs(j["forecast"]))
         for j, r in zip(json_rows, csv_rows)), "JSON rows match CSV rows")
p = run(train + ["--lake", path("small.h5"), "--registry", path("r5.h5"), "--predictions", path("p5.h5"),
                 "--summary-json", path("summary.json")], mpi=2)
s = json.load(open(path("summary.json")))
c.ok(s["models"] == 6 and len(s["ranks"]) == 2 and {r["rank"] for r in s["ranks"]} == {0, 1},
     f"summary JSON reports both ranks: {s}")
c.ok(s["run_id"] in p.stdout, "the same run as the printed summary")
c.ok(sorted(s) == ["chosen", "command_line", "done", "failed", "from_journal", "imbalance", "journal",
                   "journal_dropped", "journal_note", "journal_read_seconds", "journal_records", "lake", "lake_rows",
                   "models", "predictions", "ranks", "registry", "resolved", "run_id", "schedule", "seconds",
                   "source_series", "stopped", "with_notes"], f"summary JSON fields: {sorted(s)}")
real = {f: os.path.realpath(path(f)) for f in ("small.h5", "r5.h5", "p5.h5")}
c.ok((s["lake"], s["registry"], s["predictions"], s["journal"]) ==
     (real["small.h5"], real["r5.h5"], real["p5.h5"], real["r5.h5"] + ".journal") and
     s["command_line"].endswith(" train " + " ".join(train[1:]) + " --lake " + path("small.h5") + " --registry " +
                                path("r5.h5") + " --predictions " + path("p5.h5") + " --summary-json " +
                                path("summary.json")), f"summary JSON paths and command line: {s}")
c.ok(s["done"] == 6 and not s["stopped"] and s["schedule"] == "static" and s["imbalance"] >= 1 and
     s["seconds"] > 0 and s["ranks"][0]["write_seconds"] > 0, f"summary JSON counts and times: {s}")
# A run id that is not UTF-8 (the byte 0xE9): the summary JSON shows it as U+FFFD rather than failing the run.
p = subprocess.run([BINARY] + train + ["--lake", path("small.h5"), "--registry", path("r5b.h5"), "--predictions",
                   path("p5b.h5"), "--run-id", "R\udce9", "--summary-json", path("summary-b.json")],
                   capture_output=True)
c.ok(p.returncode == 0 and json.load(open(path("summary-b.json")))["run_id"] == "R\ufffd",
     f"a run id that is not UTF-8: {p.returncode} {p.stderr[-300:]}")

# 7. Progress: a line every --progress-every seconds from a clock, even with one batch (no batch events).
p = run(["train", "--horizon", "14", "--lake", path("big.h5"), "--registry", path("r6.h5"), "--predictions",
         path("p6.h5"), "--batch", "100000", "--progress-every", "0.2", "--threads", "1"])
ticks = [l for l in p.stderr.splitlines() if l.startswith("train:") and "ETA" in l]
c.ok(len(ticks) >= 3, f"progress lines while the only batch is fitted: {p.stderr[-500:]}")

# 8. A registry cut short says so in words, not in HDF5's.
data = open(path("reg.h5"), "rb").read()
open(path("cut.h5"), "wb").write(data[: len(data) // 2])
p = run(["registry", "list", "--registry", path("cut.h5")], check=False)
c.ok(p.returncode == 1 and "cut.h5" in p.stderr and "truncated" in p.stderr and "eof =" not in p.stderr,
     f"a truncated registry: {p.stderr}")

# 9. registry show: a key column named twice is a usage error.
p = run(["registry", "show", "--registry", path("reg.h5"), "--key", "store=1,store=1"], check=False)
c.ok(p.returncode == 2 and "twice" in p.stderr, f"--key store=1,store=1: {p.stderr}")
c.done()
