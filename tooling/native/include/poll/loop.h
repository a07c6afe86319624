// How a kernel poller joins the runtime's event loop: the Loop contract, the one drain policy
// every loop follows, and the loop for a pollable kernel descriptor under libuv (UvPollLoop).
// The waiter-thread loops are in waiter.h; which loop an environment gets is decided in
// runtime.h.
//
// A Loop<Owner> provides (checked at compile time by IsLoop below):
//   static constexpr const char* kName;       // as exported to JS: "uv", "thread", "napi"
//   static constexpr bool kNeedsLibuv;        // only where runtime.h finds libuv (Node)
//   static constexpr bool kDeliversInCall;    // batches reach JS inside a call the runtime
//                                             // makes (a threadsafe function's), not from a
//                                             // libuv callback (see BatchSink::DeliverInCall)
//   static constexpr bool kAsyncTeardown;     // teardown ends later (a libuv handle closing):
//                                             // the owner registers an async cleanup hook and
//                                             // Stop() releases it when done; else a plain one
//   int Start(napi_env env, Owner* owner);    // 0, an errno, or kNoRuntimeSupport
//   void Ref(); void Unref();                 // hold the runtime's loop open, or not
//   void Stop(napi_async_cleanup_hook_handle teardown);  // before the kernel descriptor closes
//
// and calls back into its Owner: `Kernel& kernel()`, `bool open()`, `void StartWakeup()`,
// `bool Dispatch(int n, bool compare)` (translate and deliver `n` raw events) and, for a waiter
// thread, `void Fail(int err)` (the wait itself failed).
#pragma once

#include <node_api.h>

#include <cerrno>
#include <type_traits>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#include "poll/libuv.h"

namespace pollglue {

// Token 0 is never handed out by core (its RESERVED_TOKEN, which checks this copy, exported as
// reservedToken): a kernel registers its wake-up descriptor with it and drops its events.
constexpr int32_t kWakeToken = 0;

// Start()'s answer when the runtime lacks what the loop is made of (libuv, or working
// threadsafe functions): core reports it as ERR_POLL_NO_BACKEND.
constexpr int kNoRuntimeSupport = -1;

template <class L, class Owner>
constexpr bool IsLoop() {
  return std::is_same_v<decltype(&L::Start), int (L::*)(napi_env, Owner*)> && std::is_same_v<decltype(&L::Ref), void (L::*)()> &&
         std::is_same_v<decltype(&L::Unref), void (L::*)()> &&
         std::is_same_v<decltype(&L::Stop), void (L::*)(napi_async_cleanup_hook_handle)> &&
         std::is_same_v<decltype(L::kName), const char* const> && std::is_same_v<decltype(L::kAsyncTeardown), const bool> &&
         std::is_same_v<decltype(L::kNeedsLibuv), const bool> && std::is_same_v<decltype(L::kDeliversInCall), const bool>;
}

// At most this many batches per wakeup before yielding to the loop, so a flood of ready
// descriptors (or two callbacks that keep waking each other) cannot starve the loop's other
// work. Measured with pnpm bench's pingpong: 4 rounds left one libuv epoll_pwait per four
// events; 16 brings the syscalls per event within a few percent of a plain epoll_wait loop.
constexpr int kRoundsPerWakeup = 16;

enum class Drained {
  kEmpty,     // the kernel has nothing ready (or the look failed)
  kClosed,    // a callback closed the poller: nothing of it may be touched
  kRepeated,  // a batch repeated a registration of the one before: level-triggered readiness
              // nobody has drained, worth one delivery per loop turn, not more
  kMore,      // kRoundsPerWakeup batches delivered, more may be ready
  kSettled,   // (with `settle`) a batch that did not fill the buffer
};

// The one drain policy: deliver the `n` raw events already taken from the kernel, then keep
// taking more with zero-timeout waits while that pays. The events a callback causes (a reply
// written, a peer woken) are often ready by the time it returns, and taking them now saves a
// trip through the loop (and, for a waiter thread, two thread hops). At most `rounds` batches;
// `settle` stops after a batch that did not fill the buffer, for a loop that the kernel wakes
// again anyway; `paid` is set after each follow-up look to whether it found anything new.
template <class Owner>
Drained DrainWakeup(Owner* owner, int n, bool settle, bool* paid, int rounds = kRoundsPerWakeup) {
  const size_t capacity = owner->kernel().capacity();
  for (int round = 1;; round++) {
    if (n <= 0) return Drained::kEmpty;
    bool repeated = owner->Dispatch(n, /*compare=*/true);
    if (!owner->open()) return Drained::kClosed;
    if (repeated) {
      *paid = false;
      return Drained::kRepeated;
    }
    if (round == rounds) return Drained::kMore;
    if (settle && static_cast<size_t>(n) < capacity) return Drained::kSettled;
    n = owner->kernel().Wait(0);
    *paid = n > 0;
  }
}

// A libuv handle outlives its owner until libuv has finished closing it; if the environment is
// going away, the cleanup hook is released only then.
template <class Handle>
struct Closing {
  Handle handle;
  napi_async_cleanup_hook_handle teardown = nullptr;

