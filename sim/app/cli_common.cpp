#include "sim/app/cli_common.hpp"

#include <csignal>
#include <cstdio>
#include <iostream>

#include "sim/sweep/run_plan.hpp"

namespace sl::cli {

namespace {
std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted.store(true); }
}  // namespace

std::atomic<bool>& interrupted() { return g_interrupted; }

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const po::positional_options_description& pos) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return vm;
}

po::options_description command_options(const char* title, const char* positional, const char* positional_help) {
  po::options_description opts(title);
  opts.add_options()("help,h", "show help")(positional, po::value<std::string>(), positional_help);
  return opts;
}

std::optional<int> parse_command(const std::vector<std::string>& args, const po::options_description& opts,
                                 const char* positional, const std::string& usage, po::variables_map& vm) {
  po::positional_options_description pos;
  pos.add(positional, 1);
  vm = parse(args, opts, pos);
  if (!vm.count("help") && vm.count(positional)) return std::nullopt;
  std::cout << usage << "\n" << opts;
  return vm.count("help") ? kExitOk : kExitBadInput;
}

void add_run_control_options(po::options_description& opts, const std::string& resume_help, const char* quiet_help) {
  opts.add_options()("threads", po::value<int>()->default_value(0),
                     "worker threads per process (0: all cores); results do not depend on it")(
      "resume", resume_help.c_str())("quiet,q", quiet_help);
}

std::string resume_into_out_help(const std::string& what) {
  return "continue an interrupted " + what + " into the same --out: reuse its finished runs, do the rest";
}

std::vector<std::string> set_overrides(const po::variables_map& vm) {
  return vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
}

std::string fmt(double v, int prec) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + ",") {
    if (c == ',') {
      const auto b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

int threads_option(const po::variables_map& vm) {
  const int threads = vm["threads"].as<int>();
  sl::check_thread_count(threads, "--threads");
  return threads;
}

void check_policies(const std::vector<std::string>& policies) { sl::check_policy_list(policies, "--policy"); }

}  // namespace sl::cli
