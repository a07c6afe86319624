// The part of every native backend that faces JavaScript: core's bit set, errors in the shape
// core turns into a PollError, the batch buffer shared with JS, and environment teardown.
// A backend's own file keeps only what differs between kernels.
#pragma once

#include <napi.h>
#include <uv.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

namespace pollglue {

// Must equal Bits in packages/core/src/types.ts; core checks `bits` when it loads a backend.
enum Bit : int32_t {
  kReadable = 1,
  kWritable = 2,
  kPriority = 4,
  kHangup = 8,
  kError = 16,
  kEdge = 32,
  kOneshot = 64,
  kPeerShutdown = 128,
};

// Each event is three int32s in the JS buffer: fd, token, mask.
constexpr size_t kSlot = 3;
// Must equal the upper bound of maxEvents in packages/core/src/validate.ts.
constexpr size_t kMaxEvents = 65536;

inline Napi::Object BitsObject(Napi::Env env) {
  Napi::Object bits = Napi::Object::New(env);
  bits.Set("READABLE", static_cast<int32_t>(kReadable));
  bits.Set("WRITABLE", static_cast<int32_t>(kWritable));
  bits.Set("PRIORITY", static_cast<int32_t>(kPriority));
  bits.Set("HANGUP", static_cast<int32_t>(kHangup));
  bits.Set("ERROR", static_cast<int32_t>(kError));
  bits.Set("EDGE", static_cast<int32_t>(kEdge));
  bits.Set("ONESHOT", static_cast<int32_t>(kOneshot));
  bits.Set("PEER_SHUTDOWN", static_cast<int32_t>(kPeerShutdown));
  return bits;
}

// The second step of creating a poller descriptor where the system cannot make it
// close-on-exec at once: set FD_CLOEXEC, or close it and fail. Never a half-made descriptor
// (https://github.com/golang/go/issues/22606 describes the leak that follows otherwise).
inline int CloexecOrClose(int fd, const char** failed) {
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) == 0) return fd;
  int err = errno;
  close(fd);
  errno = err;
  *failed = "fcntl";
  return -1;
}

// Thrown as { message, errno, syscall, fd }; core's toPollError gives it Node's shape and code.
// `detail`, when the kernel's errno alone would not tell the user why, replaces strerror().
inline void ThrowErrno(Napi::Env env, int err, const char* syscall, int fd = -1, const char* detail = nullptr) {
  Napi::Error error = Napi::Error::New(env, detail != nullptr ? detail : std::strerror(err));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (fd >= 0) error.Set("fd", Napi::Number::New(env, fd));
  error.ThrowAsJavaScriptException();
}

inline void ThrowType(Napi::Env env, const char* message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  error.ThrowAsJavaScriptException();
}

// Core validates arguments first; this only keeps direct callers of the binding from crashing it.
inline bool Int32Args(const Napi::CallbackInfo& info, size_t count, int32_t* out) {
  for (size_t i = 0; i < count; i++) {
    // One call per argument: napi_get_value_int32 itself refuses what is not a number.
    if (napi_get_value_int32(info.Env(), info[i], &out[i]) != napi_ok) {
      ThrowType(info.Env(), "poll: expected integer arguments");
      return false;
    }
  }
  if (out[0] < 0) {
    ThrowErrno(info.Env(), EBADF, "poll", out[0]);
    return false;
  }
  return true;
}

