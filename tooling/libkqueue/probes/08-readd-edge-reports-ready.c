/* modify() of an edge watch to the same edge interest (new token): EV_ADD|EV_ENABLE|EV_CLEAR on
 * an existing EV_CLEAR EVFILT_READ knote whose data was reported once and is still unread.
 * FreeBSD kqueue_register(): after updating udata/sfflags/sdata it calls f_event(kn, 0) and
 * activates the knote if the socket is readable -> one more event, with the new udata.
 * XNU kevent_register(): f_touch() (filt_sortouch etc.) returns whether the knote is active and
 * knote_apply_touch() activates it -> the same.
 * libkqueue: the knote is updated in place, epoll (EPOLLET) sees no new edge -> nothing. */
#include "common.h"
#include <sys/socket.h>
int main(void) {
  int kq = kqueue(), s[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  errno = 0;
  change(kq, s[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR, 1);
  write(s[1], "x", 1);
  collect(kq, 50, "READ udata 1");
  collect(kq, 50, "nothing: edge, no new data");
  printf("re-add, same mode, udata 2:\n");
  change(kq, s[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR, 2);
  struct kevent ev; struct timespec t = {0, 50000000};
  int n = kevent(kq, NULL, 0, &ev, 1, &t);
  printf("  wait 50ms -> %d event(s)%s (BSD: 1, udata 2)\n", n, n > 0 ? (ev.udata == (void *)2 ? ", udata 2" : ", other udata") : "");
  int more = collect(kq, 50, "nothing more");
  printf("RESULT: %s\n", n == 1 && ev.udata == (void *)2 && more == 0 ? "as on BSD" : "DEVIATES from BSD");
  return 0;
}
