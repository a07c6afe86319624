// The JS-facing poller object every backend shares. A backend supplies a Kernel (create the
// descriptor, change interest, wait, translate events); loops come from loop.h and waiter.h;
// this class does the rest: arguments, errors, the batch buffer, ref/unref, close, teardown.
// Written on Node-API's C functions (see addon.h for why): every entry point may run in an
// environment that can no longer run JavaScript, and then ends quietly.
//
// Kernel interface:
//   static constexpr const char* kCtlSyscall;     // named in errors from Add/Modify/Remove
//   static const char* Explain(int err);          // why Add/Modify failed, where errno alone
//                                                 // would not say; nullptr for strerror()
//   static constexpr int32_t kSupported;          // interest bits it honours
//   static int Create(const char** failed);       // the descriptor, close-on-exec; or -1, errno
//   Kernel(int fd, size_t capacity);
//   int fd() const; size_t capacity() const;
//   int Add(int fd, int32_t mask, int32_t token);     // 0 or errno
//   int Modify(int fd, int32_t mask, int32_t token);  // 0 or errno
//   int Remove(int fd);                               // 0 or errno
//   int Wait(int timeout_ms);                     // raw events, or -errno; -1 waits forever
//   size_t Translate(int n, BatchSink& sink);     // raw events to [fd, token, mask] slots
//   void Close();
//   static constexpr const char* kWaitSyscall;    // for a waiter thread: named when a wait fails
//   int InitWake(); void Wake();                  // for a waiter thread: interrupt a blocked Wait
#pragma once

#include <optional>
#include <string>

#include "poll/addon.h"
#include "poll/batch.h"
#include "poll/io.h"
#include "poll/loop.h"
#include "poll/runtime.h"
#include "poll/waiter.h"

namespace pollglue {

template <class Kernel, template <class> class Loop>
class PollerWrap {
  using Self = PollerWrap<Kernel, Loop>;
  static_assert(IsLoop<Loop<Self>, Self>(), "a Loop must follow the contract in loop.h");

 public:
  static constexpr const char* kLoopName = Loop<Self>::kName;
  static constexpr bool kNeedsLibuv = Loop<Self>::kNeedsLibuv;

  static napi_value Define(napi_env env, const char* name) {
    const napi_property_descriptor props[] = {
        {"fd", nullptr, nullptr, Fd, nullptr, nullptr, napi_enumerable, nullptr},
        {"add", nullptr, Method<&Self::Add>, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"modify", nullptr, Method<&Self::Modify>, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"remove", nullptr, Method<&Self::Remove>, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"ref", nullptr, Method<&Self::Ref>, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"unref", nullptr, Method<&Self::Unref>, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"pin", nullptr, Method<&Self::Pin>, nullptr, nullptr, nullptr, napi_default, nullptr},
        {"close", nullptr, Method<&Self::Close>, nullptr, nullptr, nullptr, napi_default, nullptr},
    };
    napi_value cls = nullptr;
    napi_define_class(env, name, NAPI_AUTO_LENGTH, New, nullptr, sizeof props / sizeof props[0], props, &cls);
    return cls;
  }

  // For the Loop.
  Kernel& kernel() { return *kernel_; }
  Loop<Self>& loop() { return loop_; }
  bool open() const { return kernel_.has_value(); }

  // The waiter thread's kernel wait failed (only ever a bug: EBADF, EINVAL, EFAULT): raise it
  // like any uncaught exception, with Node's error shape.
  void Fail(int err) {
    POLL_PROBE(env_, "fail");
    Scope scope(env_);
    const char* name = ErrnoName(err);
    std::string message = std::string(name != nullptr ? name : "error") + ": " + std::strerror(err) + ", " +
                          Kernel::kWaitSyscall + " (the poller can no longer deliver events)";
    napi_value error = MakeError(env_, ErrorKind::kError, message.c_str(), name);
    if (error != nullptr && SetInt(env_, error, "errno", -err) && SetString(env_, error, "syscall", Kernel::kWaitSyscall) &&
        CanRunJs(env_)) {
      napi_fatal_exception(env_, error);
    }
  }

  // Delivers `n` raw events. With `compare`, says whether they repeated a registration of the
  // previous batch of this wakeup. May close the poller.
  bool Dispatch(int n, bool compare = false) {
    if (!sink_.Begin(static_cast<size_t>(n))) return true;  // the buffer was taken away from us
    size_t count = kernel_->Translate(n, sink_);
    bool repeated = compare && sink_.RepeatsPrevious(count);
    if (count > 0) sink_.Deliver(count);
    return repeated;
  }

  void StartWakeup() { sink_.ForgetPrevious(); }

 private:
  explicit PollerWrap(napi_env env) : env_(env) {}

