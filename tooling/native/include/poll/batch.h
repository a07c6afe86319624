// The Int32Array and callback a Poller hands its backend: the backend writes a batch of events
// into the array and calls JS once for the whole batch.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "poll/addon.h"

namespace pollglue {

class BatchSink {
 public:
  // (Int32Array, function); false after throwing.
  bool Init(napi_env env, napi_value array, napi_value callback) {
    bool typed = false;
    napi_valuetype type = napi_undefined;
    napi_typedarray_type kind = napi_int8_array;
    size_t length = 0;
    void* data = nullptr;
    if (napi_is_typedarray(env, array, &typed) != napi_ok || napi_typeof(env, callback, &type) != napi_ok) return false;
    if (typed && napi_get_typedarray_info(env, array, &kind, &length, &data, nullptr, nullptr) != napi_ok) return false;
    if (!typed || kind != napi_int32_array || type != napi_function) {
      ThrowType(env, "poll: expected (Int32Array, function)");
      return false;
    }
    if (length < kSlot) {
      ThrowType(env, "poll: the event buffer must hold at least one event");
      return false;
    }
    // Core allows at most kMaxEvents; a direct caller with a huge buffer would otherwise make
    // the reservations below fail or every wait fail with EINVAL (epoll_wait's maxevents is an
    // int).
    if (length / kSlot > kMaxEvents) {
      ThrowRange(env, ("poll: the event buffer holds more than " + std::to_string(kMaxEvents) + " events").c_str());
      return false;
    }
    env_ = env;
    napi_value resource;
    napi_value name;
    // The callback's reference starts at 0, weak until core pins it: an abandoned poller that
    // watches nothing can be collected.
    if (napi_create_reference(env, array, 1, &array_) != napi_ok || napi_create_reference(env, callback, 0, &callback_) != napi_ok ||
        napi_create_object(env, &resource) != napi_ok || napi_create_reference(env, resource, 1, &resource_) != napi_ok ||
        napi_create_string_utf8(env, "poll:Poller", NAPI_AUTO_LENGTH, &name) != napi_ok) {
      Reset();
      return false;
    }
    data_ = static_cast<int32_t*>(data);
    capacity_ = length / kSlot;
    previous_.reserve(capacity_);
    if (napi_async_init(env, resource, name, &context_) != napi_ok) context_ = nullptr;
    return true;
  }

  size_t capacity() const { return capacity_; }

  void Pin(bool on) {
    if (on == pinned_ || callback_ == nullptr) return;
    uint32_t count;
    if ((on ? napi_reference_ref(env_, callback_, &count) : napi_reference_unref(env_, callback_, &count)) == napi_ok) {
      pinned_ = on;
    }
  }

  // Before each batch: find the array's memory again. Whoever holds the array could have
  // transferred (detached) or shrunk its buffer since the last batch; then nothing is written.
  bool Begin(size_t slots) {
    Scope scope(env_);
    napi_value value = nullptr;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    napi_value buffer;
    size_t offset;
    bool detached = true;
    if (!scope.ok() || array_ == nullptr || napi_get_reference_value(env_, array_, &value) != napi_ok || value == nullptr ||
        napi_get_typedarray_info(env_, value, &type, &length, &data, &buffer, &offset) != napi_ok ||
        napi_is_detached_arraybuffer(env_, buffer, &detached) != napi_ok || detached || data == nullptr ||
        length < slots * kSlot) {
      data_ = nullptr;
      return false;
    }
    data_ = static_cast<int32_t*>(data);
    return true;
  }

  void Put(size_t index, int32_t fd, int32_t token, int32_t mask) {
    int32_t* slot = data_ + index * kSlot;
    slot[0] = fd;
    slot[1] = token;
    slot[2] = mask;
  }

  // Whether any registration in this batch's first `count` slots was also in the previous
  // batch of the same wakeup: level-triggered readiness that nobody has drained yet.
  bool RepeatsPrevious(size_t count) {
    bool repeat = false;
    for (size_t i = 0; i < count && !repeat; i++) {
      repeat = std::binary_search(previous_.begin(), previous_.end(), Key(i));
    }
    previous_.clear();
    for (size_t i = 0; i < count; i++) previous_.push_back(Key(i));
    std::sort(previous_.begin(), previous_.end());
    return repeat;
  }

