// Shared pieces of the stresslab command line: exit codes, usage errors, option parsing, the
// interrupt flag set by SIGINT/SIGTERM, and the entry point of every sub-command (one file each).
#pragma once
#include <boost/program_options.hpp>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sl::cli {

namespace po = boost::program_options;

inline constexpr int kExitOk = 0, kExitInternal = 1, kExitBadInput = 2, kExitInterrupted = 130;

// Bad command-line usage: reported as "error: ..." with exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Set by SIGINT/SIGTERM once install_signal_handlers() ran; long loops poll it.
std::atomic<bool>& interrupted();
void install_signal_handlers();

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const po::positional_options_description& pos);
// The options of a sub-command titled `title` ("run options") taking one positional argument
// `positional` (described by `positional_help`), with --help.
po::options_description command_options(const char* title, const char* positional, const char* positional_help);
// A sub-command taking one positional argument `positional`: parses `args` into `vm`; with --help
// or without the positional prints `usage` and the options and returns the exit code (0 for
// --help, 2 otherwise), else nullopt (go on).
std::optional<int> parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                                 const char* positional, const std::string& usage, po::variables_map& vm);
// The options of the long-running sub-commands (run, sweep, calibrate): --threads, --resume
// (`resume_help` says what it reuses), --quiet (`quiet_help` says what it silences).
void add_run_control_options(po::options_description& opts, const std::string& resume_help,
                             const char* quiet_help = "no progress or summary output");
// "continue an interrupted WHAT into the same --out: ...": the --resume help of run and sweep.
std::string resume_into_out_help(const std::string& what);
// The --set PATH=VALUE overrides given (none: empty).
std::vector<std::string> set_overrides(const po::variables_map& vm);
std::string fmt(double v, int prec = 2);
// "a, b,c" -> {"a","b","c"} (blanks trimmed, empty items dropped).
std::vector<std::string> split_list(const std::string& s);
// The --threads option of run, sweep, calibrate and bench: 0 (all cores) .. 1024, else SweepError (exit 2).
int threads_option(const po::variables_map& vm);
// Throws SweepError (exit 2) naming the allowed list unless every policy is implemented and listed once
// (sl::check_policy_list, shared with the Python entry point).
void check_policies(const std::vector<std::string>& policies);

int cmd_run(const std::vector<std::string>& args);
int cmd_sweep(const std::vector<std::string>& args);
int cmd_calibrate(const std::vector<std::string>& args);

}  // namespace sl::cli
