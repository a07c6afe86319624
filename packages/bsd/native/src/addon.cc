// @poll/bsd: a kqueue descriptor (src/kqueue.h) joined to the calling environment's loop by a
// waiter thread (pollglue::ThreadLoop).
#include "kqueue.h"
#include "poll/poller.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using Kqueue = pollglue::PollerWrap<pollbsd::KqueueKernel, pollglue::ThreadLoop>;
  exports.Set("Kqueue", Kqueue::Define(env, "Kqueue"));
  exports.Set("bits", pollglue::BitsObject(env));
  exports.Set("supported", Napi::Number::New(env, pollbsd::KqueueKernel::kSupported));
  return exports;
}

}  // namespace

NODE_API_MODULE(poll_bsd, Init)
