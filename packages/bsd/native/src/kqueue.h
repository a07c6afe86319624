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

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>
#include <unordered_map>
#include <vector>

#include "poll/addon.h"
#include "poll/batch.h"
#include "poll/loop.h"
#include "select.h"
#include "trigger.h"

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

  // All or nothing: filters added before one failed are deleted again. A descriptor kqueue
  // refuses (EINVAL, as macOS answers for some devices) is watched by select(2) instead.
  int Add(int fd, int32_t mask, int32_t token) {
    if (IsOwn(fd)) return EBADF;  // the waiter's and the select waiter's, not the application's
    if (regs_.count(fd) != 0) return EEXIST;
    int32_t added = 0;
    int err = AddFilters(fd, mask, token, &added);
    if (err == 0) {
      regs_[fd] = Reg{added, mask & kModes, token};
      return 0;
    }
    int32_t left = Remaining(fd, added);
    if (err == EINVAL && left == 0 && Selectable(fd, mask)) return AddSelected(fd, mask, token);
    if (left != 0) regs_[fd] = Reg{left, mask & kModes, token};  // what could not be undone
    return err;
  }

  // Whatever fails, the record ends up saying which filters the kernel holds, so that remove()
  // can delete every one of them, and the old interest is put back.
  int Modify(int fd, int32_t mask, int32_t token) {
    if (IsOwn(fd)) return EBADF;
    auto it = regs_.find(fd);
    if (it == regs_.end()) return ENOENT;
    Reg& reg = it->second;
    if (reg.selected) return ModifySelected(fd, reg, mask, token);
    const Reg old = reg;
    // 1. kqueue keeps one filter per (fd, filter). EV_ADD on an existing filter updates udata and
    //    re-enables it but keeps the EV_CLEAR/EV_DISPATCH it was created with, so a change of
    //    mode deletes the filters, for step 2 to create them anew.
    int32_t held = (mask & kModes) == old.modes ? old.filters : Remaining(fd, old.filters);
    // 2. Add, or update and re-enable, the filters the new interest wants.
    int32_t added = 0;
    int err = AddFilters(fd, mask, token, &added);
    if (err == 0) {
      // 3. Delete those it no longer wants.
      reg = Reg{added | Remaining(fd, held & ~added), mask & kModes, token};
      return 0;
    }
    // Failed: undo what step 2 created, then put the old filters back.
    int32_t still = held | Remaining(fd, added & ~held);
    int32_t restored = 0;
    AddFilters(fd, old.filters | old.modes, old.token, &restored);
    reg = Reg{still | restored, old.modes, old.token};
    return err;
  }

  // The kernel drops a descriptor's filters when it is closed; that is reported as EBADF or
  // ENOENT so core can tell "already gone" from a real failure. The record is erased only once
  // no filter is left in the kernel.
  int Remove(int fd) {
    if (IsOwn(fd)) return EBADF;
    auto it = regs_.find(fd);
    if (it == regs_.end()) return ENOENT;
    if (it->second.selected) {
      select_->Unwatch(fd);
      regs_.erase(it);
      return fcntl(fd, F_GETFD) < 0 ? EBADF : 0;
    }
    int err = 0;
    int32_t left = Remaining(fd, it->second.filters, &err);
    if (left == 0) {
      regs_.erase(it);
    } else {
      it->second.filters = left;
    }
    return err;
  }

  // On the waiter thread (forever) or the loop thread (zero timeout, after a dispatch).
  int Wait(int timeout_ms) {
    // The level watches select(2) reported have been dispatched by now: offer them again.
    if (selecting_.load(std::memory_order_acquire)) select_->Rearm();
    timespec zero{0, 0};
    int n;
    do {
      n = kevent(kq_, nullptr, 0, events_.data(), static_cast<int>(events_.size()), timeout_ms < 0 ? nullptr : &zero);
    } while (n < 0 && errno == EINTR && timeout_ms == 0);
    return n < 0 ? -errno : n;
  }

  // One kevent per (fd, filter), merged into one event per descriptor as on epoll; the select
  // waiter's report brings in the watches it found ready. Runs while the waiter thread is
  // parked, so it may change filters.
  size_t Translate(int n, BatchSink& sink) {
    NextBatch();
    size_t count = 0;
    for (int i = 0; i < n; i++) {
      const struct kevent& ev = events_[i];
      if (selected_.Owns(ev)) {
        selected_.Consume();
        TakeSelected(sink, &count, sink.capacity() - count - static_cast<size_t>(n - 1 - i));
        continue;
      }
      if (wake_.Owns(ev)) {
        wake_.Consume();
        continue;
      }
      auto token = static_cast<int32_t>(FromUdata(ev.udata));
      if (token == kWakeToken) continue;  // a trigger of a closed kernel's generation
      int fd = static_cast<int>(ev.ident);
      int32_t mask = FromKevent(ev);
      if (size_t* slot = Seen(fd)) {
        sink.Merge(*slot, mask);
        continue;
      }
      size_t at = count++;
      Remember(fd, at);
      sink.Put(at, fd, token, mask);
      auto it = regs_.find(fd);
      if (it != regs_.end() && (it->second.modes & kOneshot)) DisarmSiblings(fd, it->second.filters, ev.filter, token, sink, at);
    }
    return count;
  }

  // For the waiter thread.
  int InitWake() { return wake_.Init(kq_, kWakeIdent); }
  void Wake() { wake_.Fire(); }

  void Close() {
    if (select_) select_->Stop();  // before the kqueue it reports to is closed
    close(kq_);
    kq_ = -1;
    regs_.clear();
    wake_.Close();
    selected_.Close();
  }

 private:
  static constexpr int32_t kModes = kEdge | kOneshot;
