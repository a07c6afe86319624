/* Two knotes on one descriptor: EVFILT_READ with EV_CLEAR (edge) and EVFILT_WRITE.
 * On FreeBSD/XNU every knote is separate (its own kn_status / activation): adding, modifying,
 * disabling or deleting the EVFILT_WRITE knote never re-reports the EVFILT_READ knote, which
 * fired once and was cleared (EV_CLEAR), and nothing new has arrived since.
 * libkqueue keeps one epoll registration per fd for both filters, with EPOLLET taken from the
 * read knote; each change of the write knote is an EPOLL_CTL_MOD of that registration, which
 * makes epoll report the fd's current readiness again, so the cleared read knote fires again. */
#include "common.h"
#include <sys/socket.h>
static int count_filter(int kq, int filter, int ms, const char *what) {
  struct kevent ev[8]; struct timespec ts = {0, ms * 1000000L};
  int n = kevent(kq, NULL, 0, ev, 8, &ts), c = 0;
  for (int i = 0; i < n; i++) if (ev[i].filter == filter) c++;
  printf("  wait %dms (%s) -> %d event(s):", ms, what, n);
  for (int i = 0; i < n; i++) printf(" %s(udata %ld)", filtstr(ev[i].filter), (long)(intptr_t)ev[i].udata);
  printf("\n");
  return c;
}
int main(void) {
  int kq = kqueue(), s[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  write(s[1], "x", 1);  /* s[0] readable (and always writable) */
  int extra = 0;
  errno = 0;
  printf("edge READ on a readable socket:\n");
  change(kq, s[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR, 1);
  count_filter(kq, EVFILT_READ, 50, "expect READ once");
  extra += count_filter(kq, EVFILT_READ, 50, "expect nothing: edge, no new data");
  printf("add edge WRITE on the same fd:\n");
  change(kq, s[0], EVFILT_WRITE, EV_ADD | EV_ENABLE | EV_CLEAR, 2);
  extra += count_filter(kq, EVFILT_READ, 50, "BSD: WRITE only");
  printf("delete the WRITE knote:\n");
  change(kq, s[0], EVFILT_WRITE, EV_DELETE, 0);
  extra += count_filter(kq, EVFILT_READ, 50, "BSD: nothing");
  printf("add level WRITE, disable it, delete it:\n");
  change(kq, s[0], EVFILT_WRITE, EV_ADD | EV_ENABLE, 3);
  change(kq, s[0], EVFILT_WRITE, EV_DISABLE, 3);
  extra += count_filter(kq, EVFILT_READ, 50, "BSD: at most WRITE, no READ");
  change(kq, s[0], EVFILT_WRITE, EV_DELETE, 0);
  extra += count_filter(kq, EVFILT_READ, 50, "BSD: nothing");
  printf("RESULT: cleared edge READ knote re-reported %d time(s) with nothing new: %s\n", extra, extra ? "DEVIATES from BSD" : "as on BSD");
  return 0;
}
