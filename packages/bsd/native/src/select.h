// Watching the descriptors kqueue refuses, with select(2) on a thread of their own.
//
// macOS's kqueue refuses some devices (ttys of some serial drivers among them): EV_ADD answers
// EV_ERROR with EINVAL, and poll(2) fails on them as well. libuv meets the same refusal and
// watches such a stream with select(2) in a thread (uv__stream_try_select in
// https://github.com/libuv/libuv/blob/v1.x/src/unix/stream.c). Here one SelectWaiter serves all
// of a poller's refused descriptors, and it reports through the poller's own kqueue: when one is
// ready it records which and fires a kevent trigger, so batches, tokens, ordering and teardown
// stay those of every other event.
//
// select(2) only knows level readiness. A level watch is offered to select again after its
// event was dispatched (Rearm, at the loop's next look at the kernel), so an unread descriptor
// is reported again as kqueue would, and a read in the callback is never raced by a stale
// report; a oneshot watch waits for Watch() (rearm or modify). Edge-triggered watching cannot be
// made of select without polling, so the kernel's EINVAL stands for it (KqueueKernel::Add).
#pragma once

#include <sys/select.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "poll/addon.h"

namespace pollbsd {

using pollglue::kError;
using pollglue::kHangup;
using pollglue::kOneshot;
using pollglue::kReadable;
using pollglue::kWritable;

class SelectWaiter {
 public:
  using Notify = void (*)(void* arg);

  SelectWaiter() { pthread_mutex_init(&mutex_, nullptr); }
  ~SelectWaiter() {
    Stop();
    pthread_mutex_destroy(&mutex_);
  }
  SelectWaiter(const SelectWaiter&) = delete;
  SelectWaiter& operator=(const SelectWaiter&) = delete;

  // The interrupt pipe and the thread; `notify` runs on that thread whenever something becomes
  // ready. 0 or errno.
  int Start(Notify notify, void* arg) {
    notify_ = notify;
    notify_arg_ = arg;
    if (int err = MakePipe(interrupt_); err != 0) return err;
    if (int err = pthread_create(&thread_, nullptr, Run, this); err != 0) {
      ClosePipe();
      return err;
    }
#ifdef __linux__
    // Named before Start returns, as /proc/<pid>/task/*/comm shows it.
    pthread_setname_np(thread_, "poll-select");
#endif
    running_ = true;
    return 0;
  }

  // Watches `fd` (again) for the readable/writable bits of `mask`, armed, with a new token.
  // The file it names now is remembered: see Take.
  void Watch(int fd, int32_t mask, int32_t token) {
    struct stat st {};
    fstat(fd, &st);
    pthread_mutex_lock(&mutex_);
    Entry& e = table_[fd];
    e = Entry{mask & (kReadable | kWritable), (mask & kOneshot) != 0, token, ++generation_, st.st_dev, st.st_ino};
    pthread_mutex_unlock(&mutex_);
    Interrupt();
  }

  // After this returns, `fd` is never reported, and select(2) is told to let it go.
  void Unwatch(int fd) {
    pthread_mutex_lock(&mutex_);
    table_.erase(fd);
    pthread_mutex_unlock(&mutex_);
    Interrupt();
  }

  // Level watches whose event has been dispatched since are offered to select(2) again.
  void Rearm() {
    bool any = false;
    pthread_mutex_lock(&mutex_);
    for (int fd : delivered_) {
      auto it = table_.find(fd);
      if (it != table_.end() && !it->second.oneshot && !it->second.armed && it->second.ready == 0) {
        it->second.armed = true;
        it->second.generation = ++generation_;
        any = true;
      }
    }
    delivered_.clear();
    pthread_mutex_unlock(&mutex_);
    if (any) Interrupt();
  }

  // Hands each ready watch to `put(fd, token, mask)`, once, until `put` says no more. The mask
  // adds hangup and error where poll(2) can tell them (it cannot on the devices macOS refuses).
  // On the loop thread, where the application closes descriptors: a watch whose number no
  // longer names its file was closed without remove(), and is dropped as the kernel drops a
  // closed descriptor's filters (select(2) may even call a descriptor closed while it waited
  // ready, as Linux does).
  template <class Put>
  void Take(Put&& put) {
    pthread_mutex_lock(&mutex_);
    for (auto& [fd, e] : table_) {
      if (e.ready == 0) continue;
      struct stat st {};
      if (fstat(fd, &st) < 0 || st.st_dev != e.dev || st.st_ino != e.ino) {
        e.ready = 0;
        e.interest = 0;  // never offered again, until watched anew
        continue;
      }
      if (!put(fd, e.token, e.ready | Condition(fd))) break;
      e.ready = 0;
      delivered_.push_back(fd);
    }
    pthread_mutex_unlock(&mutex_);
  }

  // Ends the thread and closes the pipe; the table is left as it is (the kernel is closing).
  void Stop() {
    if (!running_) return;
    pthread_mutex_lock(&mutex_);
    stopping_ = true;
    pthread_mutex_unlock(&mutex_);
    Interrupt();
    pthread_join(thread_, nullptr);
    running_ = false;
    ClosePipe();
  }

