"""ingest under mpirun: each rank parses its own part of the input (byte ranges of plain files, whole gzip files),
then the rows are exchanged so that each rank merges and encodes its own range of the lake's chunks, which rank 0
writes. 1, 2 and 3 ranks give the same lake, dataset for dataset and byte for byte,
from one file, from several files (plain and gzip, named or a glob) and with a tiny --memory; a bad row in the
second rank's range is reported once, with its exact FILE:LINE:COLUMN, a non-zero exit and no lake; a cut that
would fall inside a quoted field with a line break reads that file on one rank (same lake, same line numbers);
times of another kind, or a repeated row, on another rank are the error one rank reports; --append is refused
with several ranks.
Runs the real binary under real mpirun."""
import glob
import gzip
import os

from common import lake_datasets, shuffled_panel, Checks, run, workdir

c = Checks("ingest_ranks")
d = workdir()
COLUMNS = ["--keys", "store,item", "--time", "date", "--target", "sales", "--covariates", "price,promo"]


def path(name):
    return os.path.join(d, name)


def ingest(src, out, ranks, *extra, check=True):
    return run(["ingest", "--input", src, *COLUMNS, "--out", path(out), *extra], mpi=ranks, check=check)


def write_lines(name, lines, compress=False):
    opener = gzip.open if compress else open
    with opener(path(name), "wt", newline="") as f:
        f.write("\n".join(lines) + "\n")
    return path(name)


def leftovers():
    return sorted(glob.glob(path("*.tmp-*")) + glob.glob(path("bad*.h5")))


# A panel with covariates and gaps, its rows shuffled.
header, body = shuffled_panel(d, 5, 6, 300, 7, 2)
plain = write_lines("shuffled.csv", [header] + body)
n = len(body)

# 1. One file: the same lake on 1, 2 and 3 ranks (one rank under mpirun, and without it).
ingest(plain, "alone.h5", 0)
reference = lake_datasets(path("alone.h5"))
for ranks in (1, 2, 3):
    p = ingest(plain, f"r{ranks}.h5", ranks)
    c.ok(lake_datasets(path(f"r{ranks}.h5")) == reference, f"{ranks} ranks: the same lake as one process")
    c.ok(p.stderr.count("ingest: ") == 1, f"{ranks} ranks: the summary printed once: {p.stderr}")

# 2. A tiny --memory on every rank: runs spilled on each, the same lake.
for ranks in (2, 3):
    p = ingest(plain, f"tiny{ranks}.h5", ranks, "--memory", "150K", "--tmpdir", d)
    c.ok("sorted run" in p.stderr and "per rank" in p.stderr, f"{ranks} ranks spilled: {p.stderr}")
    c.ok(lake_datasets(path(f"tiny{ranks}.h5")) == reference, f"{ranks} ranks, tiny --memory: the same lake")

# 3. A bad row in the second rank's byte range (past the middle of the file with 2 ranks, in the middle third
# with 3), and a later one in the third rank's: the first is reported, once, as one process reports it.
bad = list(body)
first_bad, later_bad = int(n * 0.6), int(n * 0.9)
for i, value in ((first_bad, "12x"), (later_bad, "oops")):
    fields = bad[i].split(",")
    fields[3] = value
    bad[i] = ",".join(fields)
bad_csv = write_lines("badrow.csv", [header] + bad)
expected = f"{bad_csv}:{first_bad + 2}:4: cannot parse '12x' in column 'sales' as a number"
for ranks in (0, 2, 3):
    p = ingest(bad_csv, f"bad{ranks}.h5", ranks, check=False)
    c.ok(p.returncode == 1, f"{ranks} ranks: exit 1 on a bad row, got {p.returncode}: {p.stderr}")
    c.ok(p.stderr.count(expected) == 1, f"{ranks} ranks: the error once, with its line and column: {p.stderr}")
    c.ok("oops" not in p.stderr, f"{ranks} ranks: only the first error: {p.stderr}")
    c.ok(leftovers() == [], f"{ranks} ranks: no lake written: {leftovers()}")

