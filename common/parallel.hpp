// A minimal dynamic-scheduling parallel loop over [0, n) in chunks; the model
// uses both cores of the machines it runs on without pulling in OpenMP.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace netlof {

inline unsigned default_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

// Calls fn(begin, end) for chunks of at most `chunk` items on up to `threads`
// threads. The first exception thrown by any fn is rethrown in the caller.
template <typename Fn>
void parallel_for(std::size_t n, std::size_t chunk, unsigned threads, Fn&& fn) {
    if (n == 0) return;
    chunk = std::max<std::size_t>(1, chunk);
    const std::size_t chunks = (n + chunk - 1) / chunk;
    threads = static_cast<unsigned>(std::min<std::size_t>(std::max(1u, threads), chunks));
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        try {
            for (std::size_t c; (c = next.fetch_add(1)) < chunks;) fn(c * chunk, std::min(n, (c + 1) * chunk));
        } catch (...) {
            std::lock_guard<std::mutex> lock(error_mutex);
            if (!error) error = std::current_exception();
            next.store(chunks);
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

}  // namespace netlof
