// manymodels: one forecasting model per partition of a data set, trained on MPI ranks x threads.
// MPI starts and ends here only, and only for the subcommands that need it (train, score, ingest; bench launches
// train).
#include <mpi.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "manymodels/io/files.h"
#include "manymodels/version.h"
#include "options.h"

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
               "usage: manymodels COMMAND [options]   (manymodels COMMAND --help for its options)\n\n"
               "commands:\n"
               "  generate            write a synthetic retail panel (CSV)\n"
               "  ingest              long CSV -> HDF5 lake\n"
               "  train               fit one model per series or partition (under mpirun/srun, or alone)\n"
               "  score               production models brought up to the lake's new data, forecasting (MPI too)\n"
               "  registry list       the registry's models, as a table, CSV or JSON\n"
               "  registry show       one model: parameters, metrics, note\n"
               "  promote             staged models that pass rules -> the production registry (or --rollback)\n"
               "  serve               single forecasts over HTTP, models loaded on first use (LRU cache)\n"
               "  report              one HTML page about a run: metrics, models, worst series, promotion\n"
               "  bench               train with each ranks x threads layout: time, efficiency, cost (CSV, HTML)\n"
               "  bench compare       several machines' bench.csv side by side (HTML)\n"
               "  predictions export  the predictions table as CSV\n\n"
               "  --version           print the version\n");
}

// SIGINT, SIGTERM, SIGHUP (Ctrl-C, scancel, mpirun passing on either, a closed terminal), and SIGUSR1 but in
// train: remove this process's temporary files and exit with the shell's code for the signal (128 + N: 130,
// 143). Outputs already in place are untouched; a signal that came while outputs were renamed into place
// waits for that to finish, and says so. Only async-signal-safe calls here.
extern "C" void OnStopSignal(int sig) {
  if (mm::DeferStopSignal(sig)) return;  // renaming outputs into place: finish that first
  mm::app::StopBenchChild(sig);          // bench: its launcher stops too, and its ranks clean up
  mm::RemoveTemporaries();
  const char* name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGUSR1 ? "SIGUSR1" : "SIGHUP";
  char msg[160];
  const char* outputs = mm::StopFollowsCommit() ? ", which came as the finished outputs were put in place"
                                                : "; outputs left as they were";
  const int n = std::snprintf(msg, sizeof msg, "manymodels: stopped by %s%s\n", name, outputs);
  if (n > 0) (void)!::write(STDERR_FILENO, msg, static_cast<size_t>(n));
  ::_exit(128 + sig);
}

// SIGUSR1 in train (Slurm's --signal=B:USR1@SECONDS before the time limit, passed on by the batch script's
// trap to srun or mpirun, which pass it to every rank): a graceful stop. Each rank finishes the series in hand,
// journals them and takes no more; the run exits kExitStopped (3) and --resume goes on. Read between fits.
std::atomic<int> graceful_stop{0};
static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");

extern "C" void OnGracefulStop(int sig) {
  graceful_stop.store(sig, std::memory_order_relaxed);
  const char msg[] = "manymodels: SIGUSR1: finishing the series in hand, then stopping (exit 3; --resume goes on)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
}

void InstallSignalHandlers(const std::string& command) {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) sigaction(sig, &sa, nullptr);
  if (command == "train") {
    sa.sa_handler = OnGracefulStop;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, nullptr);
  }
}

// True when a launcher started us as one of several MPI processes.
bool LaunchedByMpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

