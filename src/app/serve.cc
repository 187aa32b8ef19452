#include "serve.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lru_cache.h"
#include "manymodels/core/calendar.h"
#include "manymodels/core/update.h"
#include "manymodels/io/hdf5.h"
#include "manymodels/io/lake.h"
#include "manymodels/io/registry.h"

namespace mm::app {
namespace {

using Clock = std::chrono::steady_clock;

// What identifies a file's content for the reload check: a rename puts another inode in place.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t mtime_ns = 0;
  off_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_dev, st.st_ino, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          st.st_size};
}

// One key's model as loaded: what a response says about it, and the model brought up to the lake.
struct LoadedModel {
  bool found = false;  // false: the key has a series but no production model (cached too)
  std::string model, method, version;
  CurrentModel current;
  Forecast forecast;  // max_horizon steps: a request for h takes the first h (FittedModel::Predict's contract)
};

// The production registry and the lake as opened together, with the cache of models loaded from them.
class Snapshot {
 public:
  // The caller holds h5::Mutex().
  Snapshot(const ServeOptions& o, uint64_t number)
      : production_stamp(StampOf(o.production)),
        lake_stamp(StampOf(o.lake)),
        generation(number),
        registry(std::make_unique<RegistryReader>(o.production)),
        lake(std::make_unique<LakeReader>(o.lake)),
        production(registry->ReadProductionIndex()),
        cache(o.cache_models) {
    CheckKeysMatchLake(*registry, o.production, lake->index(), o.lake);
    version = registry->run_id();
    horizon = static_cast<int>(std::max<int64_t>(1, registry->meta().horizon));
    max_horizon = o.max_horizon > 0 ? o.max_horizon : 4 * horizon;
  }
  // HDF5 handles close under the lock, whichever thread lets the snapshot go last.
  ~Snapshot() {
    std::lock_guard<std::mutex> hdf5(h5::Mutex());
    registry.reset();
    lake.reset();
  }

  const FileStamp production_stamp, lake_stamp;
  const uint64_t generation;
  std::unique_ptr<RegistryReader> registry;
  std::unique_ptr<LakeReader> lake;
  const ProductionIndex production;  // the keys with a production model, in memory
  std::string version;  // the production registry's run id (its promotion)
  int horizon = 1, max_horizon = 1;
  mutable LruCache<size_t, LoadedModel> cache;  // by the series' row in the lake
};