  static void Release(uv_handle_t* h) {
    auto* self = reinterpret_cast<Closing*>(h);
    if (self->teardown != nullptr) napi_remove_async_cleanup_hook(self->teardown);
    delete self;
  }

  void Close(napi_async_cleanup_hook_handle hook) {
    handle.data = nullptr;
    teardown = hook;
    Uv()->close(reinterpret_cast<uv_handle_t*>(&handle), Release);
  }
};

// The poller descriptor is itself pollable (epoll): one uv_poll_t on it, drained without
// blocking when libuv reports it readable. No thread.
template <class Owner>
class UvPollLoop {
 public:
  static constexpr const char* kName = "uv";
  static constexpr bool kNeedsLibuv = true;
  static constexpr bool kDeliversInCall = false;
  static constexpr bool kAsyncTeardown = true;

  int Start(napi_env env, Owner* owner) {
    uv_loop_t* loop = UvLoop(env);
    if (loop == nullptr) return kNoRuntimeSupport;
    const UvApi& uv = *Uv();
    auto* poll = new Closing<uv_poll_t>();
    if (int err = uv.poll_init(loop, &poll->handle, owner->kernel().fd()); err != 0) {
      delete poll;
      return -err;
    }
    poll->handle.data = owner;
    if (int err = uv.poll_start(&poll->handle, UV_READABLE, OnReadable); err != 0) {
      poll->Close(nullptr);
      return -err;
    }
    uv.unref(reinterpret_cast<uv_handle_t*>(&poll->handle));
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
    if (epoll_ctl(uv.backend_fd(loop), EPOLL_CTL_ADD, owner->kernel().fd(), &ev) < 0 && errno != EEXIST) {
      int err = errno;
      Stop(nullptr);
      return err;
    }
#endif
    return 0;
  }

  void Ref() { Uv()->ref(reinterpret_cast<uv_handle_t*>(&poll_->handle)); }
  void Unref() { Uv()->unref(reinterpret_cast<uv_handle_t*>(&poll_->handle)); }

  // Before the kernel descriptor is closed: uv_close takes it out of libuv's own epoll set.
  void Stop(napi_async_cleanup_hook_handle teardown) {
    poll_->Close(teardown);
    poll_ = nullptr;
  }

 private:
  // A look that finds nothing, or a repeat, ends the wakeup (libuv reports the descriptor again
  // while anything is ready); a partial batch ends it too unless draining has lately paid, or
  // every kProbeEvery wakeups, to find out whether it pays again.
  static void OnReadable(uv_poll_t* handle, int /*status*/, int /*events*/) {
    auto* owner = static_cast<Owner*>(handle->data);
    if (owner == nullptr) return;
    UvPollLoop& self = owner->loop();
    bool again = self.again_ || (++self.wakeups_ % kProbeEvery) == 0;
    owner->StartWakeup();
    DrainWakeup(owner, owner->kernel().Wait(0), /*settle=*/!again, &self.again_);
  }

  static constexpr unsigned kProbeEvery = 16;
  bool again_ = true;
  unsigned wakeups_ = 0;
  Closing<uv_poll_t>* poll_ = nullptr;
};

}  // namespace pollglue
