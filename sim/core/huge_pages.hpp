// Memory for the few arrays that grow with the number of accounts (issue #15: a million passive
// positions). Three things, each measured on a 1M passive run:
//
// Transparent huge pages. The kernel is asked (madvise MADV_HUGEPAGE, honoured under the usual
// "madvise" THP setting) to back an array with 2 MB pages: one fault per 2 MB (a 1M run: 45,000
// page faults with 4 KB pages, 8,800 with the advice). HugePageAllocator starts a block of at least
// kHugeAllocMin bytes on a 2 MB boundary and makes it whole 2 MB pages, all advised, so no 4 KB
// pages are left at its ends (6,100 -> 3,200 faults). Only the backing changes: contents and
// results do not.
//
// Zero-filled blocks. Every block ZeroedAllocator returns is zero without a write: a fresh
// anonymous mapping (calloc below kHugeAllocMin). An untouched page costs neither memory nor time,
// and on this VM first touching memory is most of what memory costs (64 MB first touched in a new
// process: 10-110 ms, depending on whether the host has taken back the guest's free pages; written
// again: 4 ms). ZeroGrowVector grows an array without writing its new elements, so an array that
// stays zero for most accounts (names kept elsewhere, change marks, margin ids) costs only the pages
// its few non-zero elements sit on, and no array is written twice (zeros, then its values).
//
// Small pages for sparse arrays. A touched 2 MB page is 2 MB zeroed and kept; an array written here
// and there (a counterparty's margin id after a million positions' ids) uses SmallPageAllocator,
// 4 KB pages. Peak RSS of the 1M run: 59 MB with every array on huge pages and zero-filled by
// resize, 45 MB now.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "sim/core/default_init_allocator.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sl {

inline void advise_huge_pages(const void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
  if (p == nullptr || bytes < 2 * kHuge) return;
  const std::uintptr_t b = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t e = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);  // advice only: a failure changes nothing
#else
  (void)p;
  (void)bytes;
#endif
}

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;
inline constexpr std::size_t kHugeAllocMin = std::size_t{1} << 20;  // below: calloc's blocks

// Every block a ZeroedAllocator returns is zero-filled, without a write: a large block is a fresh
// anonymous mapping (the kernel's zero pages; a page costs memory and a fault only when first
// written), a small one comes from calloc. ZeroGrowVector (below) relies on it. With kHugePages
// (HugePageAllocator) a large block starts on a 2 MB boundary and is whole 2 MB pages, all advised:
// for arrays written densely. Without (SmallPageAllocator) it keeps 4 KB pages: for arrays written
// here and there (a touched 2 MB page is 2 MB zeroed and kept).
template <class T, bool kHugePages>
struct ZeroedAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "calloc's blocks are aligned for max_align_t only");
  using value_type = T;
  template <class U>
  struct rebind {
    using other = ZeroedAllocator<U, kHugePages>;
  };
  ZeroedAllocator() = default;
  template <class U>
  ZeroedAllocator(const ZeroedAllocator<U, kHugePages>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > (static_cast<std::size_t>(-1) - 2 * kHugePageBytes) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = bytes >= kHugeAllocMin ? map_zeroed(rounded(bytes)) : std::calloc(bytes == 0 ? 1 : bytes, 1);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes >= kHugeAllocMin)
      unmap(p, rounded(bytes));
    else
      std::free(p);
  }
  template <class U>
  bool operator==(const ZeroedAllocator<U, kHugePages>&) const noexcept { return true; }

 private:
  static constexpr std::size_t kUnit = kHugePages ? kHugePageBytes : std::size_t{4096};
  static std::size_t rounded(std::size_t bytes) { return (bytes + kUnit - 1) & ~(kUnit - 1); }
  // `size` bytes (whole units) zero-filled; with huge pages on a 2 MB boundary and advised: a mapping
  // 2 MB longer, its ends before the boundary and after the block returned to the kernel.
  static void* map_zeroed(std::size_t size) {
#if defined(__linux__)
    const std::size_t slack = kHugePages ? kHugePageBytes : 0;
    void* m = mmap(nullptr, size + slack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    if constexpr (!kHugePages) {
      return m;
    } else {
      const auto base = reinterpret_cast<std::uintptr_t>(m);
      const std::uintptr_t start = (base + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
      if (start > base) munmap(m, start - base);
      const std::uintptr_t tail = base + size + slack - (start + size);
      if (tail > 0) munmap(reinterpret_cast<void*>(start + size), tail);
#if defined(MADV_HUGEPAGE)
      madvise(reinterpret_cast<void*>(start), size, MADV_HUGEPAGE);  // advice only: a failure changes nothing
#endif
      return reinterpret_cast<void*>(start);
    }
#else
    void* p = std::aligned_alloc(kUnit, size);
    if (p != nullptr) std::memset(p, 0, size);
    return p;
#endif
  }
  static void unmap(void* p, std::size_t size) noexcept {
#if defined(__linux__)
    munmap(p, size);
#else
    (void)size;
    std::free(p);
#endif
  }
};
template <class T>
using HugePageAllocator = ZeroedAllocator<T, true>;
template <class T>
using SmallPageAllocator = ZeroedAllocator<T, false>;

// An array that grows with the number of accounts.
template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

// v.reserve(n), then the advice for the whole capacity (before anything is written to it).
template <class T, class A>
void reserve_huge(std::vector<T, A>& v, std::size_t n) {
  const bool grows = n > v.capacity();
  v.reserve(n);
  if (grows) advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

// An array that only grows and whose new elements are zero without being written: grow_to(n) leaves
// elements [size, n) as the zero-filled block left them (ZeroedAllocator's), which nothing can
// have written since, since nothing here shrinks the array (no resize down, no clear, no pop). For
// the arrays per account that stay zero for most accounts (a million passive positions' margin
// ids, names kept elsewhere, change marks): their untouched pages are never faulted in, and no
// array is written twice, once with zeros and once with its values.
template <class T, bool kHugePages = true>
class ZeroGrowVector {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_default_constructible_v<T>,
                "an element is its bytes: all zero is the zero value");

 public:
  using value_type = T;
  std::size_t size() const { return v_.size(); }
  std::size_t capacity() const { return v_.capacity(); }
  bool empty() const { return v_.empty(); }
  T* data() { return v_.data(); }
  const T* data() const { return v_.data(); }
  T& operator[](std::size_t i) { return v_[i]; }
  const T& operator[](std::size_t i) const { return v_[i]; }
  T* begin() { return v_.data(); }
  T* end() { return v_.data() + v_.size(); }
  const T* begin() const { return v_.data(); }
  const T* end() const { return v_.data() + v_.size(); }
  void push_back(const T& x) { v_.push_back(x); }
  // Elements [size(), n) appended, all zero (nothing if n <= size()).
  void grow_to(std::size_t n) {
    if (n > v_.size()) v_.resize(n);  // default-initialised: not written
  }
  void reserve(std::size_t n) { v_.reserve(n); }  // the allocator advises (or not) whole blocks

 private:
  using Alloc = std::conditional_t<kHugePages, DefaultInitAllocator<T, HugePageAllocator>, DefaultInitAllocator<T, SmallPageAllocator>>;
  std::vector<T, Alloc> v_;
};

}  // namespace sl