// Counters for /metrics: requests by route and code, a latency histogram by route, the cache.
class Metrics {
 public:
  static constexpr std::array<const char*, 4> kRoutes = {"/v1/forecast", "/healthz", "/metrics", "other"};
  static constexpr std::array<int, 6> kCodes = {200, 400, 404, 500, 503, 0};  // 0: any other
  static constexpr std::array<double, 14> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,    0.1,    0.25,  0.5,   1.0,   2.5};

  static size_t RouteOf(const std::string& path) {
    for (size_t r = 0; r + 1 < kRoutes.size(); ++r)
      if (path == kRoutes[r]) return r;
    return kRoutes.size() - 1;
  }

  void Record(const std::string& path, int code, double seconds) {
    const size_t r = RouteOf(path);
    size_t c = kCodes.size() - 1;
    for (size_t i = 0; i + 1 < kCodes.size(); ++i)
      if (kCodes[i] == code) c = i;
    requests_[r][c].fetch_add(1, std::memory_order_relaxed);
    size_t b = 0;
    while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
    buckets_[r][b].fetch_add(1, std::memory_order_relaxed);  // b == size: only +Inf
    micros_[r].fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }

  std::atomic<uint64_t> hits{0}, misses{0}, evictions{0}, loads{0}, reloads{0}, reload_failures{0};

  std::string Text(const Snapshot& snap, const std::string& production) const {
    std::string t;
    auto line = [&t](const std::string& s) { t += s + "\n"; };
    auto num = [](double v) {
      char b[32];
      std::snprintf(b, sizeof b, "%.9g", v);
      return std::string(b);
    };
    line("# HELP manymodels_requests_total Requests answered, by route and HTTP status code.");
    line("# TYPE manymodels_requests_total counter");
    for (size_t r = 0; r < kRoutes.size(); ++r)
      for (size_t c = 0; c < kCodes.size(); ++c) {
        const uint64_t n = requests_[r][c].load();
        if (n == 0) continue;
        line(std::string("manymodels_requests_total{route=\"") + kRoutes[r] + "\",code=\"" +
             (kCodes[c] ? std::to_string(kCodes[c]) : std::string("other")) + "\"} " + std::to_string(n));
      }
    line("# HELP manymodels_request_duration_seconds Time from the request's arrival to its response written.");
    line("# TYPE manymodels_request_duration_seconds histogram");
    for (size_t r = 0; r < kRoutes.size(); ++r) {
      const std::string route = std::string("route=\"") + kRoutes[r] + "\"";
      uint64_t cumulative = 0;
      for (size_t b = 0; b <= kBuckets.size(); ++b) {
        cumulative += buckets_[r][b].load();
        const std::string le = b < kBuckets.size() ? num(kBuckets[b]) : "+Inf";
        line("manymodels_request_duration_seconds_bucket{" + route + ",le=\"" + le + "\"} " +
             std::to_string(cumulative));
      }
      line("manymodels_request_duration_seconds_sum{" + route + "} " + num(static_cast<double>(micros_[r]) * 1e-6));
      line("manymodels_request_duration_seconds_count{" + route + "} " + std::to_string(cumulative));
    }
    auto metric = [&](const char* name, const char* type, const char* help, const std::string& value) {
      line(std::string("# HELP ") + name + " " + help);
      line(std::string("# TYPE ") + name + " " + type);
      line(std::string(name) + " " + value);
    };
    metric("manymodels_cache_hits_total", "counter", "Forecast requests served by a model already loaded.",
           std::to_string(hits.load()));
    metric("manymodels_cache_misses_total", "counter", "Forecast requests that had to load their key's model.",
           std::to_string(misses.load()));
    metric("manymodels_cache_evictions_total", "counter", "Models dropped from the cache to stay within its bound.",
           std::to_string(evictions.load()));
    metric("manymodels_model_loads_total", "counter", "Models read from the production registry and updated.",
           std::to_string(loads.load()));
    metric("manymodels_models_loaded", "gauge", "Models in the cache now.", std::to_string(snap.cache.size()));
    metric("manymodels_cache_capacity_models", "gauge", "The cache's bound (--cache-models).",
           std::to_string(snap.cache.capacity()));
    metric("manymodels_registry_generation", "gauge", "Snapshots of the registry and lake opened (1 at start).",
           std::to_string(snap.generation));
    metric("manymodels_registry_reloads_total", "counter", "Snapshots opened after a file was replaced.",
           std::to_string(reloads.load()));
    metric("manymodels_registry_reload_failures_total", "counter", "Replaced files that could not be opened.",
           std::to_string(reload_failures.load()));
    line("# HELP manymodels_registry_info The production registry served: its version (the promotion's run id).");
    line("# TYPE manymodels_registry_info gauge");
    line("manymodels_registry_info{version=\"" + Escape(snap.version) + "\",path=\"" + Escape(production) + "\"} 1");
    return t;
  }

 private:
  static std::string Escape(const std::string& s) {
    std::string o;
    for (char ch : s) {
      if (ch == '\\' || ch == '"') o += '\\';
      if (ch == '\n') o += "\\n";
      else o += ch;
    }
    return o;
  }
  std::array<std::array<std::atomic<uint64_t>, kCodes.size()>, kRoutes.size()> requests_{};
  std::array<std::array<std::atomic<uint64_t>, kBuckets.size() + 1>, kRoutes.size()> buckets_{};
  std::array<std::atomic<uint64_t>, kRoutes.size()> micros_{};
};

thread_local Clock::time_point request_start;

void JsonResponse(httplib::Response& res, int status, const nlohmann::ordered_json& body) {
  res.status = status;
  // Text from the request (an unknown parameter, a value that is not a number) may hold bytes that are not
  // UTF-8: shown as U+FFFD rather than failing the response.
  res.set_content(body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                  "application/json");
}

void Error(httplib::Response& res, int status, const std::string& message) {
  JsonResponse(res, status, nlohmann::ordered_json{{"error", message}});
}

