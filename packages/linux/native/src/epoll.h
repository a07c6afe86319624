// epoll, as the Kernel of pollglue::PollerWrap (see tooling/native/include/poll/poller.h).
#pragma once

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "poll/addon.h"
#include "poll/batch.h"
#include "poll/loop.h"

namespace polllinux {

using namespace pollglue;

class EpollKernel {
 public:
  static constexpr const char* kCtlSyscall = "epoll_ctl";
  static constexpr const char* kWaitSyscall = "epoll_wait";
  static constexpr int32_t kSupported = kReadable | kWritable | kPriority | kPeerShutdown | kEdge | kOneshot;

  // Close-on-exec from birth: a child spawned at any moment must not inherit the descriptor.
  // Only a kernel (or seccomp policy) without epoll_create1 gets the two-step fallback.
  static int Create(const char** failed) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != ENOSYS) {
      *failed = "epoll_create1";
      return -1;
    }
    fd = epoll_create(1);  // the size hint is ignored since Linux 2.6.8 but must be positive
    if (fd < 0) {
      *failed = "epoll_create";
      return -1;
    }
    return CloexecOrClose(fd, failed);
  }

  // epoll_ctl's EPERM means the file has no poll support at all: it is always ready, so there
  // is nothing to wait for (epoll_ctl(2)).
  static const char* Explain(int err) {
    return err == EPERM ? "epoll cannot watch this kind of file (a regular file, a directory, /dev/null and "
                          "the like are always ready: read or write them directly)"
                        : nullptr;
  }

  EpollKernel(int fd, size_t capacity) : epfd_(fd), events_(capacity) {}

  int fd() const { return epfd_; }
  size_t capacity() const { return events_.size(); }

  int Add(int fd, int32_t mask, int32_t token) { return Ctl(EPOLL_CTL_ADD, fd, mask, token); }
  int Modify(int fd, int32_t mask, int32_t token) { return Ctl(EPOLL_CTL_MOD, fd, mask, token); }

  int Remove(int fd) {
    if (fd == wake_) return EBADF;  // the waiter thread's, not the application's
    epoll_event unused{};  // Linux before 2.6.9 rejects a null event even for EPOLL_CTL_DEL
    return epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &unused) < 0 ? errno : 0;
  }

  int Wait(int timeout_ms) {
    int n;
    do {
      n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
    } while (n < 0 && errno == EINTR && timeout_ms == 0);
    return n < 0 ? -errno : n;
  }

  size_t Translate(int n, BatchSink& sink) {
    size_t count = 0;
    for (int i = 0; i < n; i++) {
      uint64_t data = events_[i].data.u64;
      int32_t token = static_cast<int32_t>(data >> 32);
      if (token == kWakeToken) continue;
      sink.Put(count++, static_cast<int32_t>(data & 0xffffffffu), token, FromEpoll(events_[i].events));
    }
    return count;
  }

  // For a waiter thread (the loops of runtimes without libuv; on Node, @poll/linux uses uv_poll
  // and no thread).
  int InitWake() {
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_ < 0) return errno;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(static_cast<uint32_t>(wake_));  // token 0: kWakeToken
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_, &ev) < 0) {
      int err = errno;
      close(wake_);
      wake_ = -1;
      return err;
    }
    return 0;
  }

  void Wake() {
    uint64_t one = 1;
    ssize_t w;
    do {
      w = write(wake_, &one, sizeof one);
    } while (w < 0 && errno == EINTR);
  }

  void Close() {
    close(epfd_);
    epfd_ = -1;
    if (wake_ >= 0) close(wake_);
    wake_ = -1;
  }

 private:
  int Ctl(int op, int fd, int32_t mask, int32_t token) {
    if (fd == wake_) return EBADF;
    epoll_event ev{};
    ev.events = ToEpoll(mask);
    // The token rides along so core can drop events queued for a registration that has since
    // been removed, even when the descriptor number has been reused.
    ev.data.u64 = (static_cast<uint64_t>(static_cast<uint32_t>(token)) << 32) | static_cast<uint32_t>(fd);
    return epoll_ctl(epfd_, op, fd, &ev) < 0 ? errno : 0;
  }

  static uint32_t ToEpoll(int32_t mask) {
    uint32_t events = 0;
    // EPOLLRDHUP reports a peer's shutdown(SHUT_WR) as hangup even while data is still buffered.
    if (mask & kReadable) events |= EPOLLIN | EPOLLRDHUP;
    if (mask & kWritable) events |= EPOLLOUT;
    if (mask & kPriority) events |= EPOLLPRI;
    if (mask & kPeerShutdown) events |= EPOLLRDHUP;
    if (mask & kEdge) events |= EPOLLET;
    if (mask & kOneshot) events |= EPOLLONESHOT;
    return events;
  }

  static int32_t FromEpoll(uint32_t events) {
    int32_t mask = 0;
    if (events & EPOLLIN) mask |= kReadable;
    if (events & EPOLLOUT) mask |= kWritable;
    if (events & EPOLLPRI) mask |= kPriority;
    // Kept apart so that @poll/epoll can give back the kernel's own bits; core's
    // PollEvent.hangup is either.
    if (events & EPOLLHUP) mask |= kHangup;
    if (events & EPOLLRDHUP) mask |= kPeerShutdown;
    if (events & EPOLLERR) mask |= kError;
    return mask;
  }

  int epfd_;
  int wake_ = -1;
  std::vector<epoll_event> events_;
};

}  // namespace polllinux
