// serve: single forecasts over HTTP (Debian's cpp-httplib), from the production registry and the lake.
//
//   GET /v1/forecast?store=12&item=5&h=14   one query parameter per key column (or key=store%3D12%2Citem%3D5),
//                                           h optional (default: the registry's horizon), 1 <= h <= max_horizon
//   GET /healthz                            200 while serving
//   GET /metrics                            Prometheus text format
//
// At start (and at every reload) only the production registry's index is read: its production keys, labels,
// versions and last periods, a few dozen bytes a key. A key's model is loaded on its first request (one row's
// bytes from the registry, one series of the lake), brought up to the lake's latest observations without refitting (core/update.h, the same
// step `score` takes, with covariates known up to max_horizon), and kept in an LRU cache of at most
// `cache_models` models; later requests only forecast from it. The registry and the lake are watched: when
// either file is replaced (promote and ingest --append rename a new file into place), a new snapshot of both is
// opened and new requests use it, with an empty cache, while requests in flight finish on the one they began
// with, so no response mixes two versions. SIGTERM or SIGINT stops taking connections, finishes the requests in
// flight and returns.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace mm::app {

struct ServeOptions {
  std::string production, lake;
  std::string host = "127.0.0.1";
  int port = 8080;              // 0: any free port (printed)
  size_t cache_models = 10000;  // models kept loaded (LRU)
  int threads = 32;             // request threads; an open (keep-alive) connection holds one
  int max_horizon = 0;          // largest h; 0: four times the registry's horizon
  double reload_every = 1.0;    // seconds between checks of the two files
};

// Serves until SIGTERM / SIGINT / SIGHUP (blocked in the calling thread and every thread it starts; call it before
// starting other threads). `on_listening(host, port)` runs once the socket listens. Returns the exit code.
int Serve(const ServeOptions& options, const std::function<void(const std::string&, int)>& on_listening);

}  // namespace mm::app