class Server {
 public:
  explicit Server(const ServeOptions& o) : o_(o) {
    std::lock_guard<std::mutex> hdf5(h5::Mutex());
    snapshot_ = std::make_shared<Snapshot>(o_, 1);
  }

  std::shared_ptr<const Snapshot> Current() const {
    std::lock_guard<std::mutex> lock(snapshot_mutex_);
    return snapshot_;
  }

  // Opens a new snapshot when either file was replaced since the current one; when the new files cannot be
  // opened, says so once and keeps serving the current one.
  void ReloadIfChanged() {
    const std::shared_ptr<const Snapshot> now = Current();
    const FileStamp p = StampOf(o_.production), l = StampOf(o_.lake);
    if (p == now->production_stamp && l == now->lake_stamp) return;
    if (p == failed_production_ && l == failed_lake_) return;  // said so already
    std::shared_ptr<Snapshot> next;
    try {
      std::lock_guard<std::mutex> hdf5(h5::Mutex());
      next = std::make_shared<Snapshot>(o_, now->generation + 1);
    } catch (const std::exception& e) {
      ++metrics_.reload_failures;
      failed_production_ = p, failed_lake_ = l;
      std::fprintf(stderr, "manymodels serve: a replaced file cannot be opened, still serving version %s: %s\n",
                   now->version.c_str(), e.what());
      return;
    }
    {
      std::lock_guard<std::mutex> lock(snapshot_mutex_);
      snapshot_ = next;
    }
    ++metrics_.reloads;
    std::fprintf(stderr, "manymodels serve: reloaded %s and %s: registry version %s (generation %llu)\n",
                 o_.production.c_str(), o_.lake.c_str(), next->version.c_str(),
                 static_cast<unsigned long long>(next->generation));
  }

