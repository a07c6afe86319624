// A waiter thread blocks in the kernel and hands each batch to the loop thread through a
// Transport, then waits until the loop thread gives the kernel back, so a level-triggered event
// is not reported twice. The loop thread meanwhile keeps draining with zero-timeout waits
// (DrainWakeup) while events keep coming, so a busy poller costs no thread hop per event.
//
// For kqueue, whose descriptor nested in libuv's own kqueue is reported readable whether or not
// events are pending on macOS (https://github.com/libuv/libuv/issues/883), and for every runtime
// without libuv (Bun, Deno), where a threadsafe function is the only way back to the JS thread.
//
// A Transport provides:
//   static constexpr const char* kName; static constexpr bool kNeedsLibuv, kAsyncTeardown,
//   kDeliversInCall;
//   static constexpr int kRounds;      // batches per wake-up (DrainWakeup's `rounds`)
//   static constexpr bool kYieldBySend; // a repeat is sent on to the loop's next turn (true) or
//                                       // hands the kernel back to the waiter (false)
//   int Start(napi_env, void (*wake)(void*), void* arg);  // 0, an errno, or kNoRuntimeSupport
//   void Send();                       // any thread: call wake(arg) on the loop thread soon
//   void Ref(); void Unref();
//   void Stop(napi_async_cleanup_hook_handle teardown);  // loop thread; no wake(arg) after it
#pragma once

#include <pthread.h>

#include <cerrno>

#include "poll/loop.h"

#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace pollglue {

template <class Owner, class Transport>
class WaiterLoop {
 public:
  static constexpr const char* kName = Transport::kName;
  static constexpr bool kNeedsLibuv = Transport::kNeedsLibuv;
  static constexpr bool kDeliversInCall = Transport::kDeliversInCall;
  static constexpr bool kAsyncTeardown = Transport::kAsyncTeardown;

  WaiterLoop() {
    pthread_mutex_init(&mutex_, nullptr);
    pthread_cond_init(&cond_, nullptr);
  }

  ~WaiterLoop() {
    pthread_cond_destroy(&cond_);
    pthread_mutex_destroy(&mutex_);
  }

  int Start(napi_env env, Owner* owner) {
    owner_ = owner;
    // The kernel's own way to interrupt a blocked wait (EVFILT_USER, an eventfd, a pipe).
    if (int err = owner->kernel().InitWake(); err != 0) return err;
    if (int err = transport_.Start(env, OnWake, this); err != 0) return err;
    if (int err = pthread_create(&thread_, nullptr, Run, this); err != 0) {
      transport_.Stop(nullptr);
      return err;
    }
    running_ = true;
    return 0;
  }

  // After a failed wait the thread is gone: nothing could ever wake the loop for this poller,
  // so nothing may hold the loop open for it again.
  void Ref() {
    if (!dead_) transport_.Ref();
  }
  void Unref() { transport_.Unref(); }

  // Ends the waiter thread (it is waiting either in the kernel, woken by the kernel's wake-up,
  // or for a dispatch, woken by the condition) and joins it before the kernel descriptor is
  // closed. Safe from inside a dispatch: the thread is then waiting on the condition.
  void Stop(napi_async_cleanup_hook_handle teardown) {
    pthread_mutex_lock(&mutex_);
    stopping_ = true;
    pthread_cond_signal(&cond_);
    pthread_mutex_unlock(&mutex_);
    if (running_) {
      owner_->kernel().Wake();
      pthread_join(thread_, nullptr);
      running_ = false;
    }
    transport_.Stop(teardown);
  }

 private:
  static void* Run(void* arg) {
    auto* self = static_cast<WaiterLoop*>(arg);
#ifdef __linux__
    prctl(PR_SET_NAME, "poll-waiter");  // as /proc/<pid>/task/*/comm shows it
#elif defined(__APPLE__)
    pthread_setname_np("poll-waiter");
#endif
    for (;;) {
      int n = self->owner_->kernel().Wait(-1);
      pthread_mutex_lock(&self->mutex_);
      if (self->stopping_) {
        pthread_mutex_unlock(&self->mutex_);
        return nullptr;
      }
      if (n == 0 || n == -EINTR) {
        pthread_mutex_unlock(&self->mutex_);
        continue;
      }
      // A batch, or a failed wait (n < 0), which ends the thread once it has been reported.
      self->pending_ = n;
      pthread_mutex_unlock(&self->mutex_);
      self->transport_.Send();
      if (n < 0) return nullptr;
      pthread_mutex_lock(&self->mutex_);
      while (self->pending_ > 0 && !self->stopping_) pthread_cond_wait(&self->cond_, &self->mutex_);
      bool stop = self->stopping_;
      pthread_mutex_unlock(&self->mutex_);
      if (stop) return nullptr;
    }
  }

