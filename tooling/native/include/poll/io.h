// Reading and writing a descriptor for the streams in core: one system call each, EINTR
// retried, and the result returned as a number (bytes, or -errno), never thrown, so that the
// EAGAIN that ends every drain costs no exception. The bytes go straight into (or out of) the
// caller's Buffer: nothing is allocated here.
#pragma once

#include <napi.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace pollglue {

// (fd, buffer, offset, length) with the range inside the buffer; false after throwing.
inline bool IoArgs(const Napi::CallbackInfo& info, int* fd, uint8_t** data, size_t* length) {
  Napi::Env env = info.Env();
  int32_t ints[3];
  if (info.Length() < 4 || !info[1].IsTypedArray() || napi_get_value_int32(env, info[0], &ints[0]) != napi_ok ||
      napi_get_value_int32(env, info[2], &ints[1]) != napi_ok || napi_get_value_int32(env, info[3], &ints[2]) != napi_ok) {
    Napi::TypeError::New(env, "poll: expected (fd, Uint8Array, offset, length)").ThrowAsJavaScriptException();
    return false;
  }
  Napi::TypedArray array = info[1].As<Napi::TypedArray>();
  size_t size = array.ByteLength();
  if (array.TypedArrayType() != napi_uint8_array || ints[1] < 0 || ints[2] < 0 ||
      static_cast<size_t>(ints[1]) + static_cast<size_t>(ints[2]) > size) {
    Napi::RangeError::New(env, "poll: offset and length must lie inside the buffer").ThrowAsJavaScriptException();
    return false;
  }
  *fd = ints[0];
  *data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset() + ints[1];
  *length = static_cast<size_t>(ints[2]);
  return true;
}

// One read(2) or write(2) (`op`), EINTR retried: bytes, or -errno.
template <class Op>
Napi::Value IoCall(const Napi::CallbackInfo& info, Op op) {
  int fd;
  uint8_t* data;
  size_t length;
  if (!IoArgs(info, &fd, &data, &length)) return info.Env().Undefined();
  ssize_t n;
  do {
    n = op(fd, data, length);
  } while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

inline Napi::Value IoRead(const Napi::CallbackInfo& info) {
  return IoCall(info, [](int fd, uint8_t* data, size_t length) { return read(fd, data, length); });
}

inline Napi::Value IoWrite(const Napi::CallbackInfo& info) {
  return IoCall(info, [](int fd, uint8_t* data, size_t length) { return write(fd, data, length); });
}

// (fd, on): sets or clears O_NONBLOCK on the open file description; returns whether it was set
// before (1 or 0), or -errno. Node has no fcntl of its own.
inline Napi::Value IoSetNonblock(const Napi::CallbackInfo& info) {
  int32_t fd;
  if (napi_get_value_int32(info.Env(), info[0], &fd) != napi_ok || !info[1].IsBoolean()) {
    Napi::TypeError::New(info.Env(), "poll: expected (fd, boolean)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  bool on = info[1].As<Napi::Boolean>().Value();
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return Napi::Number::New(info.Env(), -errno);
  int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) < 0) return Napi::Number::New(info.Env(), -errno);
  return Napi::Number::New(info.Env(), (flags & O_NONBLOCK) ? 1 : 0);
}

// strerror() for the errno a read or write returned, for the PollError's message.
inline Napi::Value IoStrerror(const Napi::CallbackInfo& info) {
  int32_t err = 0;
  napi_get_value_int32(info.Env(), info[0], &err);
  return Napi::String::New(info.Env(), std::strerror(err < 0 ? -err : err));
}

inline Napi::Object IoObject(Napi::Env env) {
  Napi::Object io = Napi::Object::New(env);
  io.Set("read", Napi::Function::New(env, IoRead, "read"));
  io.Set("write", Napi::Function::New(env, IoWrite, "write"));
  io.Set("setNonblock", Napi::Function::New(env, IoSetNonblock, "setNonblock"));
  io.Set("strerror", Napi::Function::New(env, IoStrerror, "strerror"));
  return io;
}

}  // namespace pollglue
