// @poll/linux: an epoll descriptor joined to the calling environment's libuv loop.
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <vector>

#include "poll/addon.h"

namespace {

using namespace pollglue;

// Close-on-exec from birth: a child spawned at any moment must not inherit the descriptor.
// Only a kernel (or seccomp policy) without epoll_create1 gets the two-step fallback, and a
// descriptor whose flag could not be set is closed rather than handed out half-made
// (https://github.com/golang/go/issues/22606 describes the leak that follows otherwise).
int CreateEpoll(const char** failed) {
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
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    int err = errno;
    close(fd);
    errno = err;
    *failed = "fcntl";
    return -1;
  }
  return fd;
}

uint32_t ToEpoll(int32_t mask) {
  uint32_t events = 0;
  // EPOLLRDHUP reports a peer's shutdown(SHUT_WR) as hangup even while data is still buffered.
  if (mask & kReadable) events |= EPOLLIN | EPOLLRDHUP;
  if (mask & kWritable) events |= EPOLLOUT;
  if (mask & kPriority) events |= EPOLLPRI;
  if (mask & kEdge) events |= EPOLLET;
  if (mask & kOneshot) events |= EPOLLONESHOT;
  return events;
}

int32_t FromEpoll(uint32_t events) {
  int32_t mask = 0;
  if (events & EPOLLIN) mask |= kReadable;
  if (events & EPOLLOUT) mask |= kWritable;
  if (events & EPOLLPRI) mask |= kPriority;
  if (events & (EPOLLHUP | EPOLLRDHUP)) mask |= kHangup;
  if (events & EPOLLERR) mask |= kError;
  return mask;
}

// After a full batch, look again at most this many times before yielding to the loop, so a
// flood of ready descriptors cannot starve libuv's other handles.
constexpr int kRoundsPerWakeup = 4;

class Epoll;

// Outlives the Epoll object until libuv has finished closing the handle.
struct Watcher {
  uv_poll_t handle;
  Epoll* owner;
  napi_async_cleanup_hook_handle teardown;  // set when the environment is going away
};