  ~PollerWrap() { Shutdown(false, nullptr); }

  // new Native(buffer: Int32Array, onBatch: (count) => void)
  static napi_value New(napi_env env, napi_callback_info info) {
    POLL_PROBE(env, "constructor");
    size_t argc = 2;
    napi_value argv[2];
    napi_value self;
    napi_value target = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv, &self, nullptr) != napi_ok || napi_get_new_target(env, info, &target) != napi_ok) {
      return nullptr;
    }
    if (target == nullptr) {
      ThrowType(env, "poll: the poller class must be called with new");
      return nullptr;
    }
    auto* poller = new Self(env);
    if (!poller->Open(argv[0], argv[1])) {
      delete poller;
      return nullptr;
    }
    if (napi_wrap(env, self, poller, Finalize, nullptr, nullptr) != napi_ok) {
      delete poller;
      return nullptr;
    }
    return self;
  }

  bool Open(napi_value buffer, napi_value callback) {
    if (!sink_.Init(env_, buffer, callback)) return false;
    sink_.DeliverInCall(Loop<Self>::kDeliversInCall);
    const char* failed = nullptr;
    int fd = Kernel::Create(&failed);
    if (fd < 0) {
      ThrowErrno(env_, errno, failed);
      return false;
    }
    kernel_.emplace(fd, sink_.capacity());
    if (int err = loop_.Start(env_, this); err != 0) {
      kernel_->Close();
      kernel_.reset();
      if (err == kNoRuntimeSupport) {
        napi_value error = MakeError(env_, ErrorKind::kError,
                                     "poll: this runtime can run neither the libuv loop nor Node-API threadsafe "
                                     "functions, so the poller cannot deliver events here",
                                     "ERR_POLL_NO_BACKEND");
        if (error != nullptr) napi_throw(env_, error);
      } else {
        ThrowErrno(env_, err, Loop<Self>::kName);
      }
      return false;
    }
    bool hooked = Loop<Self>::kAsyncTeardown ? napi_add_async_cleanup_hook(env_, OnAsyncTeardown, this, &async_hook_) == napi_ok
                                             : napi_add_env_cleanup_hook(env_, OnTeardown, this) == napi_ok;
    if (!hooked) {
      // Without a hook nothing would close the descriptor when the environment goes away.
      async_hook_ = nullptr;
      Shutdown(false, nullptr);
      ThrowErrno(env_, ENOMEM, "napi_add_env_cleanup_hook");
      return false;
    }
    hooked_ = true;
    return true;
  }

  static void Finalize(napi_env env, void* data, void*) {
    POLL_PROBE(env, "finalize");
    delete static_cast<Self*>(data);
  }

  // Every method: find the poller, or end quietly (a terminating environment refuses even
  // that) or with a TypeError (called on something else).
  template <napi_value (Self::*M)(napi_env, napi_value*)>
  static napi_value Method(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value argv[3];
    napi_value self;
    void* data = nullptr;
    if (napi_get_cb_info(env, info, &argc, argv, &self, nullptr) != napi_ok) return nullptr;
    if (napi_unwrap(env, self, &data) != napi_ok || data == nullptr) {
      ThrowType(env, "poll: not a poller");
      return nullptr;
    }
    return (static_cast<Self*>(data)->*M)(env, argv);
  }

  static napi_value Fd(napi_env env, napi_callback_info info) {
    POLL_PROBE(env, "fd");
    napi_value self;
    void* data = nullptr;
    napi_value result = nullptr;
    size_t argc = 0;
    if (napi_get_cb_info(env, info, &argc, nullptr, &self, nullptr) != napi_ok || napi_unwrap(env, self, &data) != napi_ok ||
        data == nullptr) {
      return nullptr;
    }
    Self* poller = static_cast<Self*>(data);
    napi_create_int32(env, poller->open() ? poller->kernel_->fd() : -1, &result);
    return result;
  }

  napi_value Add(napi_env env, napi_value* argv) {
    POLL_PROBE(env, "add");
    return Change(env, argv, &Kernel::Add);
  }

  napi_value Modify(napi_env env, napi_value* argv) {
    POLL_PROBE(env, "modify");
    return Change(env, argv, &Kernel::Modify);
  }

  napi_value Change(napi_env env, napi_value* argv, int (Kernel::*op)(int, int32_t, int32_t)) {
    int32_t args[3];
    if (!Usable(env) || !Int32Args(env, argv, 3, args)) return nullptr;
    // Token 0 belongs to the loop's own wake-up descriptor.
    if (args[2] == kWakeToken) {
      ThrowType(env, "poll: token 0 is reserved");
      return nullptr;
    }
    if (int err = ((*kernel_).*op)(args[0], args[1], args[2]); err != 0) {
      ThrowErrno(env, err, Kernel::kCtlSyscall, args[0], Kernel::Explain(err));
    }
    return nullptr;
  }

  napi_value Remove(napi_env env, napi_value* argv) {
    POLL_PROBE(env, "remove");
    int32_t fd;
    if (!Usable(env) || !Int32Args(env, argv, 1, &fd)) return nullptr;
    if (int err = kernel_->Remove(fd); err != 0) ThrowErrno(env, err, Kernel::kCtlSyscall, fd);
    return nullptr;
  }

  napi_value Ref(napi_env env, napi_value*) {
    POLL_PROBE(env, "ref");
    if (open()) loop_.Ref();
    return nullptr;
  }

  napi_value Unref(napi_env env, napi_value*) {
    POLL_PROBE(env, "unref");
    if (open()) loop_.Unref();
    return nullptr;
  }

  // pin(boolean): core passes a boolean; anything else is ignored rather than coerced
  // (coercion may run JavaScript, which a terminating environment refuses).
  napi_value Pin(napi_env env, napi_value* argv) {
    POLL_PROBE(env, "pin");
    bool on;
    if (napi_get_value_bool(env, argv[0], &on) == napi_ok) sink_.Pin(on);
    return nullptr;
  }

  napi_value Close(napi_env env, napi_value*) {
    POLL_PROBE(env, "close");
    Shutdown(false, nullptr);
    return nullptr;
  }

  bool Usable(napi_env env) {
    if (open()) return true;
    ThrowErrno(env, EBADF, Kernel::kCtlSyscall);
    return false;
  }

  // From close(), the finalizer, or environment teardown (`teardown` set; `handle` is the async
  // hook's, for a loop that releases it once its handles have closed).
  void Shutdown(bool teardown, napi_async_cleanup_hook_handle handle) {
    if (hooked_ && !teardown) {
      if (Loop<Self>::kAsyncTeardown) {
        napi_remove_async_cleanup_hook(async_hook_);
      } else {
        napi_remove_env_cleanup_hook(env_, OnTeardown, this);
      }
    }
    hooked_ = false;
    async_hook_ = nullptr;
    if (!open()) {
      if (handle != nullptr) napi_remove_async_cleanup_hook(handle);
      return;
    }
    loop_.Stop(handle);  // first: nothing may wait on the descriptor once it is closed
    kernel_->Close();
    kernel_.reset();
    sink_.Reset(teardown);
  }

  static void OnTeardown(void* self) {
    POLL_PROBE(static_cast<Self*>(self)->env_, "teardown");
    static_cast<Self*>(self)->Shutdown(true, nullptr);
  }

  static void OnAsyncTeardown(napi_async_cleanup_hook_handle handle, void* self) {
    POLL_PROBE(static_cast<Self*>(self)->env_, "teardown");
    static_cast<Self*>(self)->Shutdown(true, handle);
  }

  napi_env env_;
  std::optional<Kernel> kernel_;
  Loop<Self> loop_;
  BatchSink sink_;
  bool hooked_ = false;
  napi_async_cleanup_hook_handle async_hook_ = nullptr;
};

