// kqueue, as the Kernel of pollglue::PollerWrap (see tooling/native/include/poll/poller.h).
// It joins the loop through a waiter thread: see waiter.h for why not a nested kqueue.
#pragma once

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#if defined(__OpenBSD__)
#include <sys/param.h>
#endif

#include <cerrno>
#include <cstdint>
#include <iterator>
#include <type_traits>
#include <utility>
#include <unordered_map>
#include <vector>

#include "poll/addon.h"
#include "poll/batch.h"
#include "poll/loop.h"

namespace pollbsd {

using namespace pollglue;

// Priority is not offered on kqueue: FreeBSD has no EVFILT_EXCEPT, and macOS builds its
// socket EVFILT_EXCEPT on the read filter, so it also fires for ordinary data (xnu
// bsd/kern/uipc_socket.c, soexcept_filtops) and a level-triggered priority watch would spin.
// core refuses it up front with ERR_POLL_UNSUPPORTED.

class KqueueKernel {
 public:
  static constexpr const char* kCtlSyscall = "kevent";
  static constexpr const char* kWaitSyscall = "kevent";
  static constexpr int32_t kSupported = kReadable | kWritable | kEdge | kOneshot;

  // Close-on-exec from birth where the system can (FreeBSD 14 kqueuex, NetBSD and OpenBSD 7.4
  // kqueue1); elsewhere (macOS) kqueue() then FD_CLOEXEC. A binary built where kqueuex exists
  // needs it at run time (FreeBSD 14 or later).
  static int Create(const char** failed) {
#if defined(KQUEUE_CLOEXEC)
    int fd = kqueuex(KQUEUE_CLOEXEC);
    if (fd < 0) *failed = "kqueuex";
    return fd;
#elif defined(__NetBSD__) || (defined(__OpenBSD__) && OpenBSD >= 202310)
    int fd = kqueue1(O_CLOEXEC);
    if (fd < 0) *failed = "kqueue1";
    return fd;
#else
    int fd = kqueue();
    if (fd < 0) {
      *failed = "kqueue";
      return -1;
    }
    return CloexecOrClose(fd, failed);
#endif
  }

  static const char* Explain(int) { return nullptr; }

  KqueueKernel(int fd, size_t capacity) : kq_(fd), events_(capacity) {
    size_t size = 16;
    while (size < capacity * 2) size <<= 1;
    seen_.resize(size);
  }

  int fd() const { return kq_; }
  size_t capacity() const { return events_.size(); }

  int Add(int fd, int32_t mask, int32_t token) {
    if (fd == wake_fd_) return EBADF;  // the waiter thread's, not the application's
    if (regs_.count(fd) != 0) return EEXIST;
    int32_t added = 0;
    if (int err = AddFilters(fd, mask, token, &added); err != 0) {
      int32_t left = added & ~Delete(fd, added);  // all or nothing
      if (left != 0) regs_[fd] = Reg{left, mask & kModes, token};  // what could not be undone
      return err;
    }
    regs_[fd] = Reg{added, mask & kModes, token};
    return 0;
  }

  // kqueue keeps one filter per (fd, filter). EV_ADD on an existing filter updates udata and
  // re-enables it but keeps the EV_CLEAR/EV_DISPATCH it was created with, so a change of mode
  // deletes and re-adds the filters. Whatever fails, the record ends up saying which filters
  // the kernel holds, so that remove() can delete every one of them.
  int Modify(int fd, int32_t mask, int32_t token) {
    if (fd == wake_fd_) return EBADF;
    auto it = regs_.find(fd);
    if (it == regs_.end()) return ENOENT;
    Reg old = it->second;
    int32_t modes = mask & kModes;
    int32_t held = old.filters;
    if (modes != old.modes) held &= ~Delete(fd, held);
    int32_t kept = held;  // filters still there as they were
    int32_t added = 0;
    int err = AddFilters(fd, mask, token, &added);
    if (err == 0) {
      held = added | (held & ~Delete(fd, held & ~added));  // then drop filters no longer wanted
      it->second = Reg{held, modes, token};
      return 0;
    }
    // Put back what was there: the registration must not be lost or half changed.
    held |= added;
    held &= ~Delete(fd, added & ~kept);
    int32_t restored = 0;
    AddFilters(fd, old.filters | old.modes, old.token, &restored);
    it->second = Reg{held | restored, old.modes, old.token};
    return err;
  }

