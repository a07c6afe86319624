// A kevent another thread can fire at a kqueue, for the waiter thread's wake-up and for the
// select waiter's reports (select.h). The mechanism is chosen here, once: EVFILT_USER where
// the system has it (no descriptor at all), else the read filter of a close-on-exec pipe.
// Either way its udata is kWakeToken, a token core never hands out.
#pragma once

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <type_traits>

#include "poll/loop.h"

namespace pollbsd {

// udata is void* on macOS and FreeBSD, intptr_t on older NetBSD.
template <class T>
T ToUdata(intptr_t value) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<T>(value);
  } else {
    return static_cast<T>(value);
  }
}
template <class T>
intptr_t FromUdata(T udata) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<intptr_t>(udata);
  } else {
    return static_cast<intptr_t>(udata);
  }
}

class KeventTrigger {
 public:
  // Registers the trigger on `kq`; `ident` tells EVFILT_USER triggers apart. 0 or errno.
  int Init(int kq, uintptr_t ident) {
    kq_ = kq;
    ident_ = ident;
#ifdef EVFILT_USER
    struct kevent ev;
    EV_SET(&ev, ident_, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, ToUdata<decltype(ev.udata)>(pollglue::kWakeToken));
    return kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0 ? errno : 0;
#else
    if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) < 0) return errno;
    struct kevent ev;
    EV_SET(&ev, static_cast<uintptr_t>(pipe_[0]), EVFILT_READ, EV_ADD, 0, 0,
           ToUdata<decltype(ev.udata)>(pollglue::kWakeToken));
    if (kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0) {
      int err = errno;
      Close();
      return err;
    }
    return 0;
#endif
  }

  // From any thread.
  void Fire() {
#ifdef EVFILT_USER
    struct kevent ev;
    EV_SET(&ev, ident_, EVFILT_USER, 0, NOTE_TRIGGER, 0, ToUdata<decltype(ev.udata)>(pollglue::kWakeToken));
    kevent(kq_, &ev, 1, nullptr, 0, nullptr);
#else
    char byte = 0;
    ssize_t w;
    do {
      w = write(pipe_[1], &byte, 1);
    } while (w < 0 && errno == EINTR);  // EAGAIN: the pipe is full of fired triggers already
#endif
  }

  bool Owns(const struct kevent& ev) const {
#ifdef EVFILT_USER
    return ev.filter == EVFILT_USER && ev.ident == ident_;
#else
    return pipe_[0] >= 0 && ev.filter == EVFILT_READ && ev.ident == static_cast<uintptr_t>(pipe_[0]);
#endif
  }

  // After its event: ready for the next Fire (EVFILT_USER clears itself, EV_CLEAR).
  void Consume() {
#ifndef EVFILT_USER
    char buf[64];
    while (read(pipe_[0], buf, sizeof buf) > 0) {
    }
#endif
  }

  // Whether `fd` is one of its own descriptors, which the application must not watch.
  bool Holds(int fd) const {
#ifdef EVFILT_USER
    (void)fd;
    return false;
#else
    return fd >= 0 && (fd == pipe_[0] || fd == pipe_[1]);
#endif
  }

  void Close() {
    for (int& fd : pipe_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }

 private:
  int kq_ = -1;
  uintptr_t ident_ = 0;
  int pipe_[2] = {-1, -1};
};

}  // namespace pollbsd
