// Transparent huge pages for the few arrays that grow with the number of accounts (issue #15: a
// million passive accounts fill about 170 MB once, at set-up; with 4 KB pages a 1M run takes 45,000
// page faults, with this advice 8,800). The kernel is asked (madvise MADV_HUGEPAGE, honoured
// under the usual "madvise" THP setting) to back the 2 MB-aligned interior of such an array with
// 2 MB pages: one fault per 2 MB. Only the backing changes: contents, addresses and results do
// not. Arrays under 4 MB are left alone (the edges of a range keep 4 KB pages anyway).
#pragma once
#include <cstddef>
#include <cstdint>
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

// v.reserve(n), then the advice for the whole capacity (before anything is written to it).
template <class T, class A>
void reserve_huge(std::vector<T, A>& v, std::size_t n) {
  const bool grows = n > v.capacity();
  v.reserve(n);
  if (grows) advise_huge_pages(v.data(), v.capacity() * sizeof(T));
}

}  // namespace sl