#ifdef EV_RECEIPT
  static constexpr unsigned short kReceipt = EV_RECEIPT;
#else
  static constexpr unsigned short kReceipt = 0;
#endif
  // The EVFILT_USER idents of the two triggers (trigger.h).
  static constexpr uintptr_t kWakeIdent = 0;
  static constexpr uintptr_t kSelectIdent = 1;

  struct Reg {
    int32_t filters;  // which of kFilters are registered
    int32_t modes;    // kEdge / kOneshot they were created with
    int32_t token = 0;
    bool selected = false;  // refused by kqueue, watched by the select waiter instead
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

  static int32_t FromKevent(const struct kevent& ev) {
    int32_t mask = 0;
    if (ev.filter == EVFILT_READ) mask |= kReadable;
    if (ev.filter == EVFILT_WRITE) mask |= kWritable;
    if (ev.flags & EV_EOF) mask |= kHangup;
    // EV_EOF with fflags: the socket's pending error; EV_ERROR: the filter itself failed.
    if ((ev.flags & EV_ERROR) || ((ev.flags & EV_EOF) && ev.fflags != 0)) mask |= kError;
    return mask;
  }

  bool IsOwn(int fd) const { return wake_.Holds(fd) || selected_.Holds(fd); }

  // EV_DISPATCH disarms only the filter that fired; a oneshot watch is disarmed whole, as with
  // EPOLLONESHOT, until rearm() enables its filters again. Its other filter may be ready as well
  // without having been reported yet: kevent() applies a changelist one change at a time while
  // the waiter thread may already be collecting, so one filter's event can come first. poll(2)
  // says what is ready now, so the one event (slot `at`) carries both.
  void DisarmSiblings(int fd, int32_t filters, FilterId fired, int32_t token, BatchSink& sink, size_t at) {
    short others = 0;
    for (const Filter& f : kFilters) {
      if ((filters & f.bit) && f.filter != fired) {
        Change(fd, f.filter, EV_DISABLE, 0, token);
        others |= f.bit == kReadable ? POLLIN : POLLOUT;
      }
    }
    pollfd now{fd, others, 0};
    if (others == 0 || poll(&now, 1, 0) != 1) return;
    int32_t also = 0;
    if ((others & POLLIN) && (now.revents & (POLLIN | POLLHUP))) also |= kReadable;
    if (now.revents & POLLOUT) also |= kWritable;
    if (also != 0) sink.Merge(at, also);
  }

  // The select waiter (select.h): level and oneshot watches only, as select(2) has no edges.
  static bool Selectable(int fd, int32_t mask) { return (mask & kEdge) == 0 && fd >= 0; }

  int AddSelected(int fd, int32_t mask, int32_t token) {
    if (!select_) {
      auto waiter = std::make_unique<SelectWaiter>();
      if (int err = selected_.Init(kq_, kSelectIdent); err != 0) return err;
      if (int err = waiter->Start(&FireSelected, this); err != 0) {
        selected_.Close();
        return err;
      }
      select_ = std::move(waiter);
      selecting_.store(true, std::memory_order_release);
    }
    select_->Watch(fd, mask, token);
    regs_[fd] = Reg{0, mask & kModes, token, true};
    return 0;
  }

  // An edge cannot be made of select(2): the kernel's own EINVAL stands, and the watch stays
  // as it was.
  int ModifySelected(int fd, Reg& reg, int32_t mask, int32_t token) {
    if (!Selectable(fd, mask)) return EINVAL;
    select_->Watch(fd, mask, token);
    reg = Reg{0, mask & kModes, token, true};
    return 0;
  }

  static void FireSelected(void* self) { static_cast<KqueueKernel*>(self)->selected_.Fire(); }

  // At most `room` ready watches into the batch; the rest at the next look (the trigger fires
  // again for them).
  void TakeSelected(BatchSink& sink, size_t* count, size_t room) {
    size_t taken = 0;
    bool more = false;
    select_->Take([&](int fd, int32_t token, int32_t mask) {
      if (taken == room) {
        more = true;
        return false;
      }
      sink.Put((*count)++, fd, token, mask);
      taken++;
      return true;
    });
    if (more) selected_.Fire();
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

  // Deletes the filters in `bits`; returns those still in the kernel (not deleted, and not
  // already gone: ENOENT, EBADF), and the first errno in `*error`.
  int32_t Remaining(int fd, int32_t bits, int* error = nullptr) {
    int32_t deleted = 0;
    int32_t gone = 0;
    int err = ChangeFilters(fd, bits, EV_DELETE, 0, &deleted, &gone);
    if (error != nullptr) *error = err;
    return bits & ~(deleted | gone);
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
  KeventTrigger wake_;      // interrupts the waiter thread's wait
  KeventTrigger selected_;  // the select waiter's report that something is ready
  std::unique_ptr<SelectWaiter> select_;  // made at the first descriptor kqueue refuses
  std::atomic<bool> selecting_{false};    // select_ is there (Wait reads it on the waiter thread)
  std::vector<struct kevent> events_;
  std::unordered_map<int, Reg> regs_;
  std::vector<Seen_> seen_;
  uint32_t stamp_ = 0;
};

}  // namespace pollbsd
