// The subcommands. Each takes its parsed options and returns the process exit code; errors are thrown.
#pragma once

#include <atomic>

#include "manymodels/io/registry.h"
#include "manymodels/parallel/communicator.h"
#include "options.h"

namespace mm::app {

// Refuses (UsageError) a command line whose outputs name one of its inputs or each other. Called before
// any work, and before MPI starts.
void CheckFiles(const std::string& command, const po::variables_map& vm);
// Refuses (po::error) option values that cannot work, where that needs no input file.
void CheckOptions(const std::string& command, const po::variables_map& vm);

int RunGenerate(const po::variables_map& vm);
// Under mpirun/srun every rank runs it (Ingest across ranks); rank 0 prints the summary.
int RunIngest(const po::variables_map& vm, Communicator& comm);
// The exit code of a train stopped by SIGUSR1 (`stop` set) before every model was done: what was done is in
// its journal, and the same command with --resume goes on from there.
constexpr int kExitStopped = 3;
int RunTrain(const po::variables_map& vm, Communicator& comm, const std::atomic<int>* stop = nullptr);
int RunScore(const po::variables_map& vm, Communicator& comm);
int RunRegistryList(const po::variables_map& vm);
int RunRegistryShow(const po::variables_map& vm);
int RunPromote(const po::variables_map& vm);
int RunReport(const po::variables_map& vm);
int RunServe(const po::variables_map& vm);
int RunPredictionsExport(const po::variables_map& vm);
int RunBench(const po::variables_map& vm);
int RunBenchCompare(const po::variables_map& vm);
// bench's checks that need no file (CheckOptions calls it).
void CheckBenchOptions(const po::variables_map& vm);
// For the stop-signal handler: passes `sig` on to the launcher bench is waiting for, if any. Async-signal-safe.
void StopBenchChild(int sig);

// What `registry list` prints (format table, csv or json; po::error for another).
std::string RegistryListing(const RegistryTable& table, const std::string& format);
// What `predictions export` writes (CSV, or JSON): to the file `path` (atomically), or stdout when it is empty.
void ExportPredictions(const std::string& predictions, bool json, const std::string& path);

}  // namespace mm::app
