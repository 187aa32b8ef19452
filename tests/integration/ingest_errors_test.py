"""Malformed CSV: a non-zero exit, a message naming file and line (and column), and no output file."""
import os

from common import Checks, run, workdir

c = Checks("ingest_errors")
d = workdir()
GOOD = "date,store,item,sales\n2020-01-01,1,1,5\n2020-01-02,1,1,6\n"
cases = {
    "wrong_field_count": (GOOD + "2020-01-03,1,1\n", ":4:", "expected 4 fields, found 3"),
    "bad_number": (GOOD + "2020-01-03,1,1,abc\n", ":4:4:", "cannot parse 'abc'"),
    "bad_date": (GOOD + "2020-13-03,1,1,7\n", ":4:1:", "cannot parse '2020-13-03'"),
    "missing_column": ("date,store,item,qty\n2020-01-01,1,1,5\n", ":1:", "no target column named 'sales'"),
    "empty_file": ("", ":1:", "empty file"),
    "duplicate": (GOOD + "2020-01-03,1,2,1\n2020-01-02,1,1,9\n", ":5:",
                  "duplicate (store=1, item=1, 2020-01-02), first seen at line 3"),
    "duplicate_after_blank_line": (GOOD + "\n2020-01-03,1,1,7\n2020-01-03,1,1,8\n", ":6:",
                                   "duplicate (store=1, item=1, 2020-01-03), first seen at line 5"),
    "off_grid_after_blank_line": (GOOD + "\n\n2020-01-01T12:00:00,1,1,7\n", ":6:1:", "not on the grid"),
    "unterminated_quote": (GOOD + '2020-01-03,1,"1,7\n', ":4:", "unterminated"),
}
for name, (text, where, what) in cases.items():
    src = os.path.join(d, name + ".csv")
    out = os.path.join(d, name + ".h5")
    with open(src, "w") as f:
        f.write(text)
    p = run(["ingest", "--input", src, "--keys", "store,item", "--time", "date", "--target", "sales",
             "--freq", "D", "--out", out], check=False)
    c.ok(p.returncode != 0, f"{name}: non-zero exit")
    c.ok(src + where in p.stderr, f"{name}: message names {src}{where}: {p.stderr!r}")
    c.ok(what in p.stderr, f"{name}: message says {what!r}: {p.stderr!r}")
    c.ok(not any(f.startswith(name + ".h5") for f in os.listdir(d)), f"{name}: no output file left")

p = run(["ingest", "--input", os.path.join(d, "nope.csv"), "--keys", "k", "--time", "t", "--target", "y",
         "--out", os.path.join(d, "x.h5")], check=False)
c.ok(p.returncode != 0 and "nope.csv" in p.stderr, "missing input file")
p = run(["train", "--lake", os.path.join(d, "nope.h5"), "--horizon", "3", "--registry", os.path.join(d, "r.h5"),
         "--predictions", os.path.join(d, "p.h5")], check=False)
c.ok(p.returncode != 0 and "nope.h5" in p.stderr, f"train on a missing lake: {p.stderr!r}")
p = run(["train", "--lake", "x", "--horizon", "3", "--registry", "r", "--predictions", "p", "--bogus"], check=False)
c.ok(p.returncode == 2 and "bogus" in p.stderr, "unknown option is an error")
c.done()
