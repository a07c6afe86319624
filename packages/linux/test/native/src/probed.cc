// @poll/linux's addon built with the teardown probe (teardown-probe.h): the same sources, so
// that tests can make a worker's terminate() land inside each native entry point, on each loop.
// Plus control(): the way an entry point read its argument before the native side moved to
// Node-API's C functions (node-addon-api's coercion), to show that the probe's state is one
// where that aborts the process.
#include "teardown-probe.h"  // first: poll's headers call into it

#include "epoll.h"
#include "poll/poller.h"

namespace {

Napi::Value ArmProbe(const Napi::CallbackInfo& info) {
  pollprobe::Arm(info[0].As<Napi::String>().Utf8Value().c_str(), info[1].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value Control(const Napi::CallbackInfo& info) {
  POLL_PROBE(info.Env(), "control");
  return Napi::Boolean::New(info.Env(), info[0].ToBoolean());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pollglue::ExportBackend<polllinux::EpollKernel, pollglue::UvPollLoop, pollglue::UvThreadLoop, pollglue::NapiThreadLoop>(
      env, exports, "Epoll");
  exports.Set("armProbe", Napi::Function::New(env, ArmProbe, "armProbe"));
  exports.Set("control", Napi::Function::New(env, Control, "control"));
  return exports;
}

}  // namespace

NODE_API_MODULE(poll_probed, Init)