// A backend addon's exports, at module set-up:
//   [name]     the poller class on the first of `Loops` this runtime can run (runtime.h)
//   loop       that loop's name
//   loops      { [loop name]: class } for every loop this runtime can run, for tests and the
//              benchmark to compare them on one kernel
//   bits, supported, io   core's bits, the interest bits the kernel honours, descriptor I/O
template <class Kernel, template <class> class L>
void OfferLoop(Napi::Env env, bool libuv, const char* name, Napi::Object exports, Napi::Object loops) {
  using Poller = PollerWrap<Kernel, L>;
  if (Poller::kNeedsLibuv && !libuv) return;  // never even defined where it could not run
  Napi::Value cls(env, Poller::Define(env, name));
  loops.Set(Poller::kLoopName, cls);
  if (exports.Has(name)) return;
  exports.Set(name, cls);
  exports.Set("loop", Poller::kLoopName);
}

template <class Kernel, template <class> class... Loops>
Napi::Object ExportBackend(Napi::Env env, Napi::Object exports, const char* name) {
  bool libuv = RuntimeHasLibuv(env);
  Napi::Object loops = Napi::Object::New(env);
  (OfferLoop<Kernel, Loops>(env, libuv, name, exports, loops), ...);
  exports.Set("loops", loops);
  exports.Set("bits", BitsObject(env));
  exports.Set("maxEvents", Napi::Number::New(env, static_cast<double>(kMaxEvents)));
  exports.Set("reservedToken", Napi::Number::New(env, kWakeToken));
  exports.Set("supported", Napi::Number::New(env, Kernel::kSupported));
  exports.Set("io", IoObject(env));
  return exports;
}

}  // namespace pollglue