  void Forecast(const httplib::Request& req, httplib::Response& res) {
    const std::shared_ptr<const Snapshot> snap = Current();
    const LakeIndex& ix = snap->lake->index();
    const std::vector<std::string> columns = ix.keys.Names();
    // The parameters: one per key column, or key=...; and h.
    std::vector<std::string> values(columns.size());
    std::vector<bool> seen(columns.size(), false);
    std::optional<std::string> key_text;
    int h = snap->horizon;
    for (auto it = req.params.begin(); it != req.params.end(); ++it) {
      const std::string& name = it->first;
      if (req.params.count(name) > 1) return Error(res, 400, "the parameter '" + name + "' is given more than once");
      if (name == "h") {
        const std::string& v = it->second;
        const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), h);
        if (ec != std::errc() || ptr != v.data() + v.size() || h < 1 || h > snap->max_horizon)
          return Error(res, 400, "h: '" + v + "' is not a whole number from 1 to " +
                                     std::to_string(snap->max_horizon));
      } else if (name == "key") {
        key_text = it->second;
      } else {
        const auto c = static_cast<size_t>(std::find(columns.begin(), columns.end(), name) - columns.begin());
        if (c == columns.size()) {
          std::string known;
          for (const auto& n : columns) known += n + ", ";
          return Error(res, 400, "unknown parameter '" + name + "' (expected " + known + "h, or key)");
        }
        values[c] = it->second;
        seen[c] = true;
      }
    }
    if (key_text) {
      if (std::find(seen.begin(), seen.end(), true) != seen.end())
        return Error(res, 400, "give the key either as key=... or as one parameter per key column, not both");
      try {
        values = ParseKeyText(*key_text, columns);
      } catch (const std::invalid_argument& e) {
        return Error(res, 400, std::string("key: ") + e.what());
      }
    } else {
      for (size_t c = 0; c < columns.size(); ++c)
        if (!seen[c]) return Error(res, 400, "no value for the key column '" + columns[c] + "'");
    }
    const std::optional<KeyTable> want = ix.keys.Parse(values);
    if (!want) {
      for (size_t c = 0; c < columns.size(); ++c)
        if (!ix.keys.columns[c].is_text && !KeyTable{{ix.keys.columns[c].EmptyLike()}}.Parse({values[c]}))
          return Error(res, 400, columns[c] + ": '" + values[c] + "' is not an integer");
      return Error(res, 400, "the key cannot be read");
    }
    const std::optional<size_t> series = ix.keys.Find(*want);
    if (!series) return Error(res, 404, "no series " + want->Describe(0) + " in the lake");

    std::shared_ptr<const LoadedModel> loaded = snap->cache.Get(*series);
    if (loaded) {
      ++metrics_.hits;
    } else {
      ++metrics_.misses;
      loaded = Load(*snap, snap->production.keys.Find(*want), *series);
      ++metrics_.loads;
      metrics_.evictions += snap->cache.Put(*series, loaded);
    }
    if (!loaded->found) return Error(res, 404, "no production model for " + want->Describe(0));
    if (loaded->current.outcome == CurrentModel::kFailed)
      return Error(res, 500, "the model of " + want->Describe(0) + " cannot be used: " + loaded->current.note);

    nlohmann::ordered_json key = nlohmann::ordered_json::object();
    for (const auto& col : want->columns) {
      if (col.is_text) key[col.name] = col.texts[0];
      else key[col.name] = col.ints[0];
    }
    const mm::Forecast& f = loaded->forecast;
    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (int i = 0; i < h; ++i) {
      const auto k = static_cast<size_t>(i);
      steps.push_back({{"step", i + 1},
                       {"time", FormatPeriod(ix.frequency, loaded->current.last_period + i + 1, ix.weekly_anchor)},
                       {"forecast", f.mean[k]},
                       {"lo80", f.lo80[k]},
                       {"hi80", f.hi80[k]},
                       {"lo95", f.lo95[k]},
                       {"hi95", f.hi95[k]}});
    }
    JsonResponse(res, 200,
                 {{"key", key},
                  {"model", loaded->model},
                  {"method", loaded->method},
                  {"version", loaded->version},
                  {"registry_version", snap->version},
                  {"origin", FormatPeriod(ix.frequency, loaded->current.last_period, ix.weekly_anchor)},
                  {"updated_periods", loaded->current.new_periods},
                  {"note", loaded->current.note},
                  {"forecast", steps}});
  }

  void Health(httplib::Response& res) const {
    const std::shared_ptr<const Snapshot> snap = Current();
    JsonResponse(res, 200,
                 {{"status", "ok"},
                  {"registry_version", snap->version},
                  {"generation", snap->generation},
                  {"models_loaded", snap->cache.size()}});
  }

  void MetricsText(httplib::Response& res) const {
    res.status = 200;
    res.set_content(metrics_.Text(*Current(), o_.production), "text/plain; version=0.0.4");
  }

  Metrics& metrics() { return metrics_; }

 private:
  // The production model of index entry `entry` (none: the key has no production model), read and brought up
  // to the lake's series `series`. Reads under the HDF5 lock; updates outside it.
  std::shared_ptr<const LoadedModel> Load(const Snapshot& snap, std::optional<size_t> entry, size_t series) const {
    auto out = std::make_shared<LoadedModel>();
    if (!entry) return out;
    const ProductionIndex& px = snap.production;
    const LakeIndex& ix = snap.lake->index();
    std::vector<uint8_t> params;
    std::vector<std::vector<double>> cols(1 + ix.covariates.size());
    {
      std::lock_guard<std::mutex> hdf5(h5::Mutex());
      params = snap.registry->ReadParams(px.rows[*entry]);
      cols[0] = snap.lake->ReadTarget(series, series + 1);
      for (size_t c = 0; c < ix.covariates.size(); ++c) cols[1 + c] = snap.lake->ReadCovariate(c, series, series + 1);
    }
    std::vector<std::span<const double>> spans(cols.begin(), cols.end());
    out->found = true;
    out->model = px.model[*entry];
    out->method = px.method[*entry];
    out->version = px.version[*entry];
    out->current = UpToDate(params, px.last_period[*entry], ix.start[series], spans, ix.covariates, snap.max_horizon);
    out->forecast = out->current.Predict(snap.max_horizon);
    return out;
  }

  const ServeOptions o_;
  mutable std::mutex snapshot_mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  FileStamp failed_production_, failed_lake_;  // the reload thread's alone
  mutable Metrics metrics_;
};

// Blocks the stop signals in this thread and the ones it starts; sigwait takes them in a thread of its own.
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  return set;
}

}  // namespace