 private:
  struct Entry {
    int32_t interest = 0;      // kReadable | kWritable
    bool oneshot = false;
    int32_t token = 0;
    uint64_t generation = 0;   // which Watch()/Rearm() the armed state belongs to
    dev_t dev = 0;             // the file watched (fstat at Watch)
    ino_t ino = 0;
    bool armed = true;         // offered to select(2)
    int32_t ready = 0;         // found ready, not yet taken
  };
  // select(2)'s sets are arrays of NFDBITS-bit words; they are sized to the largest descriptor
  // rather than FD_SETSIZE, as libuv sizes its own (macOS needs _DARWIN_UNLIMITED_SELECT for
  // that, which addon.cc defines first, as libuv's build does).
  using Word = std::conditional_t<NFDBITS == 64, uint64_t, uint32_t>;
  static_assert(sizeof(Word) * CHAR_BIT == NFDBITS, "an fd_set word is NFDBITS bits");
  static void SetBit(std::vector<Word>& set, int fd) { set[fd / NFDBITS] |= Word{1} << (fd % NFDBITS); }
  static bool HasBit(const std::vector<Word>& set, int fd) {
    return (set[fd / NFDBITS] >> (fd % NFDBITS)) & 1;
  }
  static fd_set* AsSet(std::vector<Word>& set) { return reinterpret_cast<fd_set*>(set.data()); }

  static int MakePipe(int fds[2]) {
#if defined(__APPLE__)
    if (pipe(fds) < 0) return errno;
    for (int i = 0; i < 2; i++) {
      if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0) {
        int err = errno;
        close(fds[0]);
        close(fds[1]);
        fds[0] = fds[1] = -1;
        return err;
      }
    }
    return 0;
#else
    return pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0 ? errno : 0;
#endif
  }
  void ClosePipe() {
    for (int& fd : interrupt_) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }
  void Interrupt() {
    if (interrupt_[1] < 0) return;
    char byte = 0;
    ssize_t w;
    do {
      w = write(interrupt_[1], &byte, 1);
    } while (w < 0 && errno == EINTR);  // EAGAIN: a byte is waiting already, which is enough
  }

  static int32_t Condition(int fd) {
    pollfd p{fd, 0, 0};
    if (poll(&p, 1, 0) != 1 || (p.revents & POLLNVAL)) return 0;
    int32_t mask = 0;
    if (p.revents & POLLHUP) mask |= kHangup;
    if (p.revents & POLLERR) mask |= kError;
    return mask;
  }

  static void* Run(void* arg) {
#if defined(__APPLE__)
    pthread_setname_np("poll-select");  // only a thread's own name can be set there
#endif
    static_cast<SelectWaiter*>(arg)->Loop();
    return nullptr;
  }

  void Loop() {
    std::vector<Word> read_set, write_set;
    struct Offered {
      int fd;
      int32_t interest;
      uint64_t generation;
    };
    std::vector<Offered> offered;
    for (;;) {
      // What to wait for, copied under the lock: select(2) runs without it.
      offered.clear();
      int max_fd = interrupt_[0];
      pthread_mutex_lock(&mutex_);
      if (stopping_) {
        pthread_mutex_unlock(&mutex_);
        return;
      }
      for (auto& [fd, e] : table_) {
        if (!e.armed || e.interest == 0) continue;
        offered.push_back(Offered{fd, e.interest, e.generation});
        if (fd > max_fd) max_fd = fd;
      }
      pthread_mutex_unlock(&mutex_);
      size_t words = static_cast<size_t>(max_fd) / NFDBITS + 1;
      read_set.assign(words, 0);
      write_set.assign(words, 0);
      SetBit(read_set, interrupt_[0]);
      for (const Offered& o : offered) {
        if (o.interest & kReadable) SetBit(read_set, o.fd);
        if (o.interest & kWritable) SetBit(write_set, o.fd);
      }
      int n = select(max_fd + 1, AsSet(read_set), AsSet(write_set), nullptr, nullptr);
      if (n < 0 && errno == EBADF) {
        DropClosed(offered);
        continue;
      }
      if (n < 0) continue;  // EINTR; nothing else is expected of valid sets
      if (HasBit(read_set, interrupt_[0])) {
        char buf[64];
        while (read(interrupt_[0], buf, sizeof buf) > 0) {
        }
      }
      bool fire = false;
      pthread_mutex_lock(&mutex_);
      for (const Offered& o : offered) {
        int32_t ready = 0;
        if ((o.interest & kReadable) && HasBit(read_set, o.fd)) ready |= kReadable;
        if ((o.interest & kWritable) && HasBit(write_set, o.fd)) ready |= kWritable;
        auto it = table_.find(o.fd);
        // Changed while select(2) ran (removed, watched anew, rearmed): this answer is stale.
        if (ready == 0 || it == table_.end() || it->second.generation != o.generation) continue;
        it->second.ready |= ready;
        it->second.armed = false;  // until its event has been dispatched (Rearm) or re-watched
        fire = true;
      }
      pthread_mutex_unlock(&mutex_);
      if (fire) notify_(notify_arg_);
    }
  }

  // A descriptor closed without Unwatch: the kernel would have dropped its filters on close, so
  // it is no longer offered (and never reported) until it is watched again.
  template <class List>
  void DropClosed(const List& offered) {
    pthread_mutex_lock(&mutex_);
    for (const auto& o : offered) {
      if (fcntl(o.fd, F_GETFD) >= 0) continue;
      auto it = table_.find(o.fd);
      if (it != table_.end() && it->second.generation == o.generation) it->second.armed = false;
    }
    pthread_mutex_unlock(&mutex_);
  }

  pthread_mutex_t mutex_;
  std::unordered_map<int, Entry> table_;
  std::vector<int> delivered_;  // taken since the last Rearm
  uint64_t generation_ = 0;
  bool stopping_ = false;
  bool running_ = false;
  pthread_t thread_{};
  int interrupt_[2] = {-1, -1};
  Notify notify_ = nullptr;
  void* notify_arg_ = nullptr;
};

}  // namespace pollbsd
