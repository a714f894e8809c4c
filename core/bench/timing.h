#pragma once
// Wall-clock medians for benchmarks (warm-up first; CUDA work is synchronised around each sample).
#include <functional>
#include <vector>

namespace continua::core {

double medianMs(const std::function<void()>& work, int repeats, bool cuda);
double medianOf(std::vector<double> values);  // the middle value, the mean of the two middle ones, 0 when empty
double copyBandwidthGBs();  // device-to-device copy of 1 GiB, read + write bytes per second

}  // namespace continua::core
