#pragma once
// Prints engine events: a progress bar with ETA on a terminal, plain lines when piped.
#include "core/train/observer.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace continua::app {

class CliObserver : public core::TrainingObserver {
 public:
  CliObserver() : m_tty(isatty(STDOUT_FILENO) != 0) {}
  void onRunCreated(int64_t id, const std::string& db) override {
    std::cout << "run " << id << " in " << db << "\n" << std::flush;
  }
  void onLog(const std::string& line) override { endBar(); std::cout << line << "\n" << std::flush; }
  void onStatus(int64_t id, const std::string& status, const std::string& message) override {
    if (status == "running") return;
    endBar();
    std::cout << "run " << id << ": " << status << (message.empty() ? "" : " (" + message + ")") << "\n" << std::flush;
  }
  void onMetrics(int64_t, const std::vector<core::MetricPoint>& points) override {
    for (const auto& p : points)
      if (p.key.rfind("test/", 0) == 0) {
        endBar();
        std::printf("step %lld  %s = %.4f\n", static_cast<long long>(p.step), p.key.c_str(), p.value);
      }
    std::fflush(stdout);
  }
  void onProgress(const core::Progress& p) override {
    if (m_tty) {
      const int width = 30, filled = int(width * p.step / std::max<int64_t>(1, p.totalSteps));
      std::printf("\r[%s%s] %lld/%lld  loss %.4f  ETA %s ", std::string(filled, '#').c_str(),
                  std::string(width - filled, '.').c_str(), static_cast<long long>(p.step),
                  static_cast<long long>(p.totalSteps), p.lastLoss, clock(p.etaSeconds).c_str());
      std::fflush(stdout);
      m_barOpen = true;
    } else if (p.step % std::max<int64_t>(1, p.totalSteps / 20) == 0 || p.step == p.totalSteps) {
      std::printf("step %lld/%lld loss %.4f eta %s\n", static_cast<long long>(p.step), static_cast<long long>(p.totalSteps),
                  p.lastLoss, clock(p.etaSeconds).c_str());
      std::fflush(stdout);
    }
  }

 private:
  static std::string clock(double s) {
    char b[32];
    std::snprintf(b, sizeof b, "%d:%02d", int(s) / 60, int(s) % 60);
    return b;
  }
  void endBar() {
    if (m_barOpen) std::printf("\n");
    m_barOpen = false;
  }
  bool m_tty;
  bool m_barOpen = false;
};

}  // namespace continua::app
