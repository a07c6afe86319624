// @poll/bsd: a kqueue descriptor (src/kqueue.h) joined to the runtime's loop by a waiter thread:
// through libuv's async handle on Node, through a threadsafe function where the runtime has no
// libuv (Bun, Deno).
// select(2) past FD_SETSIZE, for the descriptors kqueue refuses (select.h), as libuv's build
// has it on macOS; before any system header.
#define _DARWIN_UNLIMITED_SELECT 1
#include "kqueue.h"
#include "poll/poller.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return pollglue::ExportBackend<pollbsd::KqueueKernel, pollglue::UvThreadLoop, pollglue::NapiThreadLoop>(env, exports,
                                                                                                         "Kqueue");
}

}  // namespace

NODE_API_MODULE(poll_bsd, Init)
