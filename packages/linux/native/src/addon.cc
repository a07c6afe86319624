// @poll/linux: an epoll descriptor (src/epoll.h). On Node it joins the environment's libuv loop
// with one uv_poll_t (the epoll descriptor is itself readable while events are pending); where
// the runtime has no libuv (Bun, Deno) a waiter thread hands batches over through a threadsafe
// function. The waiter thread over libuv (the kqueue backend's loop) is exported too, so that
// its hand-off runs on this kernel in the tests.
#include "epoll.h"
#include "poll/poller.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  return pollglue::ExportBackend<polllinux::EpollKernel, pollglue::UvPollLoop, pollglue::UvThreadLoop,
                                 pollglue::NapiThreadLoop>(env, exports, "Epoll");
}

}  // namespace

NODE_API_MODULE(poll_linux, Init)
