"""Known future covariates: rows of the lake past the last observed target (covariates, empty target) reach
the models over the horizon. A series that is exactly -5 x price is forecast from the planned prices."""
import os

from common import Checks, read_csv, run, workdir

c = Checks("covariates")
d = workdir()
src, lake, reg, pred = (os.path.join(d, f) for f in ("in.csv", "lake.h5", "reg.h5", "pred.h5"))
H, N = 6, 120
price = lambda t: 3 + (t * 7919) % 5  # a price that moves
with open(src, "w") as f:
    f.write("week,sku,sales,price\n")
    for t in range(N + H):
        sales = "" if t >= N else str(-5 * price(t))  # the last H rows: planned prices, no sales yet
        f.write(f"{t},A,{sales},{price(t)}\n")
run(["ingest", "--input", src, "--keys", "sku", "--time", "week", "--target", "sales", "--covariates", "price",
     "--freq", "N", "--out", lake])
for covariates, expect_exact in (("all", True), ("none", False)):
    run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg, "--predictions", pred,
         "--models", "fourier", "--covariates", covariates, "--quiet"])
    preds = read_csv(run(["predictions", "export", "--predictions", pred]).stdout)
    c.ok([int(p["time"]) for p in preds] == list(range(N, N + H)), f"forecast periods follow the last sale: {preds}")
    errors = [abs(float(p["forecast"]) - (-5 * price(N + i))) for i, p in enumerate(preds)]
    if expect_exact:
        c.ok(max(errors) < 1e-3, f"forecast follows the planned prices: {errors}")
    else:
        c.ok(max(errors) > 1, f"without covariates the model cannot know the prices: {errors}")
c.done()
