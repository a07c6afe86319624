// How a kernel poller joins a Node environment's libuv loop. Two ways, one interface:
//
//   UvPollLoop  the poller descriptor is itself pollable (epoll): one uv_poll_t on it, drained
//               without blocking when libuv reports it readable. No thread.
//   ThreadLoop  a waiter thread blocks in the kernel and hands each batch to the loop through a
//               uv_async_t, then waits until the loop thread gives the kernel back, so a
//               level-triggered event is not reported twice. The loop thread meanwhile keeps
//               draining with zero-timeout waits while events keep coming, so a busy poller costs
//               no thread hop per event. For kqueue, whose descriptor nested in libuv's own
//               kqueue is reported readable whether or not events are pending on macOS
//               (https://github.com/libuv/libuv/issues/883).
//
// Both call back into their Owner: `Kernel& kernel()`, `bool Dispatch(int n, bool compare)`
// (translate and deliver `n` raw events), `bool open()`, and for ThreadLoop `void Fail(int err)`
// (the wait itself failed). ThreadLoop also needs the Kernel's InitWake() and Wake().
#pragma once

#include <uv.h>
#include <napi.h>

#include <cerrno>
#ifdef __linux__
#include <sys/epoll.h>
#endif

namespace pollglue {

// Token 0 is never handed out by core: a kernel registers its wake-up descriptor with it and
// drops its events.
constexpr int32_t kWakeToken = 0;

// At most this many batches per wakeup before yielding to the loop, so a flood of ready
// descriptors (or two callbacks that keep waking each other) cannot starve libuv's other
// handles. Measured with pnpm bench's pingpong: 4 rounds left one libuv epoll_pwait per four
// events; 16 brings the syscalls per event within a few percent of a plain epoll_wait loop.
constexpr int kRoundsPerWakeup = 16;

// The libuv handle outlives its owner until libuv has finished closing it; if the environment
// is going away, the cleanup hook is released only then.
template <class Handle>
struct Closing {
  Handle handle;
  napi_async_cleanup_hook_handle teardown = nullptr;

  static void Release(uv_handle_t* h) {
    auto* self = reinterpret_cast<Closing*>(h);
    if (self->teardown != nullptr) napi_remove_async_cleanup_hook(self->teardown);
    delete self;
  }
};

template <class Owner>
class UvPollLoop {
 public:
  // 0 or a libuv error.
  int Start(napi_env env, Owner* owner) {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);  // this environment's loop, never uv_default_loop()
    auto* poll = new Closing<uv_poll_t>();
    int err = uv_poll_init(loop, &poll->handle, owner->kernel().fd());
    if (err != 0) {
      delete poll;
      return err;
    }
    poll->handle.data = owner;
    err = uv_poll_start(&poll->handle, UV_READABLE, OnReadable);
    if (err != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&poll->handle), Closing<uv_poll_t>::Release);
      return err;
    }
    uv_unref(reinterpret_cast<uv_handle_t*>(&poll->handle));
    poll_ = poll;
#ifdef __linux__
    // libuv adds the descriptor to its own epoll set only on its next turn, and aborts the
    // process if the kernel refuses (it checks nesting depth and wake-up paths then, e.g. for
    // hundreds of dup'd descriptors of one file added in the same tick). Nesting it now makes
    // the kernel check each of our own epoll_ctl calls instead, and a refusal is a PollError.
    // libuv's own ADD then meets EEXIST, which it turns into a MOD.
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = owner->kernel().fd();  // what libuv itself stores for the watcher
    if (epoll_ctl(uv_backend_fd(loop), EPOLL_CTL_ADD, owner->kernel().fd(), &ev) < 0 && errno != EEXIST) {
      int err = errno;
      Stop(nullptr);
      return -err;
    }
