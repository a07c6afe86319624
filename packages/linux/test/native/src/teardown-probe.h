// Test builds only (POLL_TEARDOWN_PROBE; included before poll's headers, which call At()): makes a worker's terminate() land exactly inside a
// chosen native entry point. Armed with a name and a descriptor, the entry point of that name
// writes one byte to the descriptor (the test's cue to call worker.terminate()), then waits
// until the environment can no longer run JavaScript, and carries on as it would when
// terminate() strikes in the middle of it. One shot: it disarms itself when it fires.
#pragma once

#include <node_api.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

namespace pollglue {
inline bool CanRunJs(napi_env env);  // poll/addon.h
}

namespace pollprobe {

struct State {
  std::mutex mutex;
  std::string where;
  int fd = -1;
};

inline State& state() {
  static State s;
  return s;
}

inline void Arm(const char* where, int fd) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().where = where;
  state().fd = fd;
}

inline void At(napi_env env, const char* where) {
  int fd;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    if (state().where != where) return;
    state().where.clear();
    fd = state().fd;
  }
  const char byte = 'p';
  while (write(fd, &byte, 1) < 0 && errno == EINTR) {
  }
  // Up to 10 s for the test to terminate this environment.
  for (int i = 0; i < 10000 && pollglue::CanRunJs(env); i++) usleep(1000);
}

}  // namespace pollprobe
