#pragma once
// SIGINT/SIGTERM for the long-running commands (demo, run): the first asks the engine to stop
// (it settles orders, flushes and reports); the second exits at once. Nothing is corrupted by
// that: the ledger and the order journal commit each change in SQLite's WAL and candle files are
// published by atomic rename. Construct it before starting any thread: the signals are blocked
// in every thread started after it and read by its own.

#include <csignal>
#include <cstdlib>
#include <stop_token>
#include <thread>

#include <fmt/core.h>

namespace twinstar {

class SignalWatcher {
 public:
  explicit SignalWatcher(std::stop_source stop) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started after this
    thread_ = std::jthread([set, stop](std::stop_token own) mutable {
      int count = 0;
      while (!own.stop_requested()) {
        timespec timeout{0, 200'000'000};
        const int sig = sigtimedwait(&set, nullptr, &timeout);
        if (sig <= 0) continue;
        if (++count == 1) {
          fmt::print(stderr, "\nstopping: settling orders, flushing candles, printing the final report (again to quit at once)\n");
          stop.request_stop();
        } else {
          std::_Exit(130);
        }
      }
    });
  }

 private:
  std::jthread thread_;
};

}  // namespace twinstar