  // The kernel drops a descriptor's filters when it is closed; that is reported as EBADF or
  // ENOENT so core can tell "already gone" from a real failure. The record is erased only once
  // no filter is left in the kernel.
  int Remove(int fd) {
    if (fd == wake_fd_) return EBADF;
    auto it = regs_.find(fd);
    if (it == regs_.end()) return ENOENT;
    int err = 0;
    int32_t left = it->second.filters & ~Delete(fd, it->second.filters, &err);
    if (left == 0) {
      regs_.erase(it);
    } else {
      it->second.filters = left;
    }
    return err;
  }

  int Wait(int timeout_ms) {
    timespec zero{0, 0};
    int n;
    do {
      n = kevent(kq_, nullptr, 0, events_.data(), static_cast<int>(events_.size()), timeout_ms < 0 ? nullptr : &zero);
    } while (n < 0 && errno == EINTR && timeout_ms == 0);
    return n < 0 ? -errno : n;
  }

  // One kevent per (fd, filter): merged so that a descriptor both readable and writable is one
  // event, as on epoll. Runs while the waiter thread is parked, so it may change filters.
  size_t Translate(int n, BatchSink& sink) {
    NextBatch();
    size_t count = 0;
    for (int i = 0; i < n; i++) {
      const struct kevent& ev = events_[i];
      int32_t token = static_cast<int32_t>(reinterpret_cast<intptr_t>(UdataPointer(ev.udata)));
      if (token == kWakeToken || IsWake(ev)) continue;
      int fd = static_cast<int>(ev.ident);
      int32_t mask = 0;
      if (ev.filter == EVFILT_READ) mask |= kReadable;
      if (ev.filter == EVFILT_WRITE) mask |= kWritable;
      if (ev.flags & EV_EOF) mask |= kHangup;
      // EV_EOF with fflags: the socket's pending error; EV_ERROR: the filter itself failed.
      if ((ev.flags & EV_ERROR) || ((ev.flags & EV_EOF) && ev.fflags != 0)) mask |= kError;
      size_t* slot = Seen(fd);
      if (slot != nullptr) {
        sink.Merge(*slot, mask);
        continue;
      }
      size_t at = count++;
      Remember(fd, at);
      sink.Put(at, fd, token, mask);
      // EV_DISPATCH disarms only the filter that fired; a oneshot watch is disarmed whole, as
      // with EPOLLONESHOT, until rearm() enables its filters again. Its other filter may be
      // ready as well without having been reported yet: kevent() applies a changelist one
      // change at a time while the waiter thread may already be collecting, so one filter's
      // event can come first. poll(2) says what is ready now, so the one event carries both.
      auto it = regs_.find(fd);
      if (it != regs_.end() && (it->second.modes & kOneshot)) {
        short others = 0;
        for (const Filter& f : kFilters) {
          if ((it->second.filters & f.bit) && f.filter != ev.filter) {
            Change(fd, f.filter, EV_DISABLE, 0, token);
            others |= f.bit == kReadable ? POLLIN : POLLOUT;
          }
        }
        pollfd now{fd, others, 0};
        if (others != 0 && poll(&now, 1, 0) == 1) {
          int32_t also = 0;
          if ((others & POLLIN) && (now.revents & (POLLIN | POLLHUP))) also |= kReadable;
          if (now.revents & POLLOUT) also |= kWritable;
          if (also != 0) sink.Merge(at, also);
        }
      }
    }
    return count;
  }

