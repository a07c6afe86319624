/* A watched descriptor closed before EV_DELETE while a dup(2) keeps its file open (the misuse
 * the model test plays: "close chan before remove, a dup kept"), then its number reused.
 * FreeBSD/XNU: close() runs knote_fdclose(), which drops every knote of that fd number in every
 * kqueue; the dup has no knotes. EV_DELETE afterwards -> ENOENT (or EBADF), and the old file,
 * still open through the dup, is never reported again; a new file on the same number starts
 * clean.
 * libkqueue on Linux cannot see close(): the epoll registration belongs to the open file
 * description, so it survives while the dup exists. */
#include "common.h"
#include <fcntl.h>
int main(void) {
  int kq = kqueue(), p[2], q[2];
  pipe(p);
  write(p[1], "x", 1);                      /* p[0] readable, level */
  errno = 0;
  change(kq, p[0], EVFILT_READ, EV_ADD | EV_ENABLE, 1);
  collect(kq, 50, "READ udata 1");
  int fd = p[0], dup_fd = dup(p[0]);
  close(p[0]);
  printf("closed fd %d (dup %d keeps the pipe open)\n", fd, dup_fd);
  int n1 = collect(kq, 50, "BSD: nothing, the knote went with close()");
  printf("EV_DELETE of the closed fd:\n");
  int err = change(kq, fd, EVFILT_READ, EV_DELETE, 0);
  printf("  err=%d (%s) (BSD: ENOENT or EBADF)\n", err, strerror(err));
  int n2 = collect(kq, 50, "BSD: nothing");
  pipe(q);                                  /* most likely takes number fd again */
  printf("new pipe read end = %d\n", q[0]);
  change(kq, q[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR, 2);
  int n3 = collect(kq, 50, "BSD: nothing, the new pipe is empty");
  write(p[1], "y", 1);                      /* the old file (open via the dup) gets more data */
  int n4 = collect(kq, 50, "BSD: nothing, the old file has no knote");
  int bad = n1 + n2 + n3 + n4 + (err != ENOENT && err != EBADF);
  printf("RESULT: %s\n", bad ? "DEVIATES from BSD" : "as on BSD");
  return 0;
}
