// @poll/linux: an epoll descriptor (src/epoll.h) joined to the calling environment's loop with
// one uv_poll_t: the epoll descriptor is itself readable while events are pending.
#include "epoll.h"
#include "poll/poller.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using Epoll = pollglue::PollerWrap<polllinux::EpollKernel, pollglue::UvPollLoop>;
  exports.Set("Epoll", Epoll::Define(env, "Epoll"));
  exports.Set("bits", pollglue::BitsObject(env));
  exports.Set("supported", Napi::Number::New(env, polllinux::EpollKernel::kSupported));
  return exports;
}

}  // namespace

NODE_API_MODULE(poll_linux, Init)
