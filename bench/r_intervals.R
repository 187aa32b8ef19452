# R's forecast package with its 80% and 95% prediction intervals, on a common long CSV (id,m,h,split,t,value; an
# empty value is missing), for bench/accuracy.py's coverage and MSIS columns. The same fits as
# ../shared/peers/r_peer.R (which writes point forecasts only): the data's m as the cycle, missing values
# interpolated (na.interp), a series whose fit fails forecast by naive() with its intervals.
# Usage: Rscript r_intervals.R IN.csv METHOD OUT.csv   (METHOD: ets, arima, theta, snaive)
# Writes id,step,forecast,lo80,hi80,lo95,hi95 and prints one timing line: fit+forecast seconds over all series.
suppressMessages(library(forecast))
a <- commandArgs(TRUE); method <- a[2]
methods <- c("ets", "arima", "theta", "snaive")
if (length(a) != 3 || !(method %in% methods)) {
  message("usage: Rscript r_intervals.R IN.csv METHOD OUT.csv, METHOD one of ", paste(methods, collapse = ", "),
          if (length(a) >= 2 && !(method %in% methods)) paste0(" (not '", method, "')") else "")
  quit(status = 2)
}
d <- read.csv(a[1], stringsAsFactors = FALSE)
d <- d[order(d$id, d$t), ]
tr <- split(d[d$split == "train", ], d$id[d$split == "train"])
out <- vector("list", length(tr)); k <- 0
t0 <- proc.time()[["elapsed"]]
for (s in tr) {
  k <- k + 1
  h <- s$h[1]
  y <- ts(s$value, frequency = s$m[1])
  if (anyNA(y)) y <- na.interp(y)
  lv <- c(80, 95)
  f <- tryCatch(switch(method,
    ets = forecast(ets(y), h = h, level = lv),
    arima = forecast(auto.arima(y), h = h, level = lv),
    theta = thetaf(y, h = h, level = lv),
    snaive = snaive(y, h = h, level = lv)), error = function(e) naive(y, h = h, level = lv))
  lo <- matrix(as.numeric(f$lower), ncol = 2); hi <- matrix(as.numeric(f$upper), ncol = 2)
  out[[k]] <- data.frame(id = s$id[1], step = seq_len(h), forecast = as.numeric(f$mean),
                         lo80 = lo[, 1], hi80 = hi[, 1], lo95 = lo[, 2], hi95 = hi[, 2])
}
el <- proc.time()[["elapsed"]] - t0
write.csv(do.call(rbind, out), a[3], row.names = FALSE, quote = FALSE)
cat(sprintf("peer=R-forecast-%s method=%s series=%d seconds=%.2f ms_per_series=%.2f\n",
            packageVersion("forecast"), method, length(tr), el, 1000 * el / length(tr)))
