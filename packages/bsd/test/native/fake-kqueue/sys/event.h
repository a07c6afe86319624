// A scriptable stand-in for <sys/event.h> on Linux: just enough of the kqueue API for
// @poll/bsd's native/src/kqueue.h to compile against, with a kevent() whose changes can be
// told to fail (../kqueue-record.cc). It lets a test here check what KqueueKernel records
// after a failed change; the real kernels are tested by the macOS and FreeBSD workflows.
#pragma once

#include <cstdint>
#include <ctime>

// POLL_FAKE_NETBSD_KEVENT: NetBSD's shape, where `filter` is unsigned (a uint32_t) and so are
// the EVFILT_ constants; kqueue.h must compile cleanly against both (-Wsign-compare).
#ifdef POLL_FAKE_NETBSD_KEVENT
typedef uint32_t fake_filter_t;
#define EVFILT_READ 0U
#define EVFILT_WRITE 1U
#define EVFILT_USER 8U
#else
typedef short fake_filter_t;
#define EVFILT_READ (-1)
#define EVFILT_WRITE (-2)
#define EVFILT_USER (-11)
#endif

struct kevent {
  uintptr_t ident;
  fake_filter_t filter;
  unsigned short flags;
  unsigned int fflags;
  intptr_t data;
  void* udata;
};

#define EV_ADD 0x0001
#define EV_DELETE 0x0002
#define EV_ENABLE 0x0004
#define EV_DISABLE 0x0008
#define EV_ONESHOT 0x0010
#define EV_CLEAR 0x0020
#define EV_RECEIPT 0x0040
#define EV_DISPATCH 0x0080
#define EV_ERROR 0x4000
#define EV_EOF 0x8000

#define NOTE_TRIGGER 0x01000000

#define EV_SET(kevp, a, b, c, d, e, f) \
  do {                                 \
    struct kevent* ev_ = (kevp);       \
    ev_->ident = (a);                  \
    ev_->filter = (b);                 \
    ev_->flags = (c);                  \
    ev_->fflags = (d);                 \
    ev_->data = (e);                   \
    ev_->udata = (f);                  \
  } while (0)

int kqueue();
int kevent(int kq, const struct kevent* changes, int nchanges, struct kevent* events, int nevents, const timespec* timeout);
