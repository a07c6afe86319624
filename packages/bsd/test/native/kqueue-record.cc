// KqueueKernel (native/src/kqueue.h) against the fake kevent() of fake-kqueue/sys/event.h:
// changes can be made to fail, and the test asks what the "kernel" holds afterwards. Built and
// loaded by ../kqueue-record.test.ts on Linux. What it checks: after any failed change,
// remove() leaves no filter behind.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <napi.h>

#include "kqueue.h"

namespace {

struct Held {
  bool enabled;
  void* udata;
};
std::map<std::pair<uintptr_t, fake_filter_t>, Held> held;  // (fd, filter) -> the fake kernel's knote
struct Failure {
  unsigned short op;  // EV_ADD or EV_DELETE
  fake_filter_t filter;
  int err;
  int times;
};
std::vector<Failure> failures;

int Apply(const struct kevent& c) {
  auto key = std::make_pair(c.ident, c.filter);
  unsigned short op = (c.flags & EV_DELETE) ? EV_DELETE : (c.flags & EV_ADD) ? EV_ADD : 0;
  for (Failure& f : failures) {
    if (f.times > 0 && op == f.op && c.filter == f.filter) {
      f.times--;
      return f.err;
    }
  }
  auto it = held.find(key);
  if (c.flags & EV_DELETE) {
    if (it == held.end()) return ENOENT;
    held.erase(it);
    return 0;
  }
  if (c.flags & EV_ADD) {
    held[key] = Held{(c.flags & EV_DISABLE) == 0, c.udata};
    return 0;
  }
  if (it == held.end()) return ENOENT;
  if (c.flags & EV_DISABLE) it->second.enabled = false;
  if (c.flags & EV_ENABLE) it->second.enabled = true;
  return 0;
}

std::optional<pollbsd::KqueueKernel> kernel;

Napi::Value Reset(const Napi::CallbackInfo& info) {
  held.clear();
  failures.clear();
  const char* failed = nullptr;
  int fd = pollbsd::KqueueKernel::Create(&failed);
  kernel.emplace(fd, 16);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value Call(const Napi::CallbackInfo& info) {
  std::string op = info[0].As<Napi::String>();
  int fd = info[1].As<Napi::Number>().Int32Value();
  int32_t mask = info.Length() > 2 ? info[2].As<Napi::Number>().Int32Value() : 0;
  int err = op == "add" ? kernel->Add(fd, mask, 7) : op == "modify" ? kernel->Modify(fd, mask, 8) : kernel->Remove(fd);
  return Napi::Number::New(info.Env(), err);
}

// failNext('add' | 'delete', 'read' | 'write', errno, times): the next `times` such changes fail
Napi::Value FailNext(const Napi::CallbackInfo& info) {
  std::string op = info[0].As<Napi::String>();
  std::string filter = info[1].As<Napi::String>();
  failures.push_back(Failure{static_cast<unsigned short>(op == "add" ? EV_ADD : EV_DELETE),
                             static_cast<fake_filter_t>(filter == "read" ? EVFILT_READ : EVFILT_WRITE),
                             info[2].As<Napi::Number>().Int32Value(), info[3].As<Napi::Number>().Int32Value()});
  return info.Env().Undefined();
}

// The filters the fake kernel holds for `fd`: 1 read, 2 write.
Napi::Value HeldBits(const Napi::CallbackInfo& info) {
  uintptr_t fd = static_cast<uintptr_t>(info[0].As<Napi::Number>().Int32Value());
  int bits = (held.count({fd, EVFILT_READ}) ? 1 : 0) | (held.count({fd, EVFILT_WRITE}) ? 2 : 0);
  return Napi::Number::New(info.Env(), bits);
}

}  // namespace

int kqueue() { return open("/dev/null", O_RDONLY); }

int kevent(int, const struct kevent* changes, int nchanges, struct kevent* events, int nevents, const timespec*) {
  int out = 0;
  for (int i = 0; i < nchanges; i++) {
    int err = Apply(changes[i]);
    if ((changes[i].flags & EV_RECEIPT) && out < nevents) {
      events[out] = changes[i];
      events[out].flags = EV_ERROR;
      events[out].data = err;
      out++;
    } else if (err != 0) {
      errno = err;
      return -1;
    }
  }
  return out;
}

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("reset", Napi::Function::New(env, Reset));
  exports.Set("call", Napi::Function::New(env, Call));
  exports.Set("failNext", Napi::Function::New(env, FailNext));
  exports.Set("held", Napi::Function::New(env, HeldBits));
  return exports;
}

}  // namespace

NODE_API_MODULE(poll_kqueue_record, Init)