// The Int32Array and callback a Poller hands its backend: the backend writes a batch of
// events into the array and calls JS once for the whole batch.
class BatchSink {
 public:
  bool Init(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        !info[1].IsFunction()) {
      ThrowType(env, "poll: expected (Int32Array, function)");
      return false;
    }
    Napi::Int32Array array = info[0].As<Napi::Int32Array>();
    if (array.ElementLength() < kSlot) {
      ThrowType(env, "poll: the event buffer must hold at least one event");
      return false;
    }
    // Core allows at most kMaxEvents; a direct caller with a huge buffer would otherwise make
    // the reservations below fail (an abort, with exceptions off) or every wait fail with
    // EINVAL (epoll_wait's maxevents is an int).
    if (array.ElementLength() / kSlot > kMaxEvents) {
      Napi::RangeError error = Napi::RangeError::New(env, "poll: the event buffer holds more than 65536 events");
      error.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
      error.ThrowAsJavaScriptException();
      return false;
    }
    env_ = env;
    data_ = array.Data();
    capacity_ = array.ElementLength() / kSlot;
    previous_.reserve(capacity_);
    array_ = Napi::Persistent(array.As<Napi::Object>());
    // Weak until core pins it: an abandoned poller that watches nothing can be collected.
    callback_ = Napi::Weak(info[1].As<Napi::Function>());
    resource_ = Napi::Persistent(Napi::Object::New(env));
    if (napi_async_init(env, resource_.Value(), Napi::String::New(env, "poll:Poller"), &context_) != napi_ok) {
      context_ = nullptr;
    }
    return true;
  }

  size_t capacity() const { return capacity_; }

  void Pin(bool on) {
    if (on == pinned_ || callback_.IsEmpty()) return;
    pinned_ = on;
    if (on) {
      callback_.Ref();
    } else {
      callback_.Unref();
    }
  }

  // Before each batch: find the array's memory again. Whoever holds the array could have
  // transferred (detached) or shrunk its buffer since the last batch; then nothing is written.
  bool Begin(size_t slots) {
    Napi::HandleScope scope(env_);
    napi_value value = array_.IsEmpty() ? nullptr : static_cast<napi_value>(array_.Value());
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t offset;
    bool detached = true;
    if (value == nullptr || napi_get_typedarray_info(env_, value, &type, &length, &data, &buffer, &offset) != napi_ok ||
        napi_is_detached_arraybuffer(env_, buffer, &detached) != napi_ok || detached || data == nullptr ||
        length < slots * kSlot) {
      data_ = nullptr;
      return false;
    }
    data_ = static_cast<int32_t*>(data);
    return true;
  }

  void Put(size_t index, int32_t fd, int32_t token, int32_t mask) {
    int32_t* slot = data_ + index * kSlot;
    slot[0] = fd;
    slot[1] = token;
    slot[2] = mask;
  }

  // Whether any registration in this batch's first `count` slots was also in the previous
  // batch of the same wakeup: level-triggered readiness that nobody has drained yet.
  bool RepeatsPrevious(size_t count) {
    bool repeat = false;
    for (size_t i = 0; i < count && !repeat; i++) {
      repeat = std::binary_search(previous_.begin(), previous_.end(), Key(i));
    }
    previous_.clear();
    for (size_t i = 0; i < count; i++) previous_.push_back(Key(i));
    std::sort(previous_.begin(), previous_.end());
    return repeat;
  }

  void ForgetPrevious() { previous_.clear(); }

  // A second kernel event for the descriptor already in slot `index` (kqueue reports each
  // filter on its own).
  void Merge(size_t index, int32_t mask) { data_[index * kSlot + 2] |= mask; }

  // From a libuv callback: one JS call for `count` events. The dispatcher in core catches the
  // user's exceptions; anything else that escapes is reported like any uncaught exception.
  void Deliver(size_t count) {
    Napi::HandleScope scope(env_);
    Napi::Function callback = callback_.Value();
    if (callback.IsEmpty()) return;  // collected: nothing is watched, so nothing is lost
    napi_value argv[1] = {Napi::Number::New(env_, static_cast<double>(count))};
    napi_value result;
    in_call_ = true;
    napi_status status = napi_make_callback(env_, context_, resource_.Value(), callback, 1, argv, &result);
    in_call_ = false;
    if (destroy_after_call_) {
      // close() ran inside the callback: async_hooks sees 'after' before 'destroy'.
      destroy_after_call_ = false;
      napi_async_destroy(env_, context_);
      context_ = nullptr;
    }
    if (status == napi_pending_exception) {
      napi_value error;
      if (napi_get_and_clear_last_exception(env_, &error) == napi_ok) napi_fatal_exception(env_, error);
    }
  }

  void Reset() {
    if (context_ != nullptr && in_call_) {
      destroy_after_call_ = true;
    } else if (context_ != nullptr) {
      napi_async_destroy(env_, context_);
      context_ = nullptr;
    }
    data_ = nullptr;
    capacity_ = 0;
    pinned_ = false;
    callback_.Reset();
    array_.Reset();
    resource_.Reset();
  }

 private:
  uint64_t Key(size_t i) const {
    const int32_t* slot = data_ + i * kSlot;
    return (static_cast<uint64_t>(static_cast<uint32_t>(slot[0])) << 32) | static_cast<uint32_t>(slot[1]);
  }

  napi_env env_ = nullptr;
  std::vector<uint64_t> previous_;
  int32_t* data_ = nullptr;
  size_t capacity_ = 0;
  bool pinned_ = false;
  Napi::ObjectReference array_;
  Napi::FunctionReference callback_;
  Napi::ObjectReference resource_;
  napi_async_context context_ = nullptr;
  bool in_call_ = false;
  bool destroy_after_call_ = false;
};

}  // namespace pollglue