  // On the loop thread. The waiter is parked until pending_ is cleared, so the kernel, its raw
  // events and the batch buffer are this thread's alone. After the transport's kRounds batches,
  // it yields to the loop's other work and carries on at its next turn (sending itself the same
  // wake-up), the waiter still parked; a repeat does the same where sending is a real yield, and
  // otherwise, like a look that finds nothing, sends the waiter back to block in the kernel.
  // Every batch taken from the kernel is dispatched before this returns: a batch collected and
  // left for a later wait to overwrite would lose its edge and oneshot events.
  static void OnWake(void* arg) {
    auto* self = static_cast<WaiterLoop*>(arg);
    Owner* owner = self->owner_;
    pthread_mutex_lock(&self->mutex_);
    int n = self->pending_;
    pthread_mutex_unlock(&self->mutex_);
    if (n == 0) return;
    if (n < 0) {
      // The waiter is gone: never again an event. Stop holding the loop open, and say so.
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
    bool paid;
    Drained end = DrainWakeup(owner, n, /*settle=*/false, &paid, Transport::kRounds);
    if (end == Drained::kClosed) return;  // closed by a callback, which joined the thread
    if (end == Drained::kMore || (end == Drained::kRepeated && Transport::kYieldBySend)) {
      self->draining_ = true;
      self->transport_.Send();
      return;
    }
    // Nothing ready (or a failing wait, which fails again in the waiter and is raised there).
    pthread_mutex_lock(&self->mutex_);
    self->pending_ = 0;
    pthread_cond_signal(&self->cond_);
    pthread_mutex_unlock(&self->mutex_);
  }

  Owner* owner_ = nullptr;
  Transport transport_;
  pthread_t thread_{};
  pthread_mutex_t mutex_;
  pthread_cond_t cond_;
  int pending_ = 0;  // events waiting for dispatch, or -errno of a failed wait
  bool stopping_ = false;
  bool running_ = false;
  bool dead_ = false;      // the wait failed and the thread ended; loop thread only
  bool draining_ = false;  // OnWake sent itself to carry on draining; loop thread only
};

// Node: libuv's async handle. Wakes coalesce; the handle closes asynchronously.
class UvAsyncTransport {
 public:
  static constexpr const char* kName = "thread";
  static constexpr bool kNeedsLibuv = true;
  static constexpr bool kDeliversInCall = false;
  static constexpr bool kAsyncTeardown = true;
  static constexpr int kRounds = kRoundsPerWakeup;
  static constexpr bool kYieldBySend = true;  // an async handle sent from its own callback runs
                                              // at the loop's next turn

  int Start(napi_env env, void (*wake)(void*), void* arg) {
    uv_loop_t* loop = UvLoop(env);
    if (loop == nullptr) return kNoRuntimeSupport;
    auto* async = new Closing<uv_async_t>();
    if (int err = Uv()->async_init(loop, &async->handle, OnAsync); err != 0) {
      delete async;
      return -err;
    }
    wake_ = wake;
    async->handle.data = this;
    Uv()->unref(reinterpret_cast<uv_handle_t*>(&async->handle));
    async_ = async;
    arg_ = arg;
    return 0;
  }

  void Send() { Uv()->async_send(&async_->handle); }
  void Ref() { Uv()->ref(reinterpret_cast<uv_handle_t*>(&async_->handle)); }
  void Unref() { Uv()->unref(reinterpret_cast<uv_handle_t*>(&async_->handle)); }

  void Stop(napi_async_cleanup_hook_handle teardown) {
    async_->Close(teardown);
    async_ = nullptr;
  }

 private:
  static void OnAsync(uv_async_t* handle) {
    auto* self = static_cast<UvAsyncTransport*>(handle->data);
    if (self != nullptr) self->wake_(self->arg_);
  }

  Closing<uv_async_t>* async_ = nullptr;
  void (*wake_)(void*) = nullptr;
  void* arg_ = nullptr;
};

// Any runtime with Node-API 4: a threadsafe function (no libuv at all). Each Send() queues one
// call; the loop thread ignores calls that find nothing pending. Torn down synchronously, so a
// plain cleanup hook does: Deno aborts the process with a double free when an async cleanup
// hook removes itself, which Node requires of one.
//
// One batch per call: microtasks (a callback's promise continuations) run after each queued
// call, not after each napi_make_callback inside one (Node's behaviour suite: 256 edge events
// with a 64-event buffer came in one JS turn when a call drained four batches). A call queued
// from inside a call may run in the same turn (Node dispatches up to 1000 queued calls at once),
// so sending is no yield: a repeat hands the kernel back to the waiter instead.
class TsfnTransport {
 public:
  static constexpr const char* kName = "napi";
  static constexpr bool kNeedsLibuv = false;
  static constexpr bool kDeliversInCall = true;
  static constexpr bool kAsyncTeardown = false;
  static constexpr int kRounds = 1;
  static constexpr bool kYieldBySend = false;

  int Start(napi_env env, void (*wake)(void*), void* arg) {
    link_ = new Link{wake, arg};
    napi_value name;
    if (napi_create_string_utf8(env, "poll:waiter", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, link_, Finalize, link_, CallJs, &tsfn_) != napi_ok) {
      delete link_;
      link_ = nullptr;
      return kNoRuntimeSupport;
    }
    env_ = env;
    Unref();
    return 0;
  }

  void Send() { napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking); }
  void Ref() { napi_ref_threadsafe_function(env_, tsfn_); }
  void Unref() { napi_unref_threadsafe_function(env_, tsfn_); }

  void Stop(napi_async_cleanup_hook_handle) {
    link_->arg = nullptr;  // calls still queued find nobody; the link goes with the function
    napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    tsfn_ = nullptr;
    link_ = nullptr;
  }

 private:
  struct Link {
    void (*wake)(void*);
    void* arg;
  };

  static void CallJs(napi_env env, napi_value, void* context, void*) {
    auto* link = static_cast<Link*>(context);
    if (env != nullptr && link->arg != nullptr) link->wake(link->arg);
  }

  static void Finalize(napi_env, void* data, void*) { delete static_cast<Link*>(data); }

  napi_env env_ = nullptr;
  napi_threadsafe_function tsfn_ = nullptr;
  Link* link_ = nullptr;
};

template <class Owner>
using UvThreadLoop = WaiterLoop<Owner, UvAsyncTransport>;
template <class Owner>
using NapiThreadLoop = WaiterLoop<Owner, TsfnTransport>;

}  // namespace pollglue