int RunWithMpi(const std::string& command, mm::app::po::variables_map& vm) {
  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  if (provided < MPI_THREAD_FUNNELED) {
    std::fprintf(stderr, "manymodels: the MPI library does not provide MPI_THREAD_FUNNELED\n");
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  auto comm = mm::MakeMpiCommunicator();
  try {
    const int rc = command == "score"    ? mm::app::RunScore(vm, *comm)
                   : command == "ingest" ? mm::app::RunIngest(vm, *comm)
                                         : mm::app::RunTrain(vm, *comm, &graceful_stop);
    comm.reset();
    MPI_Finalize();
    return rc;
  } catch (const std::exception& e) {
    if (command == "ingest") {
      // Ingest's errors are the same on every rank, thrown once every rank has stopped: rank 0 prints it, as
      // one process would, and every rank ends normally.
      const bool input = dynamic_cast<const mm::InputError*>(&e) != nullptr;
      const bool usage = dynamic_cast<const mm::UsageError*>(&e) != nullptr;
      if (comm->rank() == 0) {
        if (input) std::fprintf(stderr, "%s\n", e.what());
        else std::fprintf(stderr, "manymodels %s: %s\n", command.c_str(), e.what());
      }
      comm.reset();
      MPI_Finalize();
      return usage ? 2 : 1;
    }
    // One rank failed: the others may be waiting for it in a collective call, so end them all. Finalizing
    // here (or from a destructor) would hang the job.
    std::fprintf(stderr, "manymodels %s: rank %d: %s\n", command.c_str(), comm->rank(), e.what());
    if (comm->size() > 1) comm->Abort(1);
    MPI_Finalize();
    return 1;
  }
}

int Run(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    Usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("manymodels %s (commit %s)\n", MANYMODELS_VERSION, MANYMODELS_GIT_COMMIT);
    return 0;
  }
  std::string command = argv[1];
  int used = 2;
  // Two-word commands: registry list|show, predictions export, bench compare (plain bench takes options only).
  if (argc > 2 && argv[2][0] != '-' &&
      (command == "registry" || command == "predictions" || (command == "bench" && !std::strcmp(argv[2], "compare")))) {
    command += std::string(" ") + argv[2];
    used = 3;
  }
  bool known = false;
  for (const auto& c : mm::app::CommandNames()) known = known || c == command;
  if (!known) {
    std::fprintf(stderr, "manymodels: unknown command '%s'\n\n", command.c_str());
    Usage(stderr);
    return 2;
  }
  InstallSignalHandlers(command);
  mm::app::SetCommandLine(argc, argv);
  mm::app::po::variables_map vm;
  // Program_options wants argv[0] to be the program; pass the words after the subcommand.
  std::vector<char*> args = {argv[0]};
  for (int i = used; i < argc; ++i) args.push_back(argv[i]);
  try {
    if (!mm::app::ParseOptions(command, static_cast<int>(args.size()), args.data(), &vm)) return 0;
    mm::app::CheckOptions(command, vm);
    mm::app::CheckFiles(command, vm);
  } catch (const mm::InputError& e) {  // a job file that cannot be read: like any input, exit 1
    std::fprintf(stderr, "manymodels %s: %s\n", command.c_str(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "manymodels %s: %s\n(see manymodels %s --help)\n", command.c_str(), e.what(),
                 command.c_str());
    return 2;
  }
  try {
    if (command == "train" || command == "score" || command == "ingest") {
      if (LaunchedByMpi()) return RunWithMpi(command, vm);
      if (const char* n = std::getenv("SLURM_STEP_NUM_TASKS"); n && std::atoi(n) > 1) {
        std::fprintf(stderr, "manymodels %s: started by srun as %s tasks without an MPI plugin; "
                             "use srun --mpi=pmix (or mpirun)\n", command.c_str(), n);
        return 2;
      }
      auto comm = mm::MakeSerialCommunicator();
      if (command == "ingest") return mm::app::RunIngest(vm, *comm);
      return command == "score" ? mm::app::RunScore(vm, *comm) : mm::app::RunTrain(vm, *comm, &graceful_stop);
    }
    if (command == "generate") return mm::app::RunGenerate(vm);
    if (command == "registry list") return mm::app::RunRegistryList(vm);
    if (command == "registry show") return mm::app::RunRegistryShow(vm);
    if (command == "promote") return mm::app::RunPromote(vm);
    if (command == "report") return mm::app::RunReport(vm);
    if (command == "bench") return mm::app::RunBench(vm);
    if (command == "bench compare") return mm::app::RunBenchCompare(vm);
    if (command == "serve") return mm::app::RunServe(vm);
    if (command == "predictions export") return mm::app::RunPredictionsExport(vm);
  } catch (const mm::InputError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  } catch (const mm::app::po::error& e) {
    std::fprintf(stderr, "manymodels %s: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const mm::UsageError& e) {
    std::fprintf(stderr, "manymodels %s: %s\n", command.c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "manymodels %s: %s\n", command.c_str(), e.what());
    return 1;
  }
  return 0;
}

}  // namespace

// Whatever a command printed, stdout must have taken it all (a full disk, `> /dev/full`).
int main(int argc, char** argv) {
  const int rc = Run(argc, argv);
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "manymodels: standard output: %s\n", errno ? std::strerror(errno) : "write failed");
    return rc ? rc : 1;
  }
  return rc;
}
