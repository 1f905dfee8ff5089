// An allocator for large, short-lived work buffers (the neighbour lists of a
// fit: n * k entries, 33 MB for 102,500 rows). It maps them with
// MADV_HUGEPAGE, so the first touch faults in 2 MiB pages instead of 4 KiB
// ones: fit time ~0.2 s instead of ~0.28 s on a 6.18 guest (make bench).
// Small requests, and kernels without THP, get ordinary memory.
#pragma once

#include <cstddef>
#include <new>
#include <sys/mman.h>

namespace netlof {

template <typename T>
struct HugePageAllocator {
    using value_type = T;
    static constexpr std::size_t kThreshold = std::size_t{4} << 20;

    HugePageAllocator() = default;
    template <typename U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < kThreshold) return static_cast<T*>(::operator new(bytes));
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only: failure leaves 4 KiB pages
        return static_cast<T*>(p);
    }
    void deallocate(T* p, std::size_t n) noexcept {
        const std::size_t bytes = n * sizeof(T);
        if (bytes < kThreshold) ::operator delete(p);
        else ::munmap(p, bytes);
    }
    template <typename U>
    bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace netlof
