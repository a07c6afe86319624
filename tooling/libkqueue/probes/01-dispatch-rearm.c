/* A oneshot watch as @poll/bsd makes it: EV_ADD|EV_ENABLE|EV_DISPATCH, one event, then
 * rearm() = the same EV_ADD|EV_ENABLE|EV_DISPATCH again (new udata). On FreeBSD/XNU the
 * re-add re-enables the disabled knote, updates udata, and the still-readable pipe fires again.
 * core gives every rearm() a new token (udata) and drops events that carry an old one, so an
 * event with the old udata is as good as no event: the oneshot and events() tests time out. */
#include "common.h"
int main(void) {
  int kq = kqueue(), p[2]; pipe(p);
  printf("add oneshot (udata 1):\n");
  change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_DISPATCH, 1);
  write(p[1], "a", 1);
  collect(kq, 100, "expect 1 event udata=1");
  collect(kq, 100, "disabled by EV_DISPATCH: expect 0");
  printf("rearm: EV_ADD|EV_ENABLE|EV_DISPATCH (udata 2):\n");
  int err = change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_DISPATCH, 2);
  printf("  backend sees err=%d\n", err);
  struct kevent ev; struct timespec t = {0, 100000000};
  int n = kevent(kq, NULL, 0, &ev, 1, &t);
  printf("  wait 100ms -> %d event(s), udata=%ld (BSD: 1 event, udata=2)\n", n, n > 0 ? (long)(intptr_t)ev.udata : -1L);
  int more = collect(kq, 100, "expect 0");
  printf("RESULT: %s\n", n == 1 && (intptr_t)ev.udata == 2 && more == 0 ? "as on BSD" : "DEVIATES from BSD");
  return 0;
}
