// @poll/linux: an epoll descriptor (src/epoll.h) joined to the calling environment's loop with
// one uv_poll_t: the epoll descriptor is itself readable while events are pending.
#include "epoll.h"
#include "poll/poller.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return pollglue::ExportBackend<polllinux::EpollKernel, pollglue::UvPollLoop>(env, exports, "Epoll");
}

}  // namespace

NODE_API_MODULE(poll_linux, Init)