class Epoll : public Napi::ObjectWrap<Epoll> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Epoll",
                       {
                           InstanceAccessor<&Epoll::Fd>("fd"),
                           InstanceMethod<&Epoll::Add>("add"),
                           InstanceMethod<&Epoll::Modify>("modify"),
                           InstanceMethod<&Epoll::Remove>("remove"),
                           InstanceMethod<&Epoll::Ref>("ref"),
                           InstanceMethod<&Epoll::Unref>("unref"),
                           InstanceMethod<&Epoll::Pin>("pin"),
                           InstanceMethod<&Epoll::Close>("close"),
                       });
  }

  explicit Epoll(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Epoll>(info) {
    Napi::Env env = info.Env();
    if (!sink_.Init(info)) return;
    const char* failed = nullptr;
    int fd = CreateEpoll(&failed);
    if (fd < 0) {
      ThrowErrno(env, errno, failed);
      sink_.Reset();
      return;
    }
    events_.resize(sink_.capacity());

    // Each environment (main thread or worker) has its own loop; never uv_default_loop().
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* watcher = new Watcher{{}, this, nullptr};
    int err = uv_poll_init(loop, &watcher->handle, fd);
    if (err != 0) {
      delete watcher;
    } else if ((err = uv_poll_start(&watcher->handle, UV_READABLE, OnReady)) != 0) {
      watcher->owner = nullptr;  // an initialised handle is released the libuv way
      uv_close(reinterpret_cast<uv_handle_t*>(&watcher->handle), OnClosed);
    }
    if (err != 0) {
      close(fd);
      sink_.Reset();
      ThrowErrno(env, -err, "uv_poll_start");
      return;
    }
    watcher->handle.data = watcher;
    // An empty poller must not keep the process alive; core refs it while something is watched.
    uv_unref(reinterpret_cast<uv_handle_t*>(&watcher->handle));
    watcher_ = watcher;
    epfd_ = fd;
    napi_add_async_cleanup_hook(env, OnTeardown, this, &hook_);
  }

  ~Epoll() override { Shutdown(nullptr); }

 private:
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), epfd_); }

  void Add(const Napi::CallbackInfo& info) { Ctl(info, EPOLL_CTL_ADD); }
  void Modify(const Napi::CallbackInfo& info) { Ctl(info, EPOLL_CTL_MOD); }

  void Ctl(const Napi::CallbackInfo& info, int op) {
    int32_t args[3];
    if (!Usable(info) || !Int32Args(info, 3, args)) return;
    epoll_event ev{};
    ev.events = ToEpoll(args[1]);
    // The token rides along so core can drop events queued for a registration that has
    // since been removed, even when the descriptor number has been reused.
    ev.data.u64 = (static_cast<uint64_t>(static_cast<uint32_t>(args[2])) << 32) | static_cast<uint32_t>(args[0]);
    if (epoll_ctl(epfd_, op, args[0], &ev) < 0) ThrowErrno(info.Env(), errno, "epoll_ctl", args[0]);
  }

  void Remove(const Napi::CallbackInfo& info) {
    int32_t fd;
    if (!Usable(info) || !Int32Args(info, 1, &fd)) return;
    epoll_event unused{};  // Linux before 2.6.9 rejects a null event even for EPOLL_CTL_DEL
    if (epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &unused) < 0) ThrowErrno(info.Env(), errno, "epoll_ctl", fd);
  }

  void Ref(const Napi::CallbackInfo&) {
    if (watcher_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&watcher_->handle));
  }

  void Unref(const Napi::CallbackInfo&) {
    if (watcher_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&watcher_->handle));
  }

  void Pin(const Napi::CallbackInfo& info) { sink_.Pin(info[0].ToBoolean()); }

  void Close(const Napi::CallbackInfo&) { Shutdown(nullptr); }

  bool Usable(const Napi::CallbackInfo& info) {
    if (epfd_ >= 0) return true;
    ThrowErrno(info.Env(), EBADF, "epoll_ctl");
    return false;
  }

  static void OnReady(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* watcher = static_cast<Watcher*>(handle->data);
    if (watcher->owner != nullptr) watcher->owner->Drain();
  }

  // The epoll descriptor is readable while events are pending: take them without blocking.
  void Drain() {
    for (int round = 0; round < kRoundsPerWakeup && epfd_ >= 0; round++) {
      int n;
      do {
        n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return;
      for (int i = 0; i < n; i++) {
        uint64_t data = events_[i].data.u64;
        sink_.Put(i, static_cast<int32_t>(data & 0xffffffffu), static_cast<int32_t>(data >> 32),
                  FromEpoll(events_[i].events));
      }
      sink_.Deliver(n);  // may close this poller
      if (static_cast<size_t>(n) < events_.size()) return;
    }
  }

  // From close(), the finalizer, or environment teardown (`teardown` set): stop watching,
  // close the descriptor, and let libuv release the handle.
  void Shutdown(napi_async_cleanup_hook_handle teardown) {
    if (hook_ != nullptr && teardown == nullptr) napi_remove_async_cleanup_hook(hook_);
    hook_ = nullptr;
    if (watcher_ == nullptr) {
      if (teardown != nullptr) napi_remove_async_cleanup_hook(teardown);
      return;
    }
    Watcher* watcher = watcher_;
    watcher_ = nullptr;
    watcher->owner = nullptr;
    watcher->teardown = teardown;
    // uv_close takes the fd out of libuv's own epoll set before the fd is closed below.
    uv_close(reinterpret_cast<uv_handle_t*>(&watcher->handle), OnClosed);
    close(epfd_);
    epfd_ = -1;
    sink_.Reset();
  }

  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* self) {
    static_cast<Epoll*>(self)->Shutdown(handle);
  }

  static void OnClosed(uv_handle_t* handle) {
    auto* watcher = reinterpret_cast<Watcher*>(handle);
    if (watcher->teardown != nullptr) napi_remove_async_cleanup_hook(watcher->teardown);
    delete watcher;
  }

  int epfd_ = -1;
  Watcher* watcher_ = nullptr;
  napi_async_cleanup_hook_handle hook_ = nullptr;
  std::vector<epoll_event> events_;
  BatchSink sink_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Epoll", Epoll::Define(env));
  exports.Set("bits", BitsObject(env));
  exports.Set("supported", Napi::Number::New(env, kReadable | kWritable | kPriority | kEdge | kOneshot));
  return exports;
}

}  // namespace

NODE_API_MODULE(poll_linux, Init)
