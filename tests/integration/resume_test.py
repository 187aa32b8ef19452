"""A killed train resumes: a run killed with SIGKILL part-way (one rank, or every process at once), or stopped
by SIGUSR1 under mpirun (exit 3, the journal complete), and run again with --resume ends with the registry
listing (version included) and the predictions export of an uninterrupted run with the same --run-id, byte for
byte, fitting none of the models its journal holds; a record cut short is dropped and its models fitted again;
a journal of another lake or other options is refused, naming the difference; the journal is gone once the
outputs are in place."""
import glob
import json
import os
import signal
import struct
import subprocess
import time
import zlib

from common import BINARY, MPIRUN, Checks, run, workdir

c = Checks("resume")
d = workdir()


def path(name):
    return os.path.join(d, name)


run(["generate", "--out", path("panel.csv"), "--stores", "6", "--items", "20", "--length", "250", "--seed", "5"])
run(["ingest", "--input", path("panel.csv"), "--keys", "store,item", "--time", "date", "--target", "sales",
     "--covariates", "price,promo", "--out", path("lake.h5")])
MODELS = 120
RUN_ID = "20260101T000000Z-test"
HYBRID = ["--map-by", "slot:PE=1", "--bind-to", "none"]  # 2 ranks x 2 threads on 2 cores


def train(reg, *extra):
    return ["train", "--lake", path("lake.h5"), "--horizon", "14", "--registry", path(reg + ".h5"),
            "--predictions", path(reg + "_pred.h5"), "--batch", "2", "--quiet", "--run-id", RUN_ID,
            "--summary-json", path(reg + ".json"), *extra]


def with_option(args, name=None, value=None):
    """`args` with option `name` set to `value` (replaced if there, else added)."""
    args = list(args)
    if name in args:
        args[args.index(name) + 1] = value
    elif name:
        args += [name, value]
    return args


def exports(reg):
    listing = run(["registry", "list", "--registry", path(reg + ".h5"), "--format", "csv"]).stdout
    preds = run(["predictions", "export", "--predictions", path(reg + "_pred.h5")]).stdout
    return listing, preds


def journal_items(reg, whole=None):
    """Models in the intact records of the journal, read as the program reads it (length + CRC-32). `whole`, a
    list, gets one flag per file: no byte after its last intact record."""
    items, records = set(), 0
    for f in sorted(glob.glob(path(reg + ".h5.journal/*.records"))):
        data = open(f, "rb").read()
        at = 0
        while at + 12 <= len(data):
            magic, size, crc = struct.unpack_from("<III", data, at)
            payload = data[at + 12:at + 12 + size]
            if magic != 0x314A4D4D or len(payload) != size or zlib.crc32(payload) != crc:
                break
            first, count = struct.unpack_from("<QQ", payload, 1)
            c.ok(not items & set(range(first, first + count)), f"{reg}: no model twice in the journal")
            items.update(range(first, first + count))
            records += 1
            at += 12 + size
        if whole is not None:
            whole.append(at == len(data))
    return items, records


def rank_pids(mpirun_pid):
    """The ranks mpirun started: {rank: pid} (each in a process group of its own)."""
    pids = {}
    for pid in subprocess.run(["pgrep", "-P", str(mpirun_pid)], capture_output=True, text=True).stdout.split():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except FileNotFoundError:
            continue
        for v in env:
            if v.startswith(b"OMPI_COMM_WORLD_RANK="):
                pids[int(v.split(b"=")[1])] = int(pid)
    return pids


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie, not yet reaped
        return f.read().rsplit(")", 1)[1].split()[0] == "Z"


