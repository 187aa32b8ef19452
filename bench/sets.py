"""The shared data sets (../shared/data) as the accuracy benchmarks use them: the long CSV unpacked into a work
folder, and R's Naive2 forecast of it (../shared/peers/r_peer.R, run once), which OWA is relative to.

With back=K the set is moved K horizons back in time: the real test rows are dropped and the last K*h rows of each
series' history become its test (of which the first h are scored), so that the same methods are scored on periods
their histories cover. A series that would keep fewer than 2h history rows is left out."""
import collections
import csv
import gzip
import os
import shutil
import subprocess


def produced(path, make):
    """Calls make(tmp) and puts tmp in place as path; on any failure or interruption tmp is removed and the error
    goes on, so that path is whole or absent (a later run with --reuse-r trusts what it finds)."""
    tmp = path + ".tmp"
    try:
        make(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _moved_back(src, dst, back):
    with open(src, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        series = collections.defaultdict(list)
        for row in reader:
            series[row[0]].append(row)
    split, t, h = header.index("split"), header.index("t"), header.index("h")

    def write(tmp):
        kept = 0
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for rows in series.values():
                train = sorted((r for r in rows if r[split] == "train"), key=lambda r: float(r[t]))
                horizon = int(rows[0][h])
                keep = len(train) - back * horizon
                if keep < 2 * horizon:
                    continue
                kept += 1
                for i, r in enumerate(train[:keep + horizon]):
                    r[split] = "train" if i < keep else "test"
                    w.writerow(r)
        if not kept:
            raise SystemExit(f"{src}: no series has {back + 2} horizons of history to move {back} back")

    produced(dst, write)


def prepare(name, work, shared, back=0):
    """(data, naive2): paths of the set's CSV and of R's Naive2 forecast file in `work`, made if missing."""
    data = os.path.join(work, name + ".csv")
    if not os.path.exists(data):
        def unpack(tmp):
            with gzip.open(os.path.join(shared, "data", name + ".csv.gz")) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
        produced(data, unpack)
    if back < 0:
        raise SystemExit(f"back must be 0 or more, not {back}")
    if back:
        moved = os.path.join(work, f"{name}.back{back}.csv")
        if not os.path.exists(moved):
            _moved_back(data, moved, back)
        data, name = moved, f"{name}.back{back}"
    naive2 = os.path.join(work, f"{name}.R.naive2.csv")
    if not os.path.exists(naive2):
        produced(naive2, lambda tmp: subprocess.run(["Rscript", os.path.join(shared, "peers", "r_peer.R"), data,
                                                     "naive2", tmp], check=True, capture_output=True))
    return data, naive2
