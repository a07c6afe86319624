// @poll/bsd: a kqueue descriptor (src/kqueue.h) joined to the calling environment's loop by a
// waiter thread (pollglue::ThreadLoop).
#include "kqueue.h"
#include "poll/poller.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return pollglue::ExportBackend<pollbsd::KqueueKernel, pollglue::ThreadLoop>(env, exports, "Kqueue");
}

}  // namespace

NODE_API_MODULE(poll_bsd, Init)
