// kqueue, as the Kernel of pollglue::PollerWrap (see tooling/native/include/poll/poller.h).
// It joins the loop through pollglue::ThreadLoop: see loop.h for why not a nested kqueue.
#pragma once

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__OpenBSD__)
#include <sys/param.h>
#endif

#include <cerrno>
#include <cstdint>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "poll/addon.h"
#include "poll/loop.h"

namespace pollbsd {

using namespace pollglue;

// Out-of-band data as an event: macOS 10.12+, FreeBSD 12+. Elsewhere priority is refused up
// front (ERR_POLL_UNSUPPORTED from core), never silently dropped.
#if defined(EVFILT_EXCEPT) && defined(NOTE_OOB)
#define POLL_HAVE_EVFILT_EXCEPT 1
#endif

class KqueueKernel {
 public:
  static constexpr const char* kCtlSyscall = "kevent";
  static constexpr int32_t kSupported = kReadable | kWritable | kEdge | kOneshot
#ifdef POLL_HAVE_EVFILT_EXCEPT
                                        | kPriority
#endif
      ;

  // Close-on-exec from birth where the system can (FreeBSD 14 kqueuex, NetBSD and OpenBSD 7.4
  // kqueue1); elsewhere (macOS) kqueue() then FD_CLOEXEC, and a descriptor whose flag could not
  // be set is closed rather than handed out half-made.
  static int Create(const char** failed) {
#if defined(KQUEUE_CLOEXEC)
    int fd = kqueuex(KQUEUE_CLOEXEC);
    if (fd >= 0 || errno != ENOSYS) {
      if (fd < 0) *failed = "kqueuex";
      return fd;
    }
#elif defined(__NetBSD__) || (defined(__OpenBSD__) && OpenBSD >= 202310)
    int fd = kqueue1(O_CLOEXEC);
    if (fd >= 0 || errno != ENOSYS) {
      if (fd < 0) *failed = "kqueue1";
      return fd;
    }
#else
    int fd;
#endif
    fd = kqueue();
    if (fd < 0) {
      *failed = "kqueue";
      return -1;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
      int err = errno;
      close(fd);
      errno = err;
      *failed = "fcntl";
      return -1;
    }
    return fd;
  }

  KqueueKernel(int fd, size_t capacity) : kq_(fd), events_(capacity) {}

  int fd() const { return kq_; }
  size_t capacity() const { return events_.size(); }

  int Add(int fd, int32_t mask, int32_t token) {
    int32_t added = 0;
    for (const Filter& f : kFilters) {
      if (!(mask & f.bit)) continue;
      if (int err = Change(fd, f.filter, EV_ADD | EV_ENABLE | ModeFlags(mask), f.fflags, token); err != 0) {
        Delete(fd, added);  // all or nothing
        return err;
      }
      added |= f.bit;
    }
    filters_[fd] = added;
    return 0;
  }

  // Filters are per (fd, filter) in kqueue: add or update the wanted ones, drop the rest.
  int Modify(int fd, int32_t mask, int32_t token) {
    auto it = filters_.find(fd);
    if (it == filters_.end()) return ENOENT;
    int32_t wanted = 0;
    for (const Filter& f : kFilters) {
      if (!(mask & f.bit)) continue;
      if (int err = Change(fd, f.filter, EV_ADD | EV_ENABLE | ModeFlags(mask), f.fflags, token); err != 0) {
        Delete(fd, wanted & ~it->second);  // undo what this call added; updates stay
        return err;
      }
      wanted |= f.bit;
    }
    Delete(fd, it->second & ~wanted);
    it->second = wanted;
    return 0;
  }

  // The kernel drops a descriptor's filters when it is closed; report that as EBADF/ENOENT so
  // core can tell "already gone" from a real failure.
  int Remove(int fd) {
    auto it = filters_.find(fd);
    if (it == filters_.end()) return ENOENT;
    int32_t current = it->second;
    filters_.erase(it);
    return Delete(fd, current);
  }

