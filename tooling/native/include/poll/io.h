// Reading and writing a descriptor for the streams in core: one system call each, EINTR
// retried, and the result returned as a number (bytes, or -errno), never thrown, so that the
// EAGAIN that ends every drain costs no exception. The bytes go straight into (or out of) the
// caller's Buffer: nothing is allocated here. On Node-API's C functions, as addon.h explains.
#pragma once

#include <napi.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "poll/addon.h"

namespace pollglue {

// (fd, buffer, offset, length) with the range inside the buffer; false after throwing.
inline bool IoArgs(napi_env env, napi_callback_info info, int* fd, uint8_t** data, size_t* length) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t ints[3];
  bool typed = false;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  if (argc < 4 || napi_is_typedarray(env, argv[1], &typed) != napi_ok || !typed ||
      napi_get_value_int32(env, argv[0], &ints[0]) != napi_ok || napi_get_value_int32(env, argv[2], &ints[1]) != napi_ok ||
      napi_get_value_int32(env, argv[3], &ints[2]) != napi_ok) {
    ThrowType(env, "poll: expected (fd, Uint8Array, offset, length)");
    return false;
  }
  napi_typedarray_type type;
  size_t size = 0;
  void* base = nullptr;
  if (napi_get_typedarray_info(env, argv[1], &type, &size, &base, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array || ints[1] < 0 || ints[2] < 0 || static_cast<size_t>(ints[1]) + static_cast<size_t>(ints[2]) > size) {
    ThrowRange(env, "poll: offset and length must lie inside the buffer");
    return false;
  }
  *fd = ints[0];
  *data = static_cast<uint8_t*>(base) + ints[1];
  *length = static_cast<size_t>(ints[2]);
  return true;
}

inline napi_value Number(napi_env env, double value) {
  napi_value result = nullptr;
  napi_create_double(env, value, &result);
  return result;
}

// One read(2) or write(2) (`op`), EINTR retried: bytes, or -errno.
template <class Op>
napi_value IoCall(napi_env env, napi_callback_info info, Op op) {
  int fd;
  uint8_t* data;
  size_t length;
  if (!IoArgs(env, info, &fd, &data, &length)) return nullptr;
  ssize_t n;
  do {
    n = op(fd, data, length);
  } while (n < 0 && errno == EINTR);
  return Number(env, n < 0 ? -errno : static_cast<double>(n));
}

inline napi_value IoRead(napi_env env, napi_callback_info info) {
  POLL_PROBE(env, "io.read");
  return IoCall(env, info, [](int fd, uint8_t* data, size_t length) { return read(fd, data, length); });
}

inline napi_value IoWrite(napi_env env, napi_callback_info info) {
  POLL_PROBE(env, "io.write");
  return IoCall(env, info, [](int fd, uint8_t* data, size_t length) { return write(fd, data, length); });
}

// (fd, on): sets or clears O_NONBLOCK on the open file description; returns whether it was set
// before (1 or 0), or -errno. Node has no fcntl of its own.
inline napi_value IoSetNonblock(napi_env env, napi_callback_info info) {
  POLL_PROBE(env, "io.setNonblock");
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  bool on;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    ThrowType(env, "poll: expected (fd, boolean)");
    return nullptr;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Number(env, -errno);
  int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) return Number(env, -errno);
  return Number(env, (flags & O_NONBLOCK) ? 1 : 0);
}

// (fd) alone; false after throwing.
inline bool FdArg(napi_env env, napi_callback_info info, int32_t* fd) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  if (napi_get_value_int32(env, argv[0], fd) != napi_ok) {
    ThrowType(env, "poll: expected (fd)");
    return false;
  }
  return true;
}

// (fd): close(2), 0 or -errno, for runtimes whose node:fs cannot close a descriptor it did not
// open itself (Deno). Not retried on EINTR: on Linux the descriptor is gone even then.
inline napi_value IoClose(napi_env env, napi_callback_info info) {
  POLL_PROBE(env, "io.close");
  int32_t fd;
  if (!FdArg(env, info, &fd)) return nullptr;
  return Number(env, close(fd) < 0 ? -errno : 0);
}

// (fd): shutdown(2) of the sending side, 0 or -errno: a duplex stream's end() on a socket, so
// that its peer reads the end of file while this side still reads, as net.Socket's end() does.
// Anything else answers ENOTSOCK, which the stream takes as nothing to do.
inline napi_value IoShutdown(napi_env env, napi_callback_info info) {
  POLL_PROBE(env, "io.shutdown");
  int32_t fd;
  if (!FdArg(env, info, &fd)) return nullptr;
  return Number(env, shutdown(fd, SHUT_WR) < 0 ? -errno : 0);
}

// strerror() for the errno a read or write returned, for the PollError's message.
inline napi_value IoStrerror(napi_env env, napi_callback_info info) {
  POLL_PROBE(env, "io.strerror");
  size_t argc = 1;
  napi_value argv[1];
  int32_t err = 0;
  napi_value result = nullptr;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  napi_get_value_int32(env, argv[0], &err);
  napi_create_string_utf8(env, std::strerror(err < 0 ? -err : err), NAPI_AUTO_LENGTH, &result);
  return result;
}

// At module set-up.
inline Napi::Object IoObject(Napi::Env env) {
  Napi::Object io = Napi::Object::New(env);
  const struct {
    const char* name;
    napi_callback fn;
  } functions[] = {{"read", IoRead}, {"write", IoWrite}, {"setNonblock", IoSetNonblock}, {"close", IoClose}, {"shutdown", IoShutdown}, {"strerror", IoStrerror}};
  for (const auto& f : functions) {
    napi_value fn;
    if (napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &fn) == napi_ok) io.Set(f.name, Napi::Value(env, fn));
  }
  return io;
}

}  // namespace pollglue
