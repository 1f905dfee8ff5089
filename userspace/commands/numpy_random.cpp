#include "userspace/commands/numpy_random.hpp"

#include <cmath>
#include <stdexcept>

namespace netlof {

double NumpyRandomState::next_double() {
    // mt19937_next_double: (a * 2^26 + b) / 2^53 with a = 27 bits, b = 26 bits.
    std::int32_t a = static_cast<std::int32_t>(next_uint32() >> 5);
    std::int32_t b = static_cast<std::int32_t>(next_uint32() >> 6);
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

std::int64_t NumpyRandomState::randint(std::int64_t low, std::int64_t high) {
    if (high <= low) throw std::invalid_argument("randint: low >= high");
    // numpy computes rng = (high - 1) - low as unsigned and samples [0, rng].
    const std::uint64_t rng = static_cast<std::uint64_t>(high - 1) - static_cast<std::uint64_t>(low);
    const std::uint64_t off = static_cast<std::uint64_t>(low);
    if (rng == 0) return low;  // no draw at all, as in numpy
    std::uint64_t mask = rng;  // smallest all-ones mask covering rng
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    std::uint64_t val;
    if (rng <= 0xFFFFFFFFULL) {
        if (rng == 0xFFFFFFFFULL) return static_cast<std::int64_t>(off + next_uint32());
        do {
            val = next_uint32() & mask;
        } while (val > rng);
    } else {
        if (rng == 0xFFFFFFFFFFFFFFFFULL) return static_cast<std::int64_t>(off + next_uint64());
        do {
            val = next_uint64() & mask;
        } while (val > rng);
    }
    return static_cast<std::int64_t>(off + val);
}

double NumpyRandomState::exponential(double scale) { return scale * -std::log(1.0 - next_double()); }

}  // namespace netlof
