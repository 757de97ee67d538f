#include "sim/sweep/run_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <type_traits>

namespace sl {

// ---------------------------------------------------------------------------------------------------
// Hash: FNV-1a over the bytes, then a 64-bit avalanche finaliser mixed with the length, so that
// single-bit flips and truncations change the value.

void Hash64::bytes(const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = h_;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  h_ = h;
  n_ += n;
}
void Hash64::u64(std::uint64_t v) {
  unsigned char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  bytes(b, 8);
}
void Hash64::str(std::string_view s) {
  u64(s.size());
  bytes(s.data(), s.size());
}
std::uint64_t Hash64::value() const {
  std::uint64_t z = h_ ^ (n_ * 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
std::uint64_t hash64(std::string_view data) {
  Hash64 h;
  h.bytes(data.data(), data.size());
  return h.value();
}

// ---------------------------------------------------------------------------------------------------
// RunResult serialization

namespace {

class Writer {
 public:
  void raw(const void* p, std::size_t n) {
    if (n > 0) out_.append(static_cast<const char*>(p), n);  // p may be null when n is 0 (empty vector)
  }
  void u64(std::uint64_t v) { raw(&v, 8); }
  void i64(std::int64_t v) { raw(&v, 8); }
  void u32(std::uint32_t v) { raw(&v, 4); }
  void i32(std::int32_t v) { raw(&v, 4); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  // Typed writes for the field lists below: integers and doubles as their bytes, a bool as u32 0/1.
  void put(const std::string& s) { str(s); }
  void put(bool v) { u32(v ? 1u : 0u); }
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  void put(T v) { raw(&v, sizeof v); }
  std::string take() { return std::move(out_); }
  std::string& buf() { return out_; }

 private:
  std::string out_;
};

// Bounds-checked reader: every read fails (ok() false) rather than leaving the buffer.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool raw(void* p, std::size_t n) {
    if (!ok_ || n > b_.size() - pos_) return ok_ = false;
    if (n == 0) return true;  // p may be null (empty vector); memcpy must not see it
    std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::uint64_t u64() { std::uint64_t v = 0; raw(&v, 8); return v; }
  std::int64_t i64() { std::int64_t v = 0; raw(&v, 8); return v; }
  std::uint32_t u32() { std::uint32_t v = 0; raw(&v, 4); return v; }
  std::int32_t i32() { std::int32_t v = 0; raw(&v, 4); return v; }
  double f64() { double v = 0; raw(&v, 8); return v; }
  std::string str() {
    const std::uint64_t n = u64();
    if (!ok_ || n > b_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(b_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  // Typed reads matching Writer::put; a bool other than 0/1 fails the read.
  void get(std::string& s) { s = str(); }
  void get(bool& v) {
    const std::uint32_t x = u32();
    if (x > 1) ok_ = false;
    v = x == 1;
  }
  template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
  void get(T& v) { raw(&v, sizeof v); }
  // A count of items each at least `min_bytes` long must fit in what is left (guards allocations).
  std::uint64_t count(std::size_t min_bytes) {
    const std::uint64_t n = u64();
    if (!ok_ || (min_bytes > 0 && n > (b_.size() - pos_) / min_bytes)) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == b_.size(); }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// The fields of a liquidation event in file order: the writer and the reader walk the same list.
template <class Event, class Visit>
void event_fields(Event& e, Visit&& visit) {
  visit(e.step), visit(e.account), visit(e.agent_type), visit(e.policy_path), visit(e.notional), visit(e.price),
      visit(e.mark), visit(e.slippage_bps), visit(e.penalty), visit(e.liquidator), visit(e.steps_to_complete),
      visit(e.bad_debt), visit(e.endogenous);
}

constexpr char kMagic[8] = {'S', 'L', 'S', 'E', 'G', '\r', '\n', '\x1a'};
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;

}  // namespace

std::string serialize_run(const RunResult& r) {
  Writer w;
  w.str(r.run_id);
  w.str(r.policy);
  w.u64(r.seed);
  w.i64(r.run_index);
  w.u64(r.params.size());
  for (const auto& [k, v] : r.params) w.str(k), w.str(v);
  w.u64(r.series.size());
  for (const SeriesColumn& c : r.series) {
    w.str(c.name);
    w.str(c.unit);
    w.u64(c.values.size());
    w.raw(c.values.data(), c.values.size() * sizeof(double));
  }
  w.u64(r.liquidations.size());
  for (const LiquidationEvent& e : r.liquidations) event_fields(e, [&w](const auto& x) { w.put(x); });
  w.u64(r.summary.size());
  for (const auto& [k, v] : r.summary) w.str(k), w.f64(v);
  return w.take();
}

std::optional<RunResult> deserialize_run(std::string_view bytes) {
  Reader rd(bytes);
  RunResult r;
  r.run_id = rd.str();
  r.policy = rd.str();
  r.seed = rd.u64();
  r.run_index = rd.i64();
  const std::uint64_t np = rd.count(16);
  for (std::uint64_t i = 0; i < np && rd.ok(); ++i) {
    std::string k = rd.str();
    std::string v = rd.str();
    r.params.emplace_back(std::move(k), std::move(v));
  }
  const std::uint64_t ns = rd.count(24);
  for (std::uint64_t i = 0; i < ns && rd.ok(); ++i) {
    SeriesColumn c;
    c.name = rd.str();
    c.unit = rd.str();
    const std::uint64_t n = rd.count(sizeof(double));
    if (!rd.ok()) break;
    c.values.resize(n);
    rd.raw(c.values.data(), n * sizeof(double));
    r.series.push_back(std::move(c));
  }
  const std::uint64_t nl = rd.count(8 + 4 + 16 + 6 * 8 + 3 * 4);
  for (std::uint64_t i = 0; i < nl && rd.ok(); ++i) {
    LiquidationEvent e;
    event_fields(e, [&rd](auto& x) { rd.get(x); });
    r.liquidations.push_back(std::move(e));
  }
  const std::uint64_t nm = rd.count(16);
  for (std::uint64_t i = 0; i < nm && rd.ok(); ++i) {
    std::string k = rd.str();
    const double v = rd.f64();
    r.summary.emplace_back(std::move(k), v);
  }
  if (!rd.ok() || !rd.at_end()) return std::nullopt;
  return r;
}

std::string encode_segment(const RunResult& run, std::uint64_t plan_hash) {
  const std::string payload = serialize_run(run);
  Writer w;
  w.raw(kMagic, sizeof kMagic);
  w.u32(kSegmentFormat);
  w.u32(0);
  w.i64(run.run_index);
  w.u64(plan_hash);
  w.u64(payload.size());
  w.raw(payload.data(), payload.size());
  w.u64(hash64(w.buf()));
  return w.take();
}

std::optional<RunResult> decode_segment(std::string_view file, std::uint64_t plan_hash, std::int64_t run_index) {
  if (file.size() < kHeaderBytes + 8) return std::nullopt;
  const std::string_view body = file.substr(0, file.size() - 8);
  std::uint64_t stored = 0;
  std::memcpy(&stored, file.data() + body.size(), 8);
  if (stored != hash64(body)) return std::nullopt;
  Reader rd(body);
  char magic[8];
  rd.raw(magic, 8);
  if (std::memcmp(magic, kMagic, 8) != 0) return std::nullopt;
  if (rd.u32() != kSegmentFormat) return std::nullopt;
  rd.u32();
  if (rd.i64() != run_index) return std::nullopt;
  if (rd.u64() != plan_hash) return std::nullopt;
  const std::uint64_t n = rd.u64();
  if (!rd.ok() || n != body.size() - kHeaderBytes) return std::nullopt;
  std::optional<RunResult> r = deserialize_run(body.substr(kHeaderBytes));
  if (r && r->run_index != run_index) return std::nullopt;
  return r;
}

// ---------------------------------------------------------------------------------------------------
// Files

std::string parts_dir_for(const std::string& out_path) { return out_path + ".parts"; }

std::string segment_path(const std::string& parts_dir, std::int64_t run_index) {
  char name[40];
  std::snprintf(name, sizeof name, "/run-%09lld.seg", static_cast<long long>(run_index));
  return parts_dir + name;
}

std::string manifest_path(const std::string& parts_dir) { return parts_dir + "/manifest"; }

namespace {
[[noreturn]] void io_fail(const std::string& what, const std::string& path, int err) {
  throw std::runtime_error(what + " '" + path + "': " + std::strerror(err));
}

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

void write_file_atomic(const std::string& path, std::string_view content) {
  // The temp name is unique per process and thread, so concurrent writers (threads, MPI ranks on a
  // shared filesystem) never share one; a leftover after kill -9 never matches a final name.
  const std::string tmp = path + ".tmp-" + std::to_string(static_cast<long>(::getpid())) + "-" +
                          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 1000000007u);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_fail("cannot create", tmp, errno);
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      io_fail("cannot write", tmp, err);
    }
    off += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    io_fail("cannot fsync", tmp, err);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    io_fail("cannot rename into place", path, err);
  }
  // Make the rename itself durable.
  const int dfd = ::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::optional<std::string> read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof buf);
    s.append(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return s;
}

void write_segment(const std::string& parts_dir, const RunResult& run, std::uint64_t plan_hash) {
  write_file_atomic(segment_path(parts_dir, run.run_index), encode_segment(run, plan_hash));
}

std::optional<RunResult> read_segment(const std::string& parts_dir, std::int64_t run_index, std::uint64_t plan_hash) {
  const std::optional<std::string> bytes = read_whole_file(segment_path(parts_dir, run_index));
  if (!bytes) return std::nullopt;
  return decode_segment(*bytes, plan_hash, run_index);
}

std::string encode_manifest(std::uint64_t plan_hash, std::size_t runs) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "stresslab sweep parts\nformat %u\nplan_hash %016llx\nruns %zu\n", kSegmentFormat,
                static_cast<unsigned long long>(plan_hash), runs);
  return buf;
}

std::optional<std::uint64_t> manifest_plan_hash(std::string_view text) {
  const std::string head = "stresslab sweep parts\nformat " + std::to_string(kSegmentFormat) + "\nplan_hash ";
  if (text.substr(0, head.size()) != head) return std::nullopt;
  const std::string_view rest = text.substr(head.size());
  if (rest.size() < 17 || rest[16] != '\n') return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 16; ++i) {
    const char c = rest[static_cast<std::size_t>(i)];
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else return std::nullopt;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

}  // namespace sl
