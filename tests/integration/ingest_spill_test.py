"""ingest --memory: rows past the budget are sorted into runs on a scratch file (--tmpdir) and merged. The lake is
the same, dataset for dataset and byte for byte, as with every row in memory (plain and gzip input, covariates,
gaps, rows in no order); a bad row in the second run is reported with its line, as in memory; nothing is left
in the scratch folder after success, an error, SIGTERM or SIGINT; a full scratch folder is a clear error; and
the memory used follows --memory. Runs the real binary; the full-folder case mounts a small tmpfs in a private
mount namespace (`unshare -m`, as root: CI runs as root)."""
import glob
import gzip
import os
import signal
import subprocess
import time

import h5py

from common import in_mount_namespace, lake_datasets as datasets, shuffled_panel, BINARY, Checks, run, workdir

c = Checks("ingest_spill")
d = workdir()
scratch = os.path.join(d, "scratch")
os.mkdir(scratch)
COLUMNS = ["--keys", "store,item", "--time", "date", "--target", "sales", "--covariates", "price,promo"]
# 200K of --memory leaves 100K for rows: 2,133 rows of 48 bytes a run (lines 2-2134 the first, 2135-4267 the second).
TINY = "200K"


def path(name):
    return os.path.join(d, name)


def ingest(src, out, *extra, check=True):
    return run(["ingest", "--input", src, *COLUMNS, "--out", out, *extra], check=check)


def attributes(lake):
    """The root attributes that do not record when and how the file was made."""
    with h5py.File(lake, "r") as f:
        return {k: repr(v) for k, v in f.attrs.items()
                if k not in ("created", "options", "command_line", "inputs", "host", "program_version")}


def leftovers():
    return sorted(os.listdir(scratch)) + sorted(glob.glob(path("*.tmp-*")))


def write_lines(name, lines, compress=False):
    opener = gzip.open if compress else open
    with opener(path(name), "wt", newline="") as f:
        f.write("\n".join(lines) + "\n")
    return path(name)


# A panel with covariates and gaps, its rows shuffled: every run holds rows of every series, in no order.
header, body = shuffled_panel(d, 6, 8, 400, 5, 1)
plain = write_lines("shuffled.csv", [header] + body)
packed = write_lines("shuffled.csv.gz", [header] + body, compress=True)
c.ok(len(body) > 4 * 2133, f"{len(body)} rows: more than four runs")

# 1. The same lake, spilled or not, plain or gzip.
held = ingest(plain, path("held.h5"))
c.ok("sorted run" not in held.stderr, f"1 GiB holds them all: {held.stderr}")
reference = datasets(path("held.h5"))
c.ok(sorted(reference) == ["covariates/price", "covariates/promo", "keys/item", "keys/store", "offsets", "start",
                           "target"], f"the lake's datasets: {sorted(reference)}")
for src, name in ((plain, "spilled.h5"), (packed, "spilled-gz.h5")):
    p = ingest(src, path(name), "--memory", TINY, "--tmpdir", scratch)
    c.ok("sorted runs" in p.stderr and scratch in p.stderr, f"{name}: says it spilled, and where: {p.stderr}")
    runs = int(p.stderr.split("holds: ")[1].split()[0])
    c.ok(runs >= 4, f"{name}: {runs} runs")
    got = datasets(path(name))
    c.ok(got.keys() == reference.keys() and all(got[k] == reference[k] for k in reference),
         f"{name}: every dataset byte for byte as in memory: {[k for k in reference if got.get(k) != reference[k]]}")
    c.ok(attributes(path(name)) == attributes(path("held.h5")), f"{name}: the lake's attributes")
    c.ok(leftovers() == [], f"{name}: nothing left in the scratch folder: {leftovers()}")
# The default scratch folder is the lake's.
p = ingest(plain, path("beside.h5"), "--memory", TINY)
c.ok(f"scratch file in {d}" in p.stderr, p.stderr)
c.ok(datasets(path("beside.h5")) == reference and leftovers() == [], "beside the output")

# Options: a --tmpdir that is no folder, a --memory that is no size or too small: usage errors, before any work.
for extra, says in ((["--tmpdir", path("nope")], "--tmpdir " + path("nope") + ": no such folder"),
                    (["--memory", "1X"], "--memory: '1X' is not a size in bytes"),
                    (["--memory", "1000"], "--memory: '1000' is less than 64K")):
    p = ingest(plain, path("refused.h5"), *extra, check=False)
    c.ok(p.returncode == 2 and says in p.stderr and not os.path.exists(path("refused.h5")), f"{extra}: {p.stderr}")