#endif
    return 0;
  }

  void Ref() { uv_ref(reinterpret_cast<uv_handle_t*>(&poll_->handle)); }
  void Unref() { uv_unref(reinterpret_cast<uv_handle_t*>(&poll_->handle)); }

  // Before the kernel descriptor is closed: uv_close takes it out of libuv's own epoll set.
  void Stop(napi_async_cleanup_hook_handle teardown) {
    poll_->handle.data = nullptr;
    poll_->teardown = teardown;
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_->handle), Closing<uv_poll_t>::Release);
    poll_ = nullptr;
  }

 private:
  // Drains the kernel, and keeps draining while that pays: the events a callback causes (a reply
  // written, a peer woken) are often ready by the time it returns, and taking them now saves a
  // trip through libuv's own wait. It stops at a look that finds nothing, or that finds again
  // a registration of the batch before (level-triggered readiness nobody has drained: once per
  // loop turn is enough), and stays off until a full batch, or a probe every kProbeEvery
  // wakeups, turns it on again.
  static void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* owner = static_cast<Owner*>(handle->data);
    if (owner == nullptr) return;
    UvPollLoop& self = owner->loop();
    const size_t capacity = owner->kernel().capacity();
    bool again = self.again_ || (++self.wakeups_ % kProbeEvery) == 0;
    owner->StartWakeup();
    for (int round = 0; round < kRoundsPerWakeup; round++) {
      int n = owner->kernel().Wait(0);
      if (round > 0) self.again_ = n > 0;
      if (n <= 0) return;
      bool repeated = owner->Dispatch(n, /*compare=*/true);
      if (!owner->open()) return;  // closed by a callback: nothing of it may be touched
      if (repeated) {
        self.again_ = false;
        return;
      }
      if (static_cast<size_t>(n) < capacity && !again) return;
    }
  }

  static constexpr unsigned kProbeEvery = 16;
  bool again_ = true;
  unsigned wakeups_ = 0;
  Closing<uv_poll_t>* poll_ = nullptr;
};

template <class Owner>
class ThreadLoop {
 public:
  ThreadLoop() {
    uv_mutex_init(&mutex_);
    uv_cond_init(&cond_);
  }

  ~ThreadLoop() {
    uv_cond_destroy(&cond_);
    uv_mutex_destroy(&mutex_);
  }

