// A bit-exact replica of numpy's legacy global generator (np.random.seed /
// RandomState): MT19937 seeded with init_genrand, masked rejection sampling for
// randint, 53-bit doubles, and exponential as scale * -log(1 - U).
// The notebook's synthetic data is defined by these draws, so netlof must make
// the same ones in the same order.
#pragma once

#include <cstdint>
#include <random>

namespace netlof {

class NumpyRandomState {
public:
    explicit NumpyRandomState(std::uint32_t seed) : mt_(seed) {}

    std::uint32_t next_uint32() { return static_cast<std::uint32_t>(mt_()); }
    std::uint64_t next_uint64() {
        std::uint64_t hi = next_uint32();
        return (hi << 32) | next_uint32();
    }
    // random_sample(): 53-bit resolution in [0, 1).
    double next_double();
    // randint(low, high): uniform integer in [low, high); throws if high <= low.
    std::int64_t randint(std::int64_t low, std::int64_t high);
    // choice(a) over n elements returns randint(0, n); n == 1 draws nothing.
    std::size_t choice_index(std::size_t n) { return static_cast<std::size_t>(randint(0, static_cast<std::int64_t>(n))); }
    double exponential(double scale);

private:
    std::mt19937 mt_;  // std::mt19937(seed) is exactly numpy's init_genrand(seed)
};

}  // namespace netlof
