// A fresh, empty directory for one test (under the system temp dir, named by test binary prefix,
// pid and a counter so parallel ctest processes never share one), removed at scope exit.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <iterator>
#include <string>
#include <system_error>

namespace sl::test {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "sl_test") {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(path), {}));
  }
};

}  // namespace sl::test