int Serve(const ServeOptions& o, const std::function<void(const std::string&, int)>& on_listening) {
  const sigset_t stop = StopSignals();
  if (pthread_sigmask(SIG_BLOCK, &stop, nullptr) != 0) throw std::runtime_error("cannot block the stop signals");
  Server server(o);
  const std::shared_ptr<const Snapshot> first = server.Current();
  std::fprintf(stderr, "manymodels serve: %s (version %s, %zu production models) and %s (%zu series); cache of %zu "
               "models; h up to %d\n", o.production.c_str(), first->version.c_str(), first->production.rows.size(),
               o.lake.c_str(), first->lake->index().num_series(), o.cache_models, first->max_horizon);
  if (first->production.rows.empty())
    std::fprintf(stderr, "warning: %s has no production model (a staging registry? promote one): every key is 404\n",
                 o.production.c_str());

  httplib::Server http;
  const auto threads = static_cast<size_t>(std::max(1, o.threads));
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_keep_alive_max_count(1000000);  // the default (5) would make a client reconnect every 5 requests
  // Without TCP_NODELAY a response written as headers then body waits for the client's delayed ACK (40 ms).
  http.set_tcp_nodelay(true);
  http.set_keep_alive_timeout(2);          // an idle connection holds a thread this long; also the drain bound
  // SO_REUSEADDR (a restart may bind while old connections linger in TIME_WAIT), but not the library's default
  // SO_REUSEPORT, with which a second server on the same port would start and silently take half the connections.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.Get("/v1/forecast", [&](const httplib::Request& req, httplib::Response& res) { server.Forecast(req, res); });
  http.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) { server.Health(res); });
  http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) { server.MetricsText(res); });
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                 httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // a handler's own error
    Error(res, res.status, res.status == 404 ? "no route " + req.method + " " + req.path +
                                                   " (GET /v1/forecast, /healthz, /metrics)"
                                             : "the request cannot be served");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::fprintf(stderr, "manymodels serve: %s\n", what.c_str());
    Error(res, 500, what);
  });
  http.set_logger([&](const httplib::Request& req, const httplib::Response& res) {
    server.metrics().Record(req.path, res.status, std::chrono::duration<double>(Clock::now() - request_start).count());
  });

  int port = o.port;
  if (port == 0) {
    port = http.bind_to_any_port(o.host);
    if (port < 0) throw std::runtime_error("cannot listen on " + o.host + " (any port)");
  } else if (!http.bind_to_port(o.host, port)) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(port) +
                             " (in use, or not an address of this machine)");
  }

  // Where to send requests (connections wait in the socket's backlog until the accept loop starts); before any
  // thread starts, so that a failure to say it (stdout on a full disk) ends the program cleanly.
  on_listening(o.host, port);

  // The reload watcher and the signal taker.
  std::mutex done_mutex;
  std::condition_variable done_cv;
  bool done = false;
  int stop_signal = 0;
  std::thread watcher([&] {
    std::unique_lock<std::mutex> lock(done_mutex);
    const auto every = std::chrono::duration<double>(o.reload_every);
    while (!done_cv.wait_for(lock, every, [&] { return done; })) {
      lock.unlock();
      server.ReloadIfChanged();
      lock.lock();
    }
  });
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    {
      std::lock_guard<std::mutex> lock(done_mutex);
      stop_signal = sig;
    }
    if (sig != 0) http.stop();
  });

  const bool listened = http.listen_after_bind();  // returns when stopped, after the requests in flight
  {
    std::lock_guard<std::mutex> lock(done_mutex);
    done = true;
  }
  done_cv.notify_all();
  watcher.join();
  int by_signal = 0;
  {
    std::lock_guard<std::mutex> lock(done_mutex);
    by_signal = stop_signal;
  }
  if (by_signal == 0) pthread_kill(signals.native_handle(), SIGTERM);  // listen failed: end the signal taker
  signals.join();
  if (!listened || by_signal == 0) throw std::runtime_error("the server stopped: cannot accept connections");
  const char* name = by_signal == SIGINT ? "SIGINT" : by_signal == SIGHUP ? "SIGHUP" : "SIGTERM";
  std::fprintf(stderr, "manymodels serve: %s: stopped taking connections, answered the requests in flight\n", name);
  return 0;
}

}  // namespace mm::app
