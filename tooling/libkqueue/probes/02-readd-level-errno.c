/* EV_ADD|EV_ENABLE on an existing level-triggered (no EV_CLEAR) EVFILT_READ/EVFILT_WRITE knote of
 * a pipe or socket: what @poll/bsd's modify() and rearm() send when the mode is unchanged.
 * FreeBSD/XNU kqueue_register: the knote is found, udata/sfflags/sdata are updated, the change
 * succeeds (receipt data 0, or kevent() returns 0 without EV_RECEIPT).
 * libkqueue: evfilt_{read,write}_knote_modify() return -1 without setting errno, so the change
 * "fails" with whatever errno the thread had before (0, or EAGAIN from a non-blocking read) and
 * udata is left as it was. */
#include "common.h"
#include <fcntl.h>
#include <sys/socket.h>
int main(void) {
  int kq = kqueue(), p[2], s[2];
  pipe(p); socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  char c;
  int bad = 0;

  printf("[a] pipe read end, EVFILT_READ level, udata 1; then re-add with udata 2, errno 0 before:\n");
  errno = 0;
  change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE, 1);
  errno = 0;
  bad |= change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE, 2) != 0;
  write(p[1], "a", 1);
  struct kevent ev; struct timespec t = {0, 100000000};
  int n = kevent(kq, NULL, 0, &ev, 1, &t);
  printf("  event udata=%ld (BSD: 2)\n", n > 0 ? (long)(intptr_t)ev.udata : -1L);
  bad |= !(n == 1 && (intptr_t)ev.udata == 2);
  read(p[0], &c, 1);

  printf("[b] same after a non-blocking read() that failed with EAGAIN (as Node's thread does):\n");
  ssize_t r = read(p[0], &c, 1);
  printf("  read -> %zd errno=%d (%s)\n", r, errno, strerror(errno));
  int err = change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE, 3);
  printf("  backend sees err=%d (%s) (BSD: 0)\n", err, strerror(err));
  bad |= err != 0;

  printf("[c] without EV_RECEIPT (plain kevent, no eventlist):\n");
  errno = 0;
  bad |= change_plain(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE, 4) != 0;

  printf("[d] socket, EVFILT_WRITE level, re-add:\n");
  change(kq, s[0], EVFILT_WRITE, EV_ADD | EV_ENABLE, 1);
  errno = 0;
  bad |= change(kq, s[0], EVFILT_WRITE, EV_ADD | EV_ENABLE, 2) != 0;
  collect(kq, 50, "expect WRITE udata=2 (and READ pipe none)");

  printf("RESULT: %s\n", bad ? "DEVIATES from BSD" : "as on BSD");
  return 0;
}