# 2. A bad row in the second run, found as it is read (a number) or only once every row is in (a repeat, a
# time off the grid): the line named, as in memory; no lake, nothing in the scratch folder.
bad = {}
t = list(body)
t[2998] = ",".join(t[2998].split(",")[:3] + ["x7"] + t[2998].split(",")[4:])  # line 3000
bad["number"] = (t, ":3000:4: cannot parse 'x7' in column 'sales' as a number")
t = list(body)
t[3498] = t[0]  # line 3500 repeats line 2
f = t[0].split(",")
bad["duplicate"] = (t, f":3500: duplicate (store={f[1]}, item={f[2]}, {f[0]}), first seen at line 2")
t = list(body)
t[2498] = t[2498][:10] + "T12:00:00" + t[2498][10:]  # line 2500: noon, not a day
bad["off grid"] = (t, ":2500:1: time in column 'date' is not on the grid of frequency D")
for name, (rows, expected) in bad.items():
    src = write_lines(name.replace(" ", "_") + ".csv", [header] + rows)
    messages = []
    for memory in (TINY, "1G"):
        out = path(name.replace(" ", "_") + ".h5")
        p = ingest(src, out, "--memory", memory, "--tmpdir", scratch, "--freq", "D", check=False)
        c.ok(p.returncode == 1, f"{name}, --memory {memory}: exit 1, not {p.returncode}: {p.stderr}")
        c.ok(src + expected in p.stderr, f"{name}, --memory {memory}: {src + expected!r} in {p.stderr!r}")
        c.ok(not os.path.exists(out) and leftovers() == [], f"{name}, --memory {memory}: nothing left: {leftovers()}")
        messages.append(p.stderr)
    c.ok(messages[0] == messages[1], f"{name}: the same message spilled or not: {messages}")

# 3. Signals: SIGTERM while runs are being spilled, SIGINT while the lake is being written: exit 128 + N,
# nothing left, neither scratch nor lake.
run(["generate", "--out", path("big.csv"), "--stores", "30", "--items", "50", "--length", "1000", "--seed", "2"])


def scratch_open(pid):
    """True when the process has its scratch file open (an unnamed file in the scratch folder)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith(scratch + "/") and target.endswith("(deleted)"):
                return True
    except OSError:
        pass
    return False


for sig, moment, ready in (
        (signal.SIGTERM, "spilling", lambda pid: scratch_open(pid)),
        (signal.SIGINT, "writing the lake", lambda pid: glob.glob(path("big.h5.tmp-*")) != [])):
    proc = subprocess.Popen([BINARY, "ingest", "--input", path("big.csv"), *COLUMNS, "--out", path("big.h5"),
                             "--memory", "1M", "--tmpdir", scratch], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while proc.poll() is None and not ready(proc.pid) and time.time() < deadline:
        time.sleep(0.002)
    c.ok(proc.poll() is None, f"{sig.name}: caught the run {moment}")
    proc.send_signal(sig)
    err = proc.communicate(timeout=60)[1]
    c.ok(proc.returncode == 128 + sig, f"{sig.name} while {moment}: exit {128 + sig}, not {proc.returncode}: {err}")
    c.ok(not os.path.exists(path("big.h5")) and leftovers() == [], f"{sig.name}: nothing left: {leftovers()}")

# 4. Memory follows --memory: 1.5 million rows (72 MB of them parsed) held, or in runs of 16M.
peaks = {}
for memory in ("1G", "16M"):
    proc = subprocess.Popen([BINARY, "ingest", "--input", path("big.csv"), *COLUMNS, "--out", path(f"big-{memory}.h5"),
                             "--memory", memory, "--tmpdir", scratch], stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    c.ok(os.waitstatus_to_exitcode(status) == 0, f"--memory {memory}: {proc.stderr.read()}")
    peaks[memory] = usage.ru_maxrss / 1024  # MiB
c.ok(datasets(path("big-1G.h5")) == datasets(path("big-16M.h5")), "the big lake is the same either way")
c.ok(peaks["16M"] < 16 + 48 and peaks["16M"] < peaks["1G"] - 40,
     f"peak memory with --memory 16M: {peaks['16M']:.0f} MiB (the program ~30 MiB, the rows 16); held: {peaks['1G']:.0f}")

# 5. A full scratch folder: an error naming it and the cause, exit 1, no lake, and the space given back.
if os.geteuid() == 0:
    mnt = path("mnt")
    os.mkdir(mnt)
    script = f"""set -u
mount -t tmpfs -o size=256k tmpfs {mnt}
{BINARY} ingest --input {plain} {' '.join(COLUMNS)} --out {path('full.h5')} --memory {TINY} --tmpdir {mnt} 2> {d}/full.err
echo $? > {d}/full.rc
df -k --output=used {mnt} | tail -1 > {d}/full.used
ls -a {mnt} > {d}/full.listing
umount {mnt}
"""
    p = in_mount_namespace(script)
    c.ok(p.returncode == 0, f"full-folder script ran: {p.returncode} {p.stderr}")
    read = lambda name: open(os.path.join(d, name)).read()
    c.ok(read("full.rc").strip() == "1", f"exit 1 on a full scratch folder: {read('full.err')}")
    c.ok(mnt in read("full.err") and "No space left on device" in read("full.err") and "--tmpdir" in read("full.err"),
         f"names the folder, the cause and the option: {read('full.err')}")
    c.ok(not os.path.exists(path("full.h5")) and glob.glob(path("full.h5*")) == [], "no lake, no temporary")
    c.ok(read("full.listing").split() == [".", ".."] and read("full.used").strip() == "0",
         f"the scratch folder empty and its space given back: {read('full.listing')} {read('full.used')}")
c.done()