  // For the waiter thread: EVFILT_USER where the system has it (no descriptor at all), else a
  // close-on-exec pipe.
  int InitWake() {
#ifdef EVFILT_USER
    struct kevent ev;
    EV_SET(&ev, kWakeIdent, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, ToUdata<decltype(ev.udata)>(kWakeToken));
    return kevent(kq_, &ev, 1, nullptr, 0, nullptr) < 0 ? errno : 0;
#else
    if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) < 0) return errno;
    wake_fd_ = wake_pipe_[0];
    int err = Change(wake_fd_, EVFILT_READ, EV_ADD, 0, kWakeToken);
    if (err != 0) CloseWake();
    return err;
#endif
  }

  void Wake() {
#ifdef EVFILT_USER
    struct kevent ev;
    EV_SET(&ev, kWakeIdent, EVFILT_USER, 0, NOTE_TRIGGER, 0, ToUdata<decltype(ev.udata)>(kWakeToken));
    kevent(kq_, &ev, 1, nullptr, 0, nullptr);
#else
    char byte = 0;
    ssize_t w;
    do {
      w = write(wake_pipe_[1], &byte, 1);
    } while (w < 0 && errno == EINTR);
#endif
  }

  void Close() {
    close(kq_);
    kq_ = -1;
    regs_.clear();
    CloseWake();
  }

 private:
  static constexpr int32_t kModes = kEdge | kOneshot;
#ifdef EV_RECEIPT
  static constexpr unsigned short kReceipt = EV_RECEIPT;
#else
  static constexpr unsigned short kReceipt = 0;
