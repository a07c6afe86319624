/* Seeds 56/134 of the model test, reduced: a level EVFILT_WRITE knote on an eventfd (always
 * writable), the eventfd closed while a dup keeps it open, then EV_DELETE, then more kevent()
 * calls (the waiter thread's). The fd number is reused by a new pipe, watched for reading.
 * FreeBSD/XNU: close() dropped the knote (knote_fdclose); EV_DELETE says ENOENT/EBADF; the old
 * file is never reported again; later kevent() calls just wait (here: time out with 0).
 * libkqueue: epoll keeps the registration of the (closed-number, still-open file) pair; its
 * EPOLL_CTL_DEL fails with EBADF, libkqueue drops its fd_state and defer-frees the epoll udata,
 * but the kernel keeps returning that udata pointer: once the deferred free has run, copyout
 * reads freed memory. */
#include "common.h"
#include <sys/eventfd.h>
#include <signal.h>
static void on_alarm(int sig) { (void)sig; static const char m[] = "  (blocked for 1s, as on BSD)\nRESULT: only EV_DELETE deviates\n"; write(1, m, sizeof m - 1); _exit(0); }
int main(void) {
  signal(SIGALRM, on_alarm);
  int kq = kqueue();
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  errno = 0;
  change(kq, efd, EVFILT_WRITE, EV_ADD | EV_ENABLE, 1);
  collect(kq, 20, "WRITE udata 1");
  int dup_fd = dup(efd);
  close(efd);
  printf("closed eventfd %d, dup %d keeps it open\n", efd, dup_fd);
  int err = change(kq, efd, EVFILT_WRITE, EV_DELETE, 0);
  printf("  EV_DELETE err=%d (BSD: ENOENT or EBADF)\n", err);
  int p[2]; pipe(p);
  printf("new pipe read end %d\n", p[0]);
  change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR, 2);
  int bad = (err != ENOENT && err != EBADF);
  for (int i = 0; i < 5; i++) {
    errno = 0;
    int n = collect(kq, 20, "BSD: 0 (nothing is ready but the old, unwatched eventfd)");
    if (n != 0) { bad = 1; printf("    errno=%d (%s)\n", errno, strerror(errno)); }
  }
  /* What the waiter thread does: kevent() with no timeout. BSD blocks (nothing is ready). */
  printf("kevent(NULL timeout) x3, each should block (alarm after 1s):\n");
  alarm(1);
  for (int i = 0; i < 3; i++) {
    struct kevent ev; errno = 0;
    int n = kevent(kq, NULL, 0, &ev, 1, NULL);
    printf("  -> returned %d errno=%d (%s)%s\n", n, errno, strerror(errno), n > 0 ? " (an event)" : "");
    if (n > 0) printf("     ident=%d %s udata=%ld\n", (int)ev.ident, filtstr(ev.filter), (long)(intptr_t)ev.udata);
    bad = 1;
  }
  printf("RESULT: %s\n", bad ? "DEVIATES from BSD" : "as on BSD");
  return 0;
}
