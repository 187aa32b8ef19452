"""Helpers for the integration tests: run the real manymodels binary (alone or under mpirun) in a temp dir."""
import atexit
import csv
import datetime
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile

BINARY = os.environ.get("MANYMODELS", "manymodels")
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe"]


def run(args, mpi=0, check=True, env_extra=None, cwd=None, mpi_flags=(), prefix=(), timeout=600):
    """`prefix`: a command that runs the rest (such as entering a namespace)."""
    cmd = [*prefix] + ([*MPIRUN, *mpi_flags, "-n", str(mpi)] if mpi else []) + [BINARY, *args]
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    if check and p.returncode != 0:
        sys.stderr.write(f"command failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}\n")
        raise SystemExit(1)
    return p


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


class Checks:
    """Counts checks; exits non-zero on the first failure with a message."""

    def __init__(self, name):
        self.name, self.n = name, 0

    def ok(self, cond, msg):
        self.n += 1
        if not cond:
            sys.stderr.write(f"{self.name}: FAILED: {msg}\n")
            raise SystemExit(1)

    def done(self):
        print(f"{self.name}: {self.n} checks passed")


def workdir():
    """A temp folder, removed when the test ends, passed or failed (MM_KEEP_WORKDIR=1 keeps it to look at)."""
    d = tempfile.mkdtemp(prefix="mm_it_")
    if not os.environ.get("MM_KEEP_WORKDIR"):
        atexit.register(shutil.rmtree, d, True)
    return d


def digest(path):
    """SHA-256 of a file's bytes: to check an output or input survived byte for byte."""
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def panel_and_last_week(d, seed):
    """A generated daily panel (3 stores x 5 items x 160 days, no gaps) in d/panel.csv, split into d/old.csv (all but
    the last 7 days) and d/week.csv (those days). Returns (old, week, the panel's body rows, its last day)."""
    panel, old, week = (os.path.join(d, f) for f in ("panel.csv", "old.csv", "week.csv"))
    run(["generate", "--out", panel, "--stores", "3", "--items", "5", "--length", "160", "--seed", str(seed),
         "--intermittent-share", "0", "--missing-share", "0"])
    with open(panel) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    last_day = max(r[0] for r in body)
    cut = (datetime.date.fromisoformat(last_day) - datetime.timedelta(days=7)).isoformat()
    for path, keep in ((old, lambda r: r[0] <= cut), (week, lambda r: r[0] > cut)):
        with open(path, "w", newline="") as f:
            csv.writer(f).writerows([header] + [r for r in body if keep(r)])
    return old, week, body, last_day


def run_then_clean(body, clean):
    """body(), then clean() whatever happens: also when body fails or SIGINT, SIGTERM or SIGHUP arrives (which end
    the test with 128 + the signal's number); SIGINT and SIGTERM are ignored while clean() runs."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, stop)
    try:
        body()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        clean()


def in_mount_namespace(script, timeout=300):
    """Runs a bash script in a private mount namespace (`unshare -m`, as root), where it may mount a small tmpfs
    to fill. Inside a chroot (a fresh-machine check) "/" is no mount point and making it private fails, so the
    script then runs in a namespace that keeps the parent's propagation: it must unmount what it mounts."""
    p = subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0 and "propagation" in p.stderr:
        p = subprocess.run(["unshare", "-m", "--propagation", "unchanged", "bash", "-c", script],
                           capture_output=True, text=True, timeout=timeout)
    return p


def lake_datasets(lake):
    """Every dataset of a lake: name -> (type, shape, bytes)."""
    import h5py
    out = {}
    with h5py.File(lake, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = obj[()]
                out[name] = (str(obj.dtype), a.shape, a.tobytes() if a.dtype.kind != "O" else repr(list(a)))
        f.visititems(visit)
    return out


def shuffled_panel(d, stores, items, length, seed, order_seed):
    """A generated panel with covariates and gaps (5% of the days missing), in d: its header and its rows
    shuffled (random.Random(order_seed)), so any part of them holds rows of every series, in no order."""
    import random
    run(["generate", "--out", os.path.join(d, "panel.csv"), "--stores", str(stores), "--items", str(items),
         "--length", str(length), "--missing-share", "0.05", "--seed", str(seed)])
    with open(os.path.join(d, "panel.csv")) as f:
        lines = f.read().splitlines()
    body = lines[1:]
    random.Random(order_seed).shuffle(body)
    return lines[0], body
