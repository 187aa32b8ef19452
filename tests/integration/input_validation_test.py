"""Input that is quietly wrong is refused (with FILE:LINE:COLUMN or the option named, exit 1 for input and 2 for
usage, and no output file), or accepted properly (a byte-order mark, multi-member gzip)."""
import gzip
import os
import zlib

from common import Checks, run, workdir

c = Checks("input_validation")
d = workdir()
GOOD = "date,store,item,sales\n2020-01-01,1,1,5\n2020-01-02,1,1,6\n2020-01-03,1,1,7\n"
INGEST = ["--keys", "store,item", "--time", "date", "--target", "sales", "--freq", "D"]


def write(name, data):
    path = os.path.join(d, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path


def no_output(stem):
    return not any(f.startswith(stem) for f in os.listdir(d))


def ingest_ok(name, path, args=INGEST):
    out = os.path.join(d, name + ".h5")
    p = run(["ingest", "--input", path, *args, "--out", out], check=False)
    c.ok(p.returncode == 0 and os.path.exists(out), f"{name}: ingested: {p.stderr!r}")
    return p


def ingest_fails(name, path, says, code=1, args=INGEST):
    """Ingest fails with exit `code`, a message holding each of `says`, and no output file."""
    out = os.path.join(d, name + ".h5")
    p = run(["ingest", "--input", path, *args, "--out", out], check=False)
    c.ok(p.returncode == code, f"{name}: exit {code}, got {p.returncode}: {p.stderr!r}")
    for s in says:
        c.ok(s in p.stderr, f"{name}: message says {s!r}: {p.stderr!r}")
    c.ok(no_output(name + ".h5"), f"{name}: no output file left")
    return p


# 1. A UTF-8 byte-order mark (Excel's export) is skipped, plain and gzip: the first column's name matches.
BOM = b"\xef\xbb\xbf"
ingest_ok("bom_plain", write("bom.csv", BOM + GOOD.encode()))
ingest_ok("bom_gzip", write("bom.csv.gz", gzip.compress(BOM + GOOD.encode())))

# 2. gzip: several members are one stream; cut short anywhere, or a bad trailer, is an error naming the file.
body = GOOD + "".join(f"2020-01-{day:02d},2,{item},{day * item}\n" for day in range(1, 29) for item in range(1, 9))
m1 = gzip.compress(body.encode())
m2 = gzip.compress("".join(f"2020-02-{day:02d},3,1,{day}\n" for day in range(1, 29)).encode())
ingest_ok("two_members", write("two.csv.gz", m1 + m2))
ingest_ok("one_member", write("one.csv.gz", m1))  # a complete member and nothing after is a whole file
TRUNCATED = "truncated gzip input (unexpected end of file)"
for name, data in {
    "cut_in_member1": m1[: len(m1) // 2],
    "cut_in_trailer": m1[:-3],
    "member2_one_byte": m1 + m2[:1],
    "member2_header": m1 + m2[:5],
    "member2_body": m1 + m2[: len(m2) // 2],
    "member2_trailer": m1 + m2[:-1],
}.items():
    path = write(name + ".csv.gz", data)
    ingest_fails(name, path, [path + ": " + TRUNCATED])
crc = bytearray(m1)
crc[-8] ^= 0xFF
path = write("crc.csv.gz", bytes(crc))
ingest_fails("crc", path, [path + ": gzip CRC error"])
path = write("garbage.csv.gz", m1 + b"not gzip")
ingest_fails("garbage", path, [path + ": data after the end of the gzip stream"])
# The same with the gzip tool's own output (zlib.compressobj with wbits 31 writes what gzip(1) does).
co = zlib.compressobj(9, zlib.DEFLATED, 31)
tool = co.compress(body.encode()) + co.flush()
path = write("tool.csv.gz", tool[:-6])
ingest_fails("tool", path, [path + ": " + TRUNCATED])

# 3. Duplicate header names: FILE:1:COLUMN naming both columns.
path = write("dup_header.csv", "date,store,item,store,sales\n2020-01-01,1,1,1,5\n")
ingest_fails("dup_header", path, [path + ":1:4: duplicate column name 'store' (columns 2 and 4)"])

# 6. Invalid UTF-8 in a key value: FILE:LINE:COLUMN; offending text in messages shown with \xNN escapes.
path = write("bad_utf8.csv", GOOD.encode() + b"2020-01-01,caf\xe9,1,5\n")
ingest_fails("bad_utf8", path, [path + ":5:2: key 'store' value 'caf\\xE9' is not valid UTF-8"])
path = write("nul_target.csv", GOOD + "2020-01-04,1,1,5\x00\x07x\n")
p = ingest_fails("nul_target", path, [path + ":5:4: cannot parse '5\\x00\\x07x' in column 'sales'"])
c.ok("\x00" not in p.stderr and "\x07" not in p.stderr, "no raw control bytes reach the terminal")
ingest_ok("utf8_keys", write("utf8.csv", GOOD + "2020-01-01,Z\u00fcrich,\u6771\u4eac,5\n"))

# A directory given as --input.
ingest_fails("dir_input", d, [d + ": is a directory"])

# Usage errors: exit 2, the option (or job file and section) named, no output file.
good = write("good.csv", GOOD)


def usage_fails(name, args, says):
    p = run(args, check=False)
    c.ok(p.returncode == 2, f"{name}: exit 2, got {p.returncode}: {p.stderr!r}")
    for s in says:
        c.ok(s in p.stderr, f"{name}: message says {s!r}: {p.stderr!r}")
    c.ok(no_output(name), f"{name}: no output file left")


def ingest_args(name, keys="store,item", more=()):
    return ["ingest", "--input", good, "--keys", keys, "--time", "date", "--target", "sales",
            *more, "--out", os.path.join(d, name + ".h5")]


# 3. A key column twice; --covariates twice or naming the target, time or a key column.
usage_fails("keys_twice", ingest_args("keys_twice", "store,store"), ["--keys: column 'store' is named twice"])
usage_fails("keys_empty", ingest_args("keys_empty", ""), ["--keys names no column"])
usage_fails("cov_twice", ingest_args("cov_twice", more=["--covariates", "sales2,sales2"]), ["--covariates", "twice"])
usage_fails("cov_target", ingest_args("cov_target", more=["--covariates", "sales"]),
            ["--covariates: column 'sales' is already the target column"])
usage_fails("cov_time", ingest_args("cov_time", more=["--covariates", "date"]), ["--covariates", "time column"])
usage_fails("cov_key", ingest_args("cov_key", more=["--covariates", "item"]), ["--covariates", "key column"])
# 5. --season-length inf, nan, or a cycle twice.
for name, value in {"season_inf": "inf", "season_nan": "nan", "season_twice": "7,7"}.items():
    usage_fails(name, ingest_args(name, more=["--season-length", value]), ["--season-length: '"])
lake = os.path.join(d, "good.h5")
run(ingest_args("good"))
train = ["train", "--lake", lake, "--horizon", "2", "--registry", os.path.join(d, "tr_reg.h5"),
         "--predictions", os.path.join(d, "tr_pred.h5"), "--quiet"]
usage_fails("tr_", train + ["--season-length", "7,7"], ["--season-length: '7' is given twice"])
usage_fails("tr_", train + ["--partition-by", "store,store"], ["--partition-by: 'store' is given twice"])
# 4. A job-file section that names no subcommand; sections for planned subcommands are accepted.
job = write("typo.ini", "[tran]\nhorizon = 2\n")
usage_fails("tr_", [*train, "--config", job], [job + ": unknown section [tran]"])
job = write("pipeline.ini", "[ingest]\nkeys = store\n[train]\nhorizon = 2\n[promote]\nrule = mase<1\n"
                            "[score]\nrun-id = x\n[serve]\nport = 1\n[report]\nout = r.html\n[bench]\nlayouts = 1x1\n")
p = run(["registry", "list", "--registry", os.path.join(d, "none.h5"), "--config", job], check=False)
c.ok("section" not in p.stderr and p.returncode == 1, f"whole-pipeline job file accepted: {p.stderr!r}")
# 7. Sizes a user can get wrong name their option.
usage_fails("gen.csv", ["generate", "--out", os.path.join(d, "gen.csv"), "--stores", "-5"], ["--stores: -5"])
usage_fails("gen.csv", ["generate", "--out", os.path.join(d, "gen.csv"), "--length", "0"], ["--length: 0"])
usage_fails("gen.csv", ["generate", "--out", os.path.join(d, "gen.csv"), "--stores", "99999999999999"], ["--stores"])
usage_fails("tr_", train + ["--threads", "100000"], ["--threads: 100000"])
usage_fails("tr_", train[:3] + ["abc"] + train[4:], ["--horizon"])

c.done()
