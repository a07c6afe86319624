/* The model test's seed 5, reduced: an edge watch for readable+writable on a socket
 * (EVFILT_READ and EVFILT_WRITE, both EV_CLEAR), data arrives and is reported, then modify() to
 * edge readable only = EV_ADD|EV_ENABLE|EV_CLEAR on EVFILT_READ (same mode, kept) and
 * EV_DELETE of EVFILT_WRITE. Nothing new arrives afterwards.
 * FreeBSD/XNU: the re-add looks at the socket again (f_event / f_touch) and may report the unread
 * data once; deleting the other filter's knote does not touch the read knote. At most 1 READ.
 * libkqueue: see below. */
#include "common.h"
#include <sys/socket.h>
int main(void) {
  int kq = kqueue(), s[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, s);
  struct kevent ch[2], rc[2]; struct timespec zero = {0, 0};
  EV_SET(&ch[0], s[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR | EV_RECEIPT, 0, 0, (void *)1);
  EV_SET(&ch[1], s[0], EVFILT_WRITE, EV_ADD | EV_ENABLE | EV_CLEAR | EV_RECEIPT, 0, 0, (void *)1);
  printf("add edge r w in one kevent(): %d receipts\n", kevent(kq, ch, 2, rc, 2, &zero));
  collect(kq, 50, "WRITE");
  write(s[1], "x", 1);
  collect(kq, 50, "READ (data arrived)");
  collect(kq, 50, "nothing");
  printf("modify -> edge r (new udata 2):\n");
  errno = 0;
  change(kq, s[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR, 2);
  change(kq, s[0], EVFILT_WRITE, EV_DELETE, 0);
  int n = 0;
  for (int i = 0; i < 4; i++) n += collect(kq, 50, "BSD: at most one READ in all");
  printf("RESULT: %d event(s) after modify: %s\n", n, n <= 1 ? "as on BSD" : "DEVIATES from BSD");
  return 0;
}