# 4. Several files, plain and gzip (gzip files go whole to a rank): the lake of the same rows in one file.
third = n // 3
parts = [body[:third], body[third:2 * third], body[2 * third:]]
named = ",".join([write_lines("part0.csv", [header] + parts[0]),
                  write_lines("part1.csv.gz", [header] + parts[1], compress=True),
                  write_lines("part2.csv", [header] + parts[2])])
os.mkdir(path("gz"))
# Each gzip part's header with its columns in another order: each file's header names its own.
order = [3, 0, 5, 1, 2, 4]
for k, rows in enumerate(parts):
    write_lines(f"gz/part{k}.csv.gz", [",".join(header.split(",")[j] for j in order)] +
                [",".join(r.split(",")[j] for j in order) for r in rows], compress=True)
for ranks in (0, 2, 3):
    ingest(named, f"named{ranks}.h5", ranks)
    c.ok(lake_datasets(path(f"named{ranks}.h5")) == reference, f"{ranks} ranks: plain and gzip files, the same lake")
    ingest(path("gz/*.csv.gz"), f"glob{ranks}.h5", ranks)
    c.ok(lake_datasets(path(f"glob{ranks}.h5")) == reference, f"{ranks} ranks: a glob of gzip files, the same lake")
# A bad row in the gzip part: its file and line.
rows = list(parts[1])
rows[5] = rows[5].split(",", 1)[0] + ",,1,3,4.5,0"  # empty store key
write_lines("gz/part1.csv.gz", [header] + rows, compress=True)
for ranks in (0, 2, 3):
    p = ingest(path("gz/*.csv.gz"), f"bad{ranks}.h5", ranks, check=False)
    want = f"{path('gz/part1.csv.gz')}:7:2: empty key 'store'"
    c.ok(p.returncode == 1 and p.stderr.count(want) == 1, f"{ranks} ranks: the gzip file's line: {p.stderr}")
    c.ok(leftovers() == [], f"{ranks} ranks: no lake written: {leftovers()}")

# 5. A quoted field holding line breaks across the middle of the file: read on one rank, the same lake and
# the same line numbers as one process.
def with_quoted(rows, broken_at=None):
    """Quoted text keys; the middle row's store name holds as many line breaks as the other rows have bytes, so
    it spans about a quarter to three quarters of the file: every cut of 2 or 3 ranks falls inside its quotes."""
    size = sum(len(r) + 3 for r in rows)
    out = []
    for i, r in enumerate(rows):
        f = r.split(",")
        f[1] = f'"s{f[1]}"'
        if i == len(rows) // 2:
            f[1] = '"s' + "\n" * size + 'x"'
        if i == broken_at:
            f[3] = "bad"
        out.append(",".join(f))
    return out

quoted = write_lines("quoted.csv", [header] + with_quoted(body))
ingest(quoted, "quoted0.h5", 0)
quoted_lake = lake_datasets(path("quoted0.h5"))
for ranks in (2, 3):
    ingest(quoted, f"quoted{ranks}.h5", ranks)
    c.ok(lake_datasets(path(f"quoted{ranks}.h5")) == quoted_lake, f"{ranks} ranks: a line break in quotes, the same lake")
quoted_bad = write_lines("quoted_bad.csv", [header] + with_quoted(body, broken_at=int(n * 0.8)))
one = ingest(quoted_bad, "bad0.h5", 0, check=False)
c.ok(one.returncode == 1 and ":4: cannot parse 'bad'" in one.stderr, f"one process: {one.stderr}")
for ranks in (2, 3):
    p = ingest(quoted_bad, f"bad{ranks}.h5", ranks, check=False)
    c.ok(p.returncode == 1 and p.stderr.count(one.stderr.strip()) == 1,
         f"{ranks} ranks: the line one process reports ({one.stderr.strip()}): {p.stderr}")

