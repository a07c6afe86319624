// epoll behind the waiter-thread loop integration that the kqueue backend uses, so the thread
// hand-off, dispatch-before-rewait and shutdown run on this machine's kernel too.
#include "epoll.h"
#include "poll/poller.h"

void RegisterThreadedEpoll(Napi::Env env, Napi::Object exports) {
  using ThreadedEpoll = pollglue::PollerWrap<polllinux::EpollKernel, pollglue::ThreadLoop>;
  exports.Set("ThreadedEpoll", ThreadedEpoll::Define(env, "ThreadedEpoll"));
  exports.Set("bits", pollglue::BitsObject(env));
  exports.Set("threadedSupported", Napi::Number::New(env, polllinux::EpollKernel::kSupported));
}
