/* kevent() as macOS answers it for the devices its kqueue refuses: EV_ADD of EVFILT_READ or
 * EVFILT_WRITE on a chosen descriptor comes back as EV_ERROR with EINVAL (its receipt, with
 * EV_RECEIPT; else the call fails with EINVAL). Linked into build/poll_bsd_refusing.node with
 * -Wl,--wrap=kevent, so that only the addon's own calls pass through here.
 *
 * Which descriptors: the environment variable POLL_KQUEUE_REFUSE, read at every change:
 *   "all"       every descriptor
 *   "tty"       every terminal (isatty), as a serial port on macOS may be
 *   "3,7,12"    those numbers
 * Unset or empty: nothing is refused. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/event.h>
#include <unistd.h>

int __real_kevent(int kq, const struct kevent* changes, int nchanges, struct kevent* events, int nevents,
                  const struct timespec* timeout);

static int refused(const struct kevent* c) {
  if (!(c->flags & EV_ADD) || (c->filter != EVFILT_READ && c->filter != EVFILT_WRITE)) return 0;
  const char* rule = getenv("POLL_KQUEUE_REFUSE");
  if (rule == NULL || *rule == '\0') return 0;
  int fd = (int)c->ident;
  if (fcntl(fd, F_GETFD) < 0) return 0; /* a closed descriptor is the kernel's EBADF */
  if (strcmp(rule, "all") == 0) return 1;
  if (strcmp(rule, "tty") == 0) return isatty(fd);
  for (const char* p = rule; *p != '\0';) {
    char* end;
    long n = strtol(p, &end, 10);
    if (end == p) return 0;
    if (n == fd) return 1;
    p = *end == ',' ? end + 1 : end;
  }
  return 0;
}

int __wrap_kevent(int kq, const struct kevent* changes, int nchanges, struct kevent* events, int nevents,
                  const struct timespec* timeout) {
  int any = 0;
  for (int i = 0; i < nchanges; i++) any |= refused(&changes[i]);
  if (!any) return __real_kevent(kq, changes, nchanges, events, nevents, timeout);
  /* The changes kqueue takes go through; each refused one gets its receipt after theirs. */
  struct kevent passed[16], receipts[16];
  int np = 0, nr = 0;
  if (nchanges > 16) {
    errno = E2BIG;
    return -1;
  }
  for (int i = 0; i < nchanges; i++) {
    if (!refused(&changes[i])) {
      passed[np++] = changes[i];
      continue;
    }
    if (!(changes[i].flags & EV_RECEIPT)) {
      errno = EINVAL;
      return -1;
    }
    receipts[nr] = changes[i];
    receipts[nr].flags = EV_ERROR;
    receipts[nr].data = EINVAL;
    nr++;
  }
  int got = 0;
  if (np > 0) {
    got = __real_kevent(kq, passed, np, events, nevents, timeout);
    if (got < 0) return got;
  }
  for (int i = 0; i < nr && got < nevents; i++) events[got++] = receipts[i];
  return got;
}