  int Wait(int timeout_ms) {
    timespec zero{0, 0};
    int n;
    do {
      n = kevent(kq_, nullptr, 0, events_.data(), static_cast<int>(events_.size()), timeout_ms < 0 ? nullptr : &zero);
    } while (n < 0 && errno == EINTR && timeout_ms == 0);
    return n < 0 ? -errno : n;
  }

  // One kevent per (fd, filter): merge them so a descriptor both readable and writable is one
  // event, as on epoll.
  size_t Translate(int n, BatchSink& sink) {
    slots_.clear();
    size_t count = 0;
    for (int i = 0; i < n; i++) {
      const struct kevent& ev = events_[i];
      int32_t token = static_cast<int32_t>(reinterpret_cast<intptr_t>(UdataPointer(ev.udata)));
      if (token == kWakeToken) continue;
      int fd = static_cast<int>(ev.ident);
      int32_t mask = 0;
      if (ev.filter == EVFILT_READ) mask |= kReadable;
      if (ev.filter == EVFILT_WRITE) mask |= kWritable;
#ifdef POLL_HAVE_EVFILT_EXCEPT
      if (ev.filter == EVFILT_EXCEPT) mask |= kPriority;
#endif
      if (ev.flags & EV_EOF) mask |= kHangup;
      // EV_EOF with fflags: the socket's pending error; EV_ERROR: the filter itself failed.
      if ((ev.flags & EV_ERROR) || ((ev.flags & EV_EOF) && ev.fflags != 0)) mask |= kError;
      auto [slot, fresh] = slots_.try_emplace(fd, count);
      if (fresh) {
        sink.Put(count++, fd, token, mask);
      } else {
        sink.Merge(slot->second, mask);
      }
    }
    return count;
  }

  void Close() {
    close(kq_);
    kq_ = -1;
    filters_.clear();
  }

 private:
  struct Filter {
    int32_t bit;
    short filter;
    unsigned fflags;
  };
  static constexpr Filter kFilters[] = {
      {kReadable, EVFILT_READ, 0},
      {kWritable, EVFILT_WRITE, 0},
#ifdef POLL_HAVE_EVFILT_EXCEPT
      {kPriority, EVFILT_EXCEPT, NOTE_OOB},
#endif
  };

  static unsigned short ModeFlags(int32_t mask) {
    unsigned short flags = 0;
    if (mask & kEdge) flags |= EV_CLEAR;
    // EV_DISPATCH disables the filter after one event; EV_ADD|EV_ENABLE arms it again.
    if (mask & kOneshot) flags |= EV_DISPATCH;
    return flags;
  }

  // udata is void* on macOS and FreeBSD, intptr_t on older NetBSD.
  template <class T>
  static T ToUdata(intptr_t value) {
    if constexpr (std::is_pointer_v<T>) {
      return reinterpret_cast<T>(value);
    } else {
      return static_cast<T>(value);
    }
  }
  template <class T>
  static void* UdataPointer(T udata) {
    if constexpr (std::is_pointer_v<T>) {
      return reinterpret_cast<void*>(udata);
    } else {
      return reinterpret_cast<void*>(static_cast<intptr_t>(udata));
    }
  }

  // Changes are applied one at a time so each failure has its own errno.
  int Change(int fd, short filter, unsigned short flags, unsigned fflags, int32_t token) {
    struct kevent change;
    EV_SET(&change, static_cast<uintptr_t>(fd), filter, flags, fflags, 0,
           ToUdata<decltype(change.udata)>(static_cast<intptr_t>(token)));
    return kevent(kq_, &change, 1, nullptr, 0, nullptr) < 0 ? errno : 0;
  }

  // Deletes the filters in `bits`; the first errno, or 0.
  int Delete(int fd, int32_t bits) {
    int first = 0;
    for (const Filter& f : kFilters) {
      if (!(bits & f.bit)) continue;
      int err = Change(fd, f.filter, EV_DELETE, 0, 0);
      if (err != 0 && first == 0) first = err;
    }
    return first;
  }

  int kq_;
  std::vector<struct kevent> events_;
  std::unordered_map<int, int32_t> filters_;  // fd -> the filters registered for it
  std::unordered_map<int, size_t> slots_;     // per batch: fd -> its slot in the sink
};

}  // namespace pollbsd