# 6. Integer periods where the input's first row has a date, first seen by the second rank: one rank's error.
mixed = list(body)
fields = mixed[int(n * 0.7)].split(",")
fields[0] = "17"
mixed[int(n * 0.7)] = ",".join(fields)
mixed_csv = write_lines("mixed.csv", [header] + mixed)
one = ingest(mixed_csv, "bad0.h5", 0, check=False)
c.ok(one.returncode == 1 and "mixes integer periods with dates" in one.stderr, f"one process: {one.stderr}")
for ranks in (2, 3):
    p = ingest(mixed_csv, f"bad{ranks}.h5", ranks, check=False)
    c.ok(p.returncode == 1 and p.stderr.count(one.stderr.strip()) == 1, f"{ranks} ranks: {p.stderr}")
    c.ok(leftovers() == [], f"{ranks} ranks: no lake written: {leftovers()}")

# 7. A row repeated in the second rank's range of a row in the first's: the repeat, found in rank 0's merge.
repeated = list(body)
repeated.insert(int(n * 0.8), body[int(n * 0.1)])
repeated_csv = write_lines("repeated.csv", [header] + repeated)
one = ingest(repeated_csv, "bad0.h5", 0, check=False)
c.ok(one.returncode == 1 and f"{repeated_csv}:{int(n * 0.8) + 2}: duplicate" in one.stderr and
     f"first seen at line {int(n * 0.1) + 2}" in one.stderr, f"one process: {one.stderr}")
for ranks in (2, 3):
    p = ingest(repeated_csv, f"bad{ranks}.h5", ranks, check=False)
    c.ok(p.returncode == 1 and p.stderr.count(one.stderr.strip()) == 1, f"{ranks} ranks: {p.stderr}")
    c.ok(leftovers() == [], f"{ranks} ranks: no lake written: {leftovers()}")

# 8. A lake of four chunks (65,536 slots each): every rank of 2 or 3 owns a range of them. The same lake, also
# with runs spilled; a repeat of a row of the last series, early in the input (rank 0's part), is found by the
# last rank and reported as one process reports it.
header4, body4 = shuffled_panel(d, 12, 20, 1000, 11, 3)
wide_csv = write_lines("wide.csv", [header4] + body4)
ingest(wide_csv, "wide0.h5", 0)
wide = lake_datasets(path("wide0.h5"))
c.ok(len(wide["target"][2]) // 8 > 3 * 65536, f"the lake spans four chunks: {len(wide['target'][2]) // 8} slots")
for ranks, extra in ((2, []), (3, []), (3, ["--memory", "2M", "--tmpdir", d])):
    p = ingest(wide_csv, f"wide{ranks}{len(extra)}.h5", ranks, *extra)
    c.ok(lake_datasets(path(f"wide{ranks}{len(extra)}.h5")) == wide, f"{ranks} ranks {extra}: the same lake: {p.stderr}")
last = max(body4, key=lambda line: tuple(int(v) for v in line.split(",")[1:3]))
repeated4 = list(body4)
repeated4.insert(10, last)
repeated4_csv = write_lines("repeated4.csv", [header4] + repeated4)
one = ingest(repeated4_csv, "bad0.h5", 0, check=False)
c.ok(one.returncode == 1 and "duplicate (store=12, item=20, " in one.stderr and "first seen at line 12" in one.stderr,
     f"one process: {one.stderr}")
for ranks in (2, 3):
    p = ingest(repeated4_csv, f"bad{ranks}.h5", ranks, check=False)
    c.ok(p.returncode == 1 and p.stderr.count(one.stderr.strip()) == 1, f"{ranks} ranks: {p.stderr}")
    c.ok(leftovers() == [], f"{ranks} ranks: no lake written: {leftovers()}")

# 9. --append stays on one rank.
p = run(["ingest", "--input", plain, *COLUMNS, "--out", path("alone.h5"), "--append"], mpi=2, check=False)
c.ok(p.returncode == 2 and p.stderr.count("--append runs on one rank") == 1, f"--append on 2 ranks: {p.stderr}")
c.ok(lake_datasets(path("alone.h5")) == reference, "--append refused: the lake as it was")

c.done()
