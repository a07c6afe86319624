// Which loops an environment may use, decided in this one place from what the runtime is.
//
// Node has libuv, and its loops (UvPollLoop, UvThreadLoop) are the fastest there. Bun and Deno
// load Node-API addons but have no libuv to join: Bun exports every uv_* as a stub that aborts
// the process ("unsupported uv function: uv_poll_init"), Deno exports a few of them and not
// uv_backend_fd. Both run threadsafe functions from a plain thread, so there the waiter thread
// hands its batches over through one (NapiThreadLoop). A runtime is taken to have libuv when it
// is neither of those two and every libuv function the loops use is found in the process.
#pragma once

#include <node_api.h>

#include "poll/libuv.h"

namespace pollglue {

inline bool HasGlobal(napi_env env, const char* name) {
  napi_value global;
  bool has = false;
  return napi_get_global(env, &global) == napi_ok && napi_has_named_property(env, global, name, &has) == napi_ok && has;
}

// At module set-up, once per environment.
inline bool RuntimeHasLibuv(napi_env env) {
  return Uv() != nullptr && !HasGlobal(env, "Bun") && !HasGlobal(env, "Deno");
}

}  // namespace pollglue
