// The terminal table of run / sweep / calibrate (sim/app/table_format.hpp, issue #16 item 5):
// engineering notation by hand, block splitting at the width limit, CSV quoting and wrapping.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>

#include "sim/app/table_format.hpp"

using sl::cli::eng;

TEST_CASE("engineering notation: 4 significant digits, SI prefix per factor 1000") {
  CHECK(eng(446500) == "446.5 k");      // the example
  CHECK(eng(1025000) == "1.025 M");
  CHECK(eng(-1234567) == "-1.235 M");   // 1.234567 -> 1.235
  CHECK(eng(12.5) == "12.5");           // plain between 0.001 and 1000, no trailing zeros
  CHECK(eng(0.25) == "0.25");
  CHECK(eng(0.001) == "0.001");
  CHECK(eng(0.00012) == "120 µ");       // 1.2e-4 = 120e-6
  CHECK(eng(999.96) == "1 k");          // 999.96 to 4 digits is 1000: carried into the next prefix
  CHECK(eng(999960) == "1 M");
  CHECK(eng(1000) == "1 k");
  CHECK(eng(0) == "0");
  CHECK(eng(2.5e12) == "2.5 T");
  CHECK(eng(NAN) == "nan");
  CHECK(eng(-INFINITY) == "-inf");
  CHECK(eng(1e30) == "1.000e+30");      // beyond the prefixes: scientific
}

TEST_CASE("render: value columns split into blocks that fit, keys repeated") {
  sl::cli::TextTable t;
  t.key_headers = {"metric", "unit"};
  for (int p = 0; p < 6; ++p) t.value_headers.push_back("policy" + std::to_string(p));
  t.rows.push_back({{"bad debt", "USDT"}, {}});
  for (int p = 0; p < 6; ++p) t.rows[0].values.push_back("446.5 k [362.2 k, 530.8 k]");  // 26 columns
  // Keys: "bad debt" (8) + 2 + "unit" (4) = 14; each value column adds 2 + 26 = 28.
  // 14 + 3 * 28 = 98 <= 100 < 126: three policies per block, two blocks.
  const std::string out = sl::cli::render(t, 100);
  std::istringstream in(out);
  std::string line;
  int headers = 0, lines = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++lines;
    CHECK(sl::cli::display_width(line) <= 100);
    if (line.rfind("metric", 0) == 0) ++headers;
  }
  CHECK(headers == 2);
  CHECK(lines == 4);
  CHECK(out.find("policy2\n") != std::string::npos);  // the first block ends with the third policy
  // Width 98 exactly fits three; 97 fits two (14 + 2 * 28 = 70): three blocks.
  CHECK(sl::cli::render(t, 97).find("policy1\n") != std::string::npos);
}

TEST_CASE("render: a key column too long for the width is cut") {
  sl::cli::TextTable t;
  t.key_headers = {"point"};
  t.value_headers = {"bad debt"};
  t.rows.push_back({{std::string(150, 'x')}, {"1"}});
  const std::string out = sl::cli::render(t, 40);
  CHECK(out.find("...") != std::string::npos);
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) CHECK(line.size() <= 40);
}

TEST_CASE("csv fields and wrapping") {
  CHECK(sl::cli::csv_field("market") == "market");
  CHECK(sl::cli::csv_field("[1,2]") == "\"[1,2]\"");
  CHECK(sl::cli::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(sl::cli::wrap("aaa bbb ccc", 7, 2) == "aaa bbb\n  ccc\n");
}
