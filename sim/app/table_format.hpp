// What run, sweep and calibrate print (issue #16): terminal tables an analyst reads without effort,
// and the same numbers as CSV or JSON for other programs (--format table|csv|json).
//
// Tables: numbers in engineering notation with an SI prefix and 4 significant digits ("446.5 k",
// "1.025 M", "12.35", "-3.2 µ"), units in a column of their own, and never wider than
// kMaxTableWidth terminal columns: when the value columns (e.g. one per policy) do not fit beside
// the key columns, they are split into blocks that do, each block repeating the key columns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/app/cli_common.hpp"
#include "sim/run/run_result.hpp"

namespace sl::cli {

inline constexpr std::size_t kMaxTableWidth = 100;

enum class OutputFormat { table, csv, json };
// Adds --format table|csv|json to a command's options.
void add_format_option(po::options_description& opts, const char* what);
// The --format given (default table); UsageError for anything else.
OutputFormat format_option(const po::variables_map& vm);

// A printing command's parsed options (run, calibrate): its variables, --quiet and --format.
struct PrintingCommand {
  po::variables_map vm;
  bool quiet = false;
  OutputFormat format = OutputFormat::table;
};
// parse_command() (see there for --help and the exit code it returns), then --quiet and --format
// (a bad --format is a usage error before anything runs).
std::optional<int> parse_printing_command(const std::vector<std::string>& args, const po::options_description& opts,
                                          const char* positional, const std::string& usage, PrintingCommand& cmd);

// Engineering notation: 4 significant digits, SI prefix for |v| >= 1000 (k M G T P E) and for
// 0 < |v| < 0.001 (µ n p f a); plain in between; "nan", "inf", "-inf".
std::string eng(double v);
// Display width of UTF-8 text (code points; the table's text is ASCII apart from "µ").
std::size_t display_width(const std::string& s);

struct TextTable {
  std::vector<std::string> key_headers;    // left-aligned key columns, repeated in every block
  std::vector<std::string> value_headers;  // right-aligned value columns, split into blocks
  struct Row {
    std::vector<std::string> keys, values;
  };
  std::vector<Row> rows;
};
// The table as text, every line at most max_width columns (a key column longer than leaves room for
// the widest value column is cut, ending in "...").
std::string render(const TextTable& table, std::size_t max_width = kMaxTableWidth);

// `text` broken at spaces into lines of at most `width` columns (a longer word stays whole), lines
// after the first indented by `indent` spaces; ends with a newline.
std::string wrap(const std::string& text, std::size_t width = kMaxTableWidth, std::size_t indent = 2);

// One /summary row of the results file: what a RunResult contributes to it (no series).
struct SummaryRow {
  std::string run_id, policy;
  std::uint64_t seed = 0;
  std::int64_t run_index = 0;
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<std::pair<std::string, std::string>> params;
};
SummaryRow summary_row(const RunResult& r);

// The rows as CSV (header run_id,run_index,policy,seed,<metrics>,param:<name>...: the columns of
// the file's /summary, in its order; numbers as the shortest text that reads back as the same
// double; nan, inf, -inf as such) or as a JSON array of objects (non-finite numbers: null).
std::string summary_csv(const std::vector<SummaryRow>& rows);
std::string summary_json(const std::vector<SummaryRow>& rows);
// --format csv or json: prints every run's summary row on stdout (summary_csv / summary_json) and
// returns true; table: prints nothing and returns false (the command prints its own table).
bool print_summary_rows(OutputFormat format, const std::vector<SummaryRow>& rows);
// CSV field: quoted (with "" for ") when it holds a comma, quote or line break.
std::string csv_field(const std::string& s);

}  // namespace sl::cli
