// Round lengths of time, 1 s to a day: the report's time buckets and the
// ticks of its time axes are both chosen from them, so bars and labels agree.
#pragma once

namespace netlof {

inline constexpr double kRoundTimeSteps[] = {1,   2,   5,    10,   15,   30,    60,    120,   300,
                                             600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400};

}  // namespace netlof