def start(reg, ranks=2, threads="2", at_least=MODELS // 4, extra=()):
    """Starts train under mpirun and waits until its journal holds `at_least` models."""
    cmd = [*MPIRUN, *HYBRID, "-n", str(ranks), BINARY, *train(reg, "--threads", threads, *extra)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(journal_items(reg)[0]) < at_least and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    c.ok(proc.poll() is None, f"{reg}: still running when the journal holds {at_least} models")
    return proc


def start_and_kill(reg, victim):
    """SIGKILLs `victim` part-way: "rank1" (that rank's process; mpirun then ends the others) or "all" (mpirun and
    every rank at once, as a node failure would)."""
    proc = start(reg)
    pids = rank_pids(proc.pid)
    c.ok(sorted(pids) == [0, 1], f"found the ranks among mpirun's children: {pids}")
    for pid in ([proc.pid, *pids.values()] if victim == "all" else [pids[1]]):
        os.kill(pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    c.ok(proc.returncode != 0, f"{reg}: the killed run failed ({proc.returncode})")
    deadline = time.time() + 30
    while not all(gone(p) for p in pids.values()) and time.time() < deadline:
        time.sleep(0.05)
    c.ok(all(gone(p) for p in pids.values()), f"{reg}: no rank left running")
    c.ok(not os.path.exists(path(reg + ".h5")), f"{reg}: no registry from the killed run")


def summary(reg):
    with open(path(reg + ".json")) as f:
        return json.load(f)


# The uninterrupted run.
run(train("ref", "--threads", "2"), mpi=2, mpi_flags=HYBRID)
ref = exports("ref")
c.ok(ref[0].count("\n") == MODELS + 1 and RUN_ID in ref[0], "the reference registry has every model, of the run id")
c.ok(not os.path.exists(path("ref.h5.journal")), "a finished run leaves no journal")

# 1. SIGKILL of one rank at about a quarter; resumed with another layout and the dynamic schedule.
for victim, resume_layout in (("rank1", (2, "1", "dynamic")), ("all", (0, "2", "static"))):
    reg = "kill_" + victim
    start_and_kill(reg, victim)
    done, records = journal_items(reg)
    c.ok(MODELS // 4 <= len(done) < MODELS, f"{reg}: the journal holds part of the run ({len(done)} models)")
    ranks, threads, schedule = resume_layout
    p = run(train(reg, "--resume", "--threads", threads, "--schedule", schedule), mpi=ranks,
            mpi_flags=HYBRID if ranks else ())
    s = summary(reg)
    c.ok(s["from_journal"] == len(done) and s["journal_records"] == records,
         f"{reg}: took {len(done)} models in {records} records from the journal: {s['from_journal']}, "
         f"{s['journal_records']}")
    c.ok(sum(r["models"] for r in s["ranks"]) == MODELS - len(done),
         f"{reg}: fitted only the models the journal lacked: {[r['models'] for r in s['ranks']]}")
    c.ok(f"{len(done)} models taken from {records} records" in p.stdout, f"{reg}: the summary says so: {p.stdout}")
    c.ok(s["run_id"] == RUN_ID, f"{reg}: the run id is the journal's")
    got = exports(reg)
    c.ok(got[0] == ref[0], f"{reg}: registry listing (version included) identical to the uninterrupted run")
    c.ok(got[1] == ref[1], f"{reg}: predictions export identical to the uninterrupted run")
    c.ok(not os.path.exists(path(reg + ".h5.journal")), f"{reg}: journal removed once the outputs are in place")

# 2. A record cut short (SIGKILL in the middle of a write) is dropped, and its models fitted again.
reg = "torn"
start_and_kill(reg, "all")
done, records = journal_items(reg)
f = sorted(glob.glob(path(reg + ".h5.journal/*.records")))[0]
data = open(f, "rb").read()
size = struct.unpack_from("<I", data, 4)[0]
with open(f, "ab") as out:  # a copy of the file's first record, cut in the middle of its payload
    out.write(data[:12 + size // 2])
p = run(train(reg, "--resume", "--threads", "2"), mpi=2, mpi_flags=HYBRID)
s = summary(reg)
c.ok(s["from_journal"] == len(done) and len(s["journal_dropped"]) == 1 and "cut short" in s["journal_dropped"][0],
     f"the torn record is dropped: {s['journal_dropped']}")
c.ok("dropped" in p.stdout, f"the summary says a record was dropped: {p.stdout}")
c.ok(exports(reg) == ref, "after a torn record: outputs identical to the uninterrupted run")

# 3. SIGUSR1 to mpirun (as Slurm's --signal=B:USR1@120 through the batch script's trap): every rank finishes the
# series in hand and journals it, the run exits 3 without writing outputs, and --resume goes on, twice.
reg = "usr1"
for attempt in (1, 2):
    proc = start(reg, at_least=MODELS // 4 * attempt, extra=["--resume"] if attempt > 1 else [])
    proc.send_signal(signal.SIGUSR1)
    sent = time.time()
    out, err = proc.communicate(timeout=60)
    c.ok(proc.returncode == 3, f"SIGUSR1 (attempt {attempt}): exit 3: {proc.returncode} {err[-500:]}")
    c.ok(time.time() - sent < 10, f"SIGUSR1: stopped within seconds ({time.time() - sent:.1f} s)")
    whole = []
    done, records = journal_items(reg, whole)
    s = summary(reg)
    c.ok(s["stopped"] and s["done"] == len(done) < MODELS and all(whole),
         f"SIGUSR1: the journal holds every model done ({s['done']}, {len(done)}), no record cut: {whole}")
    c.ok("--resume" in err and "stopped by SIGUSR1" in err and "by SIGUSR1" in out, f"SIGUSR1: says so and how to go on: {out} {err}")
    c.ok(not os.path.exists(path(reg + ".h5")) and not glob.glob(path(reg + "*.tmp-*")),
         "SIGUSR1: no outputs, no temporaries")
p = run(train(reg, "--resume", "--threads", "2"), mpi=2, mpi_flags=HYBRID)
s = summary(reg)
c.ok(s["from_journal"] == len(done) and sum(r["models"] for r in s["ranks"]) == MODELS - len(done),
     f"after SIGUSR1: nothing fitted twice: {s['from_journal']} from the journal")
c.ok(exports(reg) == ref, "after SIGUSR1 twice: outputs identical to the uninterrupted run")

# 4. A journal of other options or another lake is refused, naming the difference, and kept.
reg = "other"
start_and_kill(reg, "all")
done, _ = journal_items(reg)
p = run(with_option(train(reg, "--resume", "--threads", "1"), "--run-id", "another"), check=False)
c.ok(p.returncode != 0 and "--run-id another" in p.stderr, f"--run-id other than the journal's: {p.stderr}")
for option, named, touch in ((("--horizon", "7"), "--horizon", False), (("--seed", "2"), "--seed", False),
                             ((), "lake file", True)):
    args = with_option(train(reg, "--resume", "--threads", "1"), *option)
    if touch:
        os.utime(path("lake.h5"))
    p = run(args, check=False)
    c.ok(p.returncode != 0 and named in p.stderr and "journal" in p.stderr,
         f"a journal of another run is refused, naming {named}: {p.returncode} {p.stderr}")
    c.ok(journal_items(reg)[0] == done and not os.path.exists(path(reg + ".h5")),
         f"refused ({named}): the journal is kept, nothing written")
# The lake was touched: the journal no longer fits; a run without --resume starts afresh and says so.
p = run(train(reg, "--threads", "1"))
c.ok("removed the journal of run " + RUN_ID in p.stdout and exports(reg) == ref,
     f"without --resume: a fresh run that replaces the journal: {p.stdout}")
p = run(train("fresh", "--resume", "--threads", "1", "--models", "naive"))
c.ok("no journal to resume" in p.stdout and summary("fresh")["from_journal"] == 0, "--resume with no journal: a fresh run")
c.done()