  void ForgetPrevious() { previous_.clear(); }

  // A second kernel event for the descriptor already in slot `index` (kqueue reports each
  // filter on its own).
  void Merge(size_t index, int32_t mask) { data_[index * kSlot + 2] |= mask; }

  // Whether batches reach JS inside a call the runtime makes (a threadsafe function's) rather
  // than from a libuv callback. There the runtime already runs the call in a callback scope
  // (microtasks and process.nextTick run when it returns) and treats an exception left pending
  // as uncaught, so the batch is a plain napi_call_function.
  void DeliverInCall(bool on) { in_call_delivery_ = on; }

  // On the loop thread: one JS call for `count` events. The dispatcher in core catches the
  // user's exceptions; anything else that escapes is reported like any uncaught exception,
  // unless the environment can no longer run JavaScript (a terminating worker), where there is
  // nobody left to report it to.
  void Deliver(size_t count) {
    Scope scope(env_);
    napi_value callback = nullptr;
    napi_value resource = nullptr;
    napi_value argv[1];
    if (!scope.ok() || callback_ == nullptr || napi_get_reference_value(env_, callback_, &callback) != napi_ok ||
        callback == nullptr) {
      return;  // collected: nothing is watched, so nothing is lost
    }
    if (napi_get_reference_value(env_, resource_, &resource) != napi_ok ||
        napi_create_uint32(env_, static_cast<uint32_t>(count), &argv[0]) != napi_ok) {
      return;
    }
    POLL_PROBE(env_, "deliver");
    napi_value result;
    in_call_ = true;
    napi_status status = in_call_delivery_ ? napi_call_function(env_, resource, callback, 1, argv, &result)
                                           : napi_make_callback(env_, context_, resource, callback, 1, argv, &result);
    in_call_ = false;
    if (destroy_after_call_) {
      // close() ran inside the callback: async_hooks sees 'after' before 'destroy'.
      destroy_after_call_ = false;
      napi_async_destroy(env_, context_);
      context_ = nullptr;
    }
    if (status != napi_ok && !in_call_delivery_) {  // in a call, left pending for the runtime
      napi_value error;
      if (napi_get_and_clear_last_exception(env_, &error) == napi_ok && CanRunJs(env_)) napi_fatal_exception(env_, error);
    }
  }

  // `teardown`: the environment is going away and takes its references and async contexts
  // with it; nothing is asked of it (Deno aborts the process, "Cannot create a handle without a
  // HandleScope", when a cleanup hook deletes a reference as it exits on an uncaught exception).
  void Reset(bool teardown = false) {
    if (teardown) {
      context_ = nullptr;
      destroy_after_call_ = false;
    } else if (context_ != nullptr && in_call_) {
      destroy_after_call_ = true;
    } else if (context_ != nullptr) {
      napi_async_destroy(env_, context_);
      context_ = nullptr;
    }
    data_ = nullptr;
    capacity_ = 0;
    pinned_ = false;
    for (napi_ref* ref : {&callback_, &array_, &resource_}) {
      if (*ref != nullptr && !teardown) napi_delete_reference(env_, *ref);
      *ref = nullptr;
    }
  }

 private:
  uint64_t Key(size_t i) const {
    const int32_t* slot = data_ + i * kSlot;
    return (static_cast<uint64_t>(static_cast<uint32_t>(slot[0])) << 32) | static_cast<uint32_t>(slot[1]);
  }

  napi_env env_ = nullptr;
  std::vector<uint64_t> previous_;
  int32_t* data_ = nullptr;
  size_t capacity_ = 0;
  bool pinned_ = false;
  napi_ref array_ = nullptr;
  napi_ref callback_ = nullptr;
  napi_ref resource_ = nullptr;
  napi_async_context context_ = nullptr;
  bool in_call_ = false;
  bool destroy_after_call_ = false;
  bool in_call_delivery_ = false;
};

}  // namespace pollglue
