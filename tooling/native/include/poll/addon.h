// What every native backend shares where it faces JavaScript: core's bit set, errors in the
// shape core turns into a PollError, and reading arguments.
//
// Everything an entry point can reach is written on Node-API's C functions with each status
// checked, not on node-addon-api's wrappers: once a worker is terminating (or a runtime is
// tearing an environment down), calls that may run JavaScript fail, node-addon-api turns such a
// failure into an exception, and creating that exception can fail too, which it treats as fatal
// (seen as "FATAL ERROR: Error::New napi_get_last_error_info" from a poller's pin() in a worker
// terminated mid-microtask). Here a failed call ends the entry point quietly: nobody is left to
// catch an error. node-addon-api stays for module set-up, where the environment is alive.
#pragma once

#include <napi.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

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
// core's MAX_EVENTS (packages/core/src/types.ts), which checks this copy (exported as maxEvents).
constexpr size_t kMaxEvents = 65536;

// At module set-up only.
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

// A handle scope that may fail to open (then nothing is made in it). A runtime may hand out a
// null scope that is nonetheless open (Deno does), so the status says whether it opened.
class Scope {
 public:
  explicit Scope(napi_env env) : env_(env), ok_(napi_open_handle_scope(env, &scope_) == napi_ok) {}
  ~Scope() {
    if (ok_) napi_close_handle_scope(env_, scope_);
  }
  bool ok() const { return ok_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  napi_env env_;
  napi_handle_scope scope_ = nullptr;
  bool ok_;
};

// Whether this environment can still run JavaScript. Setting a property is a call that Node
// refuses (napi_pending_exception) once a worker is terminating; a runtime that never refuses
// it answers true, and the callers then fail at the real call instead.
inline bool CanRunJs(napi_env env) {
  Scope scope(env);
  napi_value object;
  napi_value value;
  return scope.ok() && napi_create_object(env, &object) == napi_ok && napi_get_boolean(env, true, &value) == napi_ok &&
         napi_set_named_property(env, object, "poll", value) == napi_ok;
}

inline bool SetString(napi_env env, napi_value object, const char* key, const char* text) {
  napi_value value;
  return napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value) == napi_ok &&
         napi_set_named_property(env, object, key, value) == napi_ok;
}

inline bool SetInt(napi_env env, napi_value object, const char* key, int32_t number) {
  napi_value value;
  return napi_create_int32(env, number, &value) == napi_ok && napi_set_named_property(env, object, key, value) == napi_ok;
}

enum class ErrorKind { kError, kType, kRange };

// Makes an Error (TypeError, RangeError) with `message` and, when given, `code`; nullptr if the
// environment cannot make one any more.
inline napi_value MakeError(napi_env env, ErrorKind kind, const char* message, const char* code = nullptr) {
  napi_value text;
  napi_value error;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) != napi_ok) return nullptr;
  napi_status status = kind == ErrorKind::kType    ? napi_create_type_error(env, nullptr, text, &error)
                       : kind == ErrorKind::kRange ? napi_create_range_error(env, nullptr, text, &error)
                                                   : napi_create_error(env, nullptr, text, &error);
  if (status != napi_ok) return nullptr;
  if (code != nullptr && !SetString(env, error, "code", code)) return nullptr;
  return error;
}

// Thrown as { message, errno, syscall, fd }; core's toPollError gives it Node's shape and code.
// `detail`, when the kernel's errno alone would not tell the user why, replaces strerror().
inline void ThrowErrno(napi_env env, int err, const char* syscall, int fd = -1, const char* detail = nullptr) {
  napi_value error = MakeError(env, ErrorKind::kError, detail != nullptr ? detail : std::strerror(err));
  if (error == nullptr || !SetInt(env, error, "errno", err) || !SetString(env, error, "syscall", syscall)) return;
  if (fd >= 0 && !SetInt(env, error, "fd", fd)) return;
  napi_throw(env, error);
}

inline void ThrowType(napi_env env, const char* message) {
  if (napi_value error = MakeError(env, ErrorKind::kType, message, "ERR_INVALID_ARG_TYPE")) napi_throw(env, error);
}

inline void ThrowRange(napi_env env, const char* message) {
  if (napi_value error = MakeError(env, ErrorKind::kRange, message, "ERR_OUT_OF_RANGE")) napi_throw(env, error);
}

// Core validates arguments first; this only keeps direct callers of the binding from crashing it.
inline bool Int32Args(napi_env env, const napi_value* argv, size_t count, int32_t* out) {
  for (size_t i = 0; i < count; i++) {
    // One call per argument: napi_get_value_int32 itself refuses what is not a number.
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) {
      ThrowType(env, "poll: expected integer arguments");
      return false;
    }
  }
  if (out[0] < 0) {
    ThrowErrno(env, EBADF, "poll", out[0]);
    return false;
  }
  return true;
}

// The name Node gives an errno (util.getSystemErrorName), for the few a kernel wait can fail
// with; nullptr for any other.
inline const char* ErrnoName(int err) {
  switch (err) {
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case ESRCH: return "ESRCH";
    case ENOENT: return "ENOENT";
    default: return nullptr;
  }
}

}  // namespace pollglue

// Test builds (@poll/linux's probed addon, whose test/native/src/probed.cc includes
// teardown-probe.h first) stop at named entry points until a worker's terminate() has reached
// them; shipped builds compile the probe away.
#ifdef POLL_TEARDOWN_PROBE
#define POLL_PROBE(env, where) ::pollprobe::At((env), (where))
#else
#define POLL_PROBE(env, where) ((void)(env))
#endif
