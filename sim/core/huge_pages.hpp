// Transparent huge pages for the few arrays that grow with the number of accounts (issue #15: a
// million passive accounts fill about 170 MB once, at set-up; with 4 KB pages a 1M run takes 45,000
// page faults, with this advice 8,800). The kernel is asked (madvise MADV_HUGEPAGE, honoured
// under the usual "madvise" THP setting) to back the 2 MB-aligned interior of such an array with
// 2 MB pages: one fault per 2 MB. Only the backing changes: contents, addresses and results do
// not. Arrays under 4 MB are left alone (the edges of a range keep 4 KB pages anyway).
//
// HugePageAllocator goes one step further for the arrays it serves: an allocation of at least
// kHugeAllocMin bytes starts on a 2 MB boundary and is rounded up to whole 2 MB pages, all of it
// advised, so no 4 KB pages are left at its edges. With the advice on the interior only, each
// such array kept up to 2 x 512 pages of 4 KB at its two ends, about 3,500 of a 1M run's 6,100
// page faults (perf record -e page-faults: the ledger's names and balances, margin_of_, the watch
// heaps). A touched 2 MB page is zeroed whole by the kernel: at most one page more per array.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

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
inline constexpr std::size_t kHugeAllocMin = std::size_t{1} << 20;  // below: malloc's usual blocks

template <class T>
struct HugePageAllocator {
  static_assert(alignof(T) <= alignof(std::max_align_t), "malloc's blocks are aligned for max_align_t only");
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > (static_cast<std::size_t>(-1) - kHugePageBytes) / sizeof(T)) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    void* p = nullptr;
    if (bytes >= kHugeAllocMin) {
      const std::size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
      p = std::aligned_alloc(kHugePageBytes, rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
      if (p != nullptr) madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a failure changes nothing
#endif
    } else {
      p = std::malloc(bytes == 0 ? 1 : bytes);
    }
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }  // both kinds come from malloc's heap or maps
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

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

}  // namespace sl
