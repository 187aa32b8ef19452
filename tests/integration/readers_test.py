"""The h5py/pandas example of data/README.md, run as written on real outputs, agrees with the exports."""
import os
import re

import pandas as pd

from common import Checks, read_csv, run, workdir

c = Checks("readers")
d = workdir()
here = os.path.dirname(os.path.abspath(__file__))
readme = open(os.path.join(here, "..", "..", "data", "README.md")).read()
example = re.search(r"## Reading the files from Python\n```python\n(.*?)```", readme, re.S).group(1)

run(["generate", "--out", f"{d}/panel.csv", "--stores", "2", "--items", "3", "--length", "120"])
run(["ingest", "--input", f"{d}/panel.csv", "--keys", "store,item", "--time", "date", "--target", "sales",
     "--covariates", "price,promo", "--out", f"{d}/lake.h5"])
run(["train", "--lake", f"{d}/lake.h5", "--horizon", "5", "--registry", f"{d}/registry.h5", "--predictions",
     f"{d}/predictions.h5", "--models", "auto", "--quiet"])
os.chdir(d)
scope = {}
exec(example, scope)
lake, registry, predictions = scope["lake"], scope["registry"], scope["predictions"]

source = pd.read_csv(f"{d}/panel.csv")
c.ok(len(lake) >= len(source) and lake["target"].notna().sum() == len(source), "every source row is in the lake")
listing = read_csv(run(["registry", "list", "--registry", f"{d}/registry.h5", "--format", "csv"]).stdout)
c.ok(list(registry["model"]) == [r["model"] for r in listing], "registry models as listed")
c.ok(list(registry["version"].astype(str)) == [r["version"] for r in listing], "registry versions as listed")
c.ok(list(registry["note"]) == [r["note"] for r in listing] and all(registry["note"]),
     f"registry notes as listed, every one written by auto: {list(registry['note'])[:2]}")
export = read_csv(run(["predictions", "export", "--predictions", f"{d}/predictions.h5"]).stdout)
c.ok(len(predictions) == len(export) == 6 * 5, "one prediction row per series and step")
c.ok(all(int(p.step) == int(e["step"]) and abs(p.forecast - float(e["forecast"])) < 1e-9 and p.model == e["model"]
         for p, e in zip(predictions.itertuples(), export)), "predictions as exported")
c.ok(all(pd.Timestamp("1970-01-01") + pd.Timedelta(days=int(p.period)) == pd.Timestamp(e["time"])
         for p, e in zip(predictions.itertuples(), export)), "period + units give the exported time")
c.done()
