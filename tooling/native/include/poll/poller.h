// The JS-facing poller object every backend shares. A backend supplies a Kernel (create the
// descriptor, change interest, wait, translate events) and picks a Loop from loop.h; this
// class does the rest: arguments, errors, the batch buffer, ref/unref, close, teardown.
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
//   static constexpr const char* kWaitSyscall;    // for ThreadLoop: named when a wait fails
//   int InitWake(); void Wake();                  // for ThreadLoop: interrupt a blocked Wait
#pragma once

#include <optional>
#include <string>

#include "poll/addon.h"
#include "poll/io.h"
#include "poll/loop.h"

namespace pollglue {

template <class Kernel, template <class> class Loop>
class PollerWrap : public Napi::ObjectWrap<PollerWrap<Kernel, Loop>> {
  using Self = PollerWrap<Kernel, Loop>;

 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    return Self::DefineClass(env, name,
                             {
                                 Self::template InstanceAccessor<&Self::Fd>("fd"),
                                 Self::template InstanceMethod<&Self::Add>("add"),
                                 Self::template InstanceMethod<&Self::Modify>("modify"),
                                 Self::template InstanceMethod<&Self::Remove>("remove"),
                                 Self::template InstanceMethod<&Self::Ref>("ref"),
                                 Self::template InstanceMethod<&Self::Unref>("unref"),
                                 Self::template InstanceMethod<&Self::Pin>("pin"),
                                 Self::template InstanceMethod<&Self::Close>("close"),
                             });
  }

  explicit PollerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Self>(info) {
    Napi::Env env = info.Env();
    if (!sink_.Init(info)) return;
    const char* failed = nullptr;
    int fd = Kernel::Create(&failed);
    if (fd < 0) {
      ThrowErrno(env, errno, failed);
      sink_.Reset();
      return;
    }
    kernel_.emplace(fd, sink_.capacity());
    if (int err = loop_.Start(env, this); err != 0) {
      kernel_->Close();
      kernel_.reset();
      sink_.Reset();
      ThrowErrno(env, -err, "uv_loop");
      return;
    }
    napi_add_async_cleanup_hook(env, OnTeardown, this, &hook_);
  }

  ~PollerWrap() override { Shutdown(nullptr); }

  // For the Loop.
  Kernel& kernel() { return *kernel_; }
  Loop<Self>& loop() { return loop_; }
  bool open() const { return kernel_.has_value(); }
  // The waiter thread's kernel wait failed (only ever a bug: EBADF, EINVAL, EFAULT): raise it
  // like any uncaught exception, with Node's error shape.
  void Fail(int err) {
    Napi::Env env = this->Env();
    Napi::HandleScope scope(env);
    Napi::Error error = Napi::Error::New(env, std::string(uv_err_name(-err)) + ": " + std::strerror(err) + ", " +
                                                   Kernel::kWaitSyscall + " (the poller can no longer deliver events)");
    error.Set("code", Napi::String::New(env, uv_err_name(-err)));
    error.Set("errno", Napi::Number::New(env, -err));
    error.Set("syscall", Napi::String::New(env, Kernel::kWaitSyscall));
    napi_fatal_exception(env, error.Value());
  }

  // Delivers `n` raw events. With `compare` (UvPollLoop's re-polling), says whether they
  // repeated a registration of the previous batch of this wakeup. May close the poller.
  bool Dispatch(int n, bool compare = false) {
    if (!sink_.Begin(static_cast<size_t>(n))) return true;  // the buffer was taken away from us
    size_t count = kernel_->Translate(n, sink_);
    bool repeated = compare && sink_.RepeatsPrevious(count);
    if (count > 0) sink_.Deliver(count);
    return repeated;
  }

  void StartWakeup() { sink_.ForgetPrevious(); }

 private:
  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), open() ? kernel_->fd() : -1); }

  void Add(const Napi::CallbackInfo& info) { Change(info, &Kernel::Add); }
  void Modify(const Napi::CallbackInfo& info) { Change(info, &Kernel::Modify); }

  void Change(const Napi::CallbackInfo& info, int (Kernel::*op)(int, int32_t, int32_t)) {
    int32_t args[3];
    if (!Usable(info) || !Int32Args(info, 3, args)) return;
    // Token 0 belongs to the loop's own wake-up descriptor.
    if (args[2] == kWakeToken) return ThrowType(info.Env(), "poll: token 0 is reserved");
    if (int err = ((*kernel_).*op)(args[0], args[1], args[2]); err != 0) {
      ThrowErrno(info.Env(), err, Kernel::kCtlSyscall, args[0], Kernel::Explain(err));
    }
  }

  void Remove(const Napi::CallbackInfo& info) {
    int32_t fd;
    if (!Usable(info) || !Int32Args(info, 1, &fd)) return;
    if (int err = kernel_->Remove(fd); err != 0) ThrowErrno(info.Env(), err, Kernel::kCtlSyscall, fd);
  }

  void Ref(const Napi::CallbackInfo&) {
    if (open()) loop_.Ref();
  }

  void Unref(const Napi::CallbackInfo&) {
    if (open()) loop_.Unref();
  }

  void Pin(const Napi::CallbackInfo& info) { sink_.Pin(info[0].ToBoolean()); }

  void Close(const Napi::CallbackInfo&) { Shutdown(nullptr); }

  bool Usable(const Napi::CallbackInfo& info) {
    if (open()) return true;
    ThrowErrno(info.Env(), EBADF, Kernel::kCtlSyscall);
    return false;
  }

  // From close(), the finalizer, or environment teardown (`teardown` set).
  void Shutdown(napi_async_cleanup_hook_handle teardown) {
    if (hook_ != nullptr && teardown == nullptr) napi_remove_async_cleanup_hook(hook_);
    hook_ = nullptr;
    if (!open()) {
      if (teardown != nullptr) napi_remove_async_cleanup_hook(teardown);
      return;
    }
    loop_.Stop(teardown);  // first: nothing may wait on the descriptor once it is closed
    kernel_->Close();
    kernel_.reset();
    sink_.Reset();
  }

  static void OnTeardown(napi_async_cleanup_hook_handle handle, void* self) {
    static_cast<Self*>(self)->Shutdown(handle);
  }

  std::optional<Kernel> kernel_;
  Loop<Self> loop_;
  BatchSink sink_;
  napi_async_cleanup_hook_handle hook_ = nullptr;
};

// A backend addon's exports: its poller class under `name`, core's bits, what it supports, and
// the descriptor I/O core's streams use.
template <class Kernel, template <class> class Loop>
Napi::Object ExportBackend(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, PollerWrap<Kernel, Loop>::Define(env, name));
  exports.Set("bits", BitsObject(env));
  exports.Set("supported", Napi::Number::New(env, Kernel::kSupported));
  exports.Set("io", IoObject(env));
  return exports;
}

}  // namespace pollglue
