// libuv, found at run time. An addon that names a uv_* function cannot even load where the
// runtime has no libuv (Deno: dlopen fails on the first undefined symbol), and on a runtime
// whose uv_* are stubs (Bun exports every one as an abort) it must never call one. So no uv_*
// symbol is linked: Uv() looks up the few the libuv loops use, once per process, with
// dlsym(RTLD_DEFAULT) in the executable and what it loaded, and runtime.h decides whether they
// may be used. <uv.h> is included for its types only.
#pragma once

#include <dlfcn.h>
#include <node_api.h>
#include <uv.h>

namespace pollglue {

struct UvApi {
  decltype(&uv_poll_init) poll_init;
  decltype(&uv_poll_start) poll_start;
  decltype(&uv_close) close;
  decltype(&uv_ref) ref;
  decltype(&uv_unref) unref;
  decltype(&uv_backend_fd) backend_fd;
  decltype(&uv_async_init) async_init;
  decltype(&uv_async_send) async_send;
  // Node-API's own door to libuv, looked up too: a runtime without libuv need not have it.
  decltype(&napi_get_uv_event_loop) get_loop;
};

namespace detail {

template <class Fn>
bool Find(Fn* fn, const char* name) {
  *fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
  return *fn != nullptr;
}

inline const UvApi* ResolveUv() {
  static UvApi api;
  bool all = Find(&api.poll_init, "uv_poll_init") && Find(&api.poll_start, "uv_poll_start") &&
             Find(&api.close, "uv_close") && Find(&api.ref, "uv_ref") && Find(&api.unref, "uv_unref") &&
             Find(&api.backend_fd, "uv_backend_fd") && Find(&api.async_init, "uv_async_init") &&
             Find(&api.async_send, "uv_async_send") && Find(&api.get_loop, "napi_get_uv_event_loop");
  return all ? &api : nullptr;
}

}  // namespace detail

// Every function the libuv loops need, or nullptr where any is missing.
inline const UvApi* Uv() {
  static const UvApi* api = detail::ResolveUv();
  return api;
}

// This environment's loop (never uv_default_loop(): each worker has its own), or nullptr.
inline uv_loop_t* UvLoop(napi_env env) {
  uv_loop_t* loop = nullptr;
  if (Uv() == nullptr || Uv()->get_loop(env, &loop) != napi_ok) return nullptr;
  return loop;
}

}  // namespace pollglue