#endif
  static constexpr uintptr_t kWakeIdent = 0;

  struct Reg {
    int32_t filters;  // which of kFilters are registered
    int32_t modes;    // kEdge / kOneshot they were created with
    int32_t token = 0;
  };
  // `filter` is a short on macOS, FreeBSD and OpenBSD, a uint32_t on NetBSD.
  using FilterId = decltype(std::declval<struct kevent>().filter);
  struct Filter {
    int32_t bit;
    FilterId filter;
  };
  static constexpr Filter kFilters[] = {{kReadable, EVFILT_READ}, {kWritable, EVFILT_WRITE}};

  static unsigned short ModeFlags(int32_t mask) {
    unsigned short flags = 0;
    if (mask & kEdge) flags |= EV_CLEAR;
    // EV_DISPATCH disables the filter after one event; EV_ADD|EV_ENABLE arms it again.
    if (mask & kOneshot) flags |= EV_DISPATCH;
    return flags;
  }

  bool IsWake(const struct kevent& ev) const {
#ifdef EVFILT_USER
    return ev.filter == EVFILT_USER;
#else
    return static_cast<int>(ev.ident) == wake_fd_ && ev.filter == EVFILT_READ;
#endif
  }

  void CloseWake() {
    for (int& fd : wake_pipe_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
    wake_fd_ = -1;
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

  int Change(int fd, FilterId filter, unsigned short flags, unsigned fflags, int32_t token) {
    struct kevent change;
    EV_SET(&change, static_cast<uintptr_t>(fd), filter, flags, fflags, 0,
           ToUdata<decltype(change.udata)>(static_cast<intptr_t>(token)));
    return kevent(kq_, &change, 1, nullptr, 0, nullptr) < 0 ? errno : 0;
  }

  // Applies `flags` to each filter of kFilters in `bits` in one kevent() call, so that a
  // waiter thread blocked in kevent() never sees a watch half registered (a oneshot watch for
  // readable and writable would otherwise report one filter and disarm the other). With
  // EV_RECEIPT every change answers for itself (EV_ERROR, its own errno in `data`); `ok` gets
  // the bits whose change took, `gone` those refused because the fd or the filter no longer
  // exists (EBADF, ENOENT); the first failure's errno is returned.
  int ChangeFilters(int fd, int32_t bits, unsigned short flags, int32_t token, int32_t* ok, int32_t* gone = nullptr) {
    struct kevent changes[std::size(kFilters)];
    int n = 0;
    for (const Filter& f : kFilters) {
      if (bits & f.bit) {
        EV_SET(&changes[n++], static_cast<uintptr_t>(fd), f.filter, flags | kReceipt, 0, 0,
               ToUdata<decltype(changes[0].udata)>(static_cast<intptr_t>(token)));
      }
    }
    if (n == 0) return 0;
#ifdef EV_RECEIPT
    struct kevent receipts[std::size(kFilters)];
    timespec zero{0, 0};
    int got = kevent(kq_, changes, n, receipts, n, &zero);
    if (got < 0) return errno;
    int first = 0;
    for (int i = 0; i < got; i++) {
      int err = (receipts[i].flags & EV_ERROR) ? static_cast<int>(receipts[i].data) : 0;
      Account(receipts[i].filter, err, ok, gone);
      if (err != 0 && first == 0) first = err;
    }
    return first;
#else
    // No receipts (OpenBSD before 7.x): one change per call, each with its own errno.
    int first = 0;
    for (int i = 0; i < n; i++) {
      int err = kevent(kq_, &changes[i], 1, nullptr, 0, nullptr) < 0 ? errno : 0;
      Account(changes[i].filter, err, ok, gone);
      if (err != 0 && first == 0) first = err;
    }
    return first;
#endif
  }

  static void Account(FilterId filter, int err, int32_t* ok, int32_t* gone) {
    for (const Filter& f : kFilters) {
      if (f.filter != filter) continue;
      if (err == 0) *ok |= f.bit;
      if ((err == ENOENT || err == EBADF) && gone != nullptr) *gone |= f.bit;
    }
  }

  // Adds (or updates and re-enables) the filters `mask` asks for; `added` says which took.
  int AddFilters(int fd, int32_t mask, int32_t token, int32_t* added) {
    return ChangeFilters(fd, mask & (kReadable | kWritable), EV_ADD | EV_ENABLE | ModeFlags(mask), token, added);
  }

  // Deletes the filters in `bits`; returns those no longer in the kernel (deleted, or already
  // gone: ENOENT, EBADF), and the first errno in `*error`.
  int32_t Delete(int fd, int32_t bits, int* error = nullptr) {
    int32_t deleted = 0;
    int32_t gone = 0;
    int err = ChangeFilters(fd, bits, EV_DELETE, 0, &deleted, &gone);
    if (error != nullptr) *error = err;
    return deleted | gone;
  }

  // Per batch, which slot each fd got: open addressing, cleared by bumping a stamp, so a batch
  // allocates nothing.
  struct Seen_ {
    int fd = -1;
    uint32_t stamp = 0;
    size_t slot = 0;
  };
  void NextBatch() {
    if (++stamp_ == 0) {
      for (auto& s : seen_) s.stamp = 0;
      stamp_ = 1;
    }
  }
  size_t Probe(int fd) const {
    size_t mask = seen_.size() - 1;
    size_t h = (static_cast<uint32_t>(fd) * 2654435761u) & mask;
    while (seen_[h].stamp == stamp_ && seen_[h].fd != fd) h = (h + 1) & mask;
    return h;
  }
  size_t* Seen(int fd) {
    Seen_& s = seen_[Probe(fd)];
    return s.stamp == stamp_ ? &s.slot : nullptr;
  }
  void Remember(int fd, size_t slot) { seen_[Probe(fd)] = Seen_{fd, stamp_, slot}; }

  int kq_;
  int wake_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::vector<struct kevent> events_;
  std::unordered_map<int, Reg> regs_;
  std::vector<Seen_> seen_;
  uint32_t stamp_ = 0;
};

}  // namespace pollbsd
