// An allocator whose value-less construction default-initialises (for a trivial type: leaves the
// memory as it is) instead of value-initialising (zeroing): a vector of such elements grown by
// resize() to be written right after does not write every element twice. Everything else is the
// base allocator's (std::allocator, or sim/core/huge_pages.hpp's HugePageAllocator).
#pragma once
#include <memory>
#include <new>
#include <utility>

namespace sl {

template <class T, template <class> class Base = std::allocator>
struct DefaultInitAllocator : Base<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U, Base>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U, Base>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept(noexcept(::new (static_cast<void*>(p)) U)) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

}  // namespace sl
