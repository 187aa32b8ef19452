// Command-line and job-file options for every subcommand (Boost.Program_options appears only in src/app).
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace mm::app {

namespace po = boost::program_options;

// Every subcommand's options, by name ("generate", "ingest", "train", "registry list", ...).
po::options_description CommandOptions(const std::string& command);
std::vector<std::string> CommandNames();

// Parses argv (after the subcommand words) and the --config job file if one is given. Command-line values
// win over the job file; in the job file the keys at the top (common to every subcommand) and those of the
// subcommand's own section are read, other sections are skipped, and unknown keys are errors.
// Returns false when --help was asked for (and printed).
bool ParseOptions(const std::string& command, int argc, char** argv, po::variables_map* vm);

// "name=value" lines of every option set, for provenance.
std::string DescribeOptions(const po::variables_map& vm);

// The command line as typed (shell-quoted words), for provenance; set once by main.
void SetCommandLine(int argc, char** argv);
const std::string& CommandLine();

// Comma lists.
std::vector<std::string> SplitList(const std::string& s);
std::vector<double> ParseNumberList(const std::string& s, const std::string& option);
// A size in bytes: a number with an optional unit K, M, G or T (powers of 1024; "KiB", "MB" and "mb" alike:
// 512M, 1.5G, 1073741824), at least 64K. Throws po::error naming --option otherwise.
uint64_t ParseByteSize(const std::string& s, const std::string& option);

}  // namespace mm::app
