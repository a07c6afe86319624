// epoll behind the waiter-thread loop integration that the kqueue backend uses, so the thread
// hand-off, dispatch-before-rewait and shutdown run on this machine's kernel too.
#include "epoll.h"
#include "poll/poller.h"

void RegisterThreadedEpoll(Napi::Env env, Napi::Object exports) {
  pollglue::ExportBackend<polllinux::EpollKernel, pollglue::UvThreadLoop>(env, exports, "ThreadedEpoll");
}