  // 0 or a negative errno / libuv error.
  int Start(napi_env env, Owner* owner) {
    owner_ = owner;
    // The kernel's own way to interrupt a blocked wait (EVFILT_USER, an eventfd, a pipe).
    if (int err = owner->kernel().InitWake(); err != 0) return -err;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    auto* async = new Closing<uv_async_t>();
    int err = uv_async_init(loop, &async->handle, OnBatch);
    if (err != 0) {
      delete async;
      return err;
    }
    async->handle.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&async->handle));
    async_ = async;
    err = uv_thread_create(&thread_, Run, this);
    if (err != 0) {
      CloseAsync(nullptr);
      return err;
    }
    running_ = true;
    return 0;
  }

  // After a failed wait the thread is gone: nothing could ever wake the loop for this poller,
  // so nothing may hold the loop open for it again.
  void Ref() {
    if (!dead_) uv_ref(reinterpret_cast<uv_handle_t*>(&async_->handle));
  }
  void Unref() { uv_unref(reinterpret_cast<uv_handle_t*>(&async_->handle)); }

  // Ends the waiter thread (it is waiting either in the kernel, woken by the kernel's wake-up,
  // or for a dispatch, woken by the condition) and joins it before the kernel descriptor is
  // closed. Safe from inside a dispatch: the thread is then waiting on the condition.
  void Stop(napi_async_cleanup_hook_handle teardown) {
    uv_mutex_lock(&mutex_);
    stopping_ = true;
    uv_cond_signal(&cond_);
    uv_mutex_unlock(&mutex_);
    if (running_) {
      owner_->kernel().Wake();
      uv_thread_join(&thread_);
      running_ = false;
    }
    CloseAsync(teardown);
  }

 private:
  static void Run(void* arg) {
    auto* self = static_cast<ThreadLoop*>(arg);
    for (;;) {
      int n = self->owner_->kernel().Wait(-1);
      uv_mutex_lock(&self->mutex_);
      if (self->stopping_) {
        uv_mutex_unlock(&self->mutex_);
        return;
      }
      if (n == 0 || n == -EINTR) {
        uv_mutex_unlock(&self->mutex_);
        continue;
      }
      // A batch, or a failed wait (n < 0), which ends the thread once it has been reported.
      self->pending_ = n;
      uv_mutex_unlock(&self->mutex_);
      uv_async_send(&self->async_->handle);
      if (n < 0) return;
      uv_mutex_lock(&self->mutex_);
      while (self->pending_ > 0 && !self->stopping_) uv_cond_wait(&self->cond_, &self->mutex_);
      bool stop = self->stopping_;
      uv_mutex_unlock(&self->mutex_);
      if (stop) return;
    }
  }

  // On the loop thread. The waiter is blocked until pending_ is cleared, so the kernel, its raw
  // events and the batch buffer are this thread's alone. After the batch the loop thread keeps
  // draining the kernel itself with zero-timeout waits, as UvPollLoop does: what the callbacks
  // caused (a reply written, a peer woken) is usually ready by the time they return, and taking
  // it here saves two thread hops per event. After kRoundsPerWakeup batches, or a batch that
  // repeats a registration of the one before (level-triggered readiness nobody drained: once per
  // loop turn is enough), it yields to libuv's other handles and carries on at the next turn
  // (the same async handle, sent to itself), the waiter still parked. Only a look that finds
  // nothing sends the waiter back to block in the kernel.
  static void OnBatch(uv_async_t* handle) {
    auto* self = static_cast<ThreadLoop*>(handle->data);
    if (self == nullptr) return;
    uv_mutex_lock(&self->mutex_);
    int n = self->pending_;
    uv_mutex_unlock(&self->mutex_);
    if (n == 0) return;
    Owner* owner = self->owner_;
    if (n < 0) {
      // The waiter is gone: never again an event. Say so, and stop holding the loop open.
      self->pending_ = 0;
      self->dead_ = true;
      self->Unref();
      owner->Fail(-n);
      return;
    }
    if (self->draining_) {
      self->draining_ = false;
      n = owner->kernel().Wait(0);
    } else {
      owner->StartWakeup();  // a batch from the waiter: nothing before it to compare with
    }
    // Every batch taken from the kernel is dispatched before this returns: a batch collected and
    // then left for a later wait to overwrite would lose its edge and oneshot events.
    for (int round = 1; n > 0; round++) {
      bool repeated = owner->Dispatch(n, /*compare=*/true);
      if (!owner->open()) return;  // closed by a callback, which joined the thread
      if (repeated || round == kRoundsPerWakeup) {
        self->draining_ = true;
        uv_async_send(&self->async_->handle);
        return;
      }
      n = owner->kernel().Wait(0);
    }
    // Nothing ready (or a failing wait, which fails again in the waiter and is raised there).
    uv_mutex_lock(&self->mutex_);
    self->pending_ = 0;
    uv_cond_signal(&self->cond_);
    uv_mutex_unlock(&self->mutex_);
  }

  void CloseAsync(napi_async_cleanup_hook_handle teardown) {
    async_->handle.data = nullptr;
    async_->teardown = teardown;
    uv_close(reinterpret_cast<uv_handle_t*>(&async_->handle), Closing<uv_async_t>::Release);
    async_ = nullptr;
  }

  Owner* owner_ = nullptr;
  Closing<uv_async_t>* async_ = nullptr;
  uv_thread_t thread_{};
  uv_mutex_t mutex_;
  uv_cond_t cond_;
  int pending_ = 0;  // events waiting for dispatch, or -errno of a failed wait
  bool stopping_ = false;
  bool running_ = false;
  bool dead_ = false;      // the wait failed and the thread ended; loop thread only
  bool draining_ = false;  // OnBatch sent itself to carry on draining; loop thread only
};

}  // namespace pollglue
