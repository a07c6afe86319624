/* Shared helpers for the libkqueue probes (built by ../build.mjs against libkqueue as it comes and patched). */
#include <sys/event.h>
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

static const char *flagstr(unsigned short f) {
  static char b[200]; b[0] = 0;
  static const struct { unsigned short bit; const char *name; } names[] = {
    {EV_ADD, "ADD"}, {EV_ENABLE, "ENABLE"}, {EV_DISABLE, "DISABLE"}, {EV_DELETE, "DELETE"},
    {EV_ONESHOT, "ONESHOT"}, {EV_CLEAR, "CLEAR"}, {EV_DISPATCH, "DISPATCH"},
    {EV_RECEIPT, "RECEIPT"}, {EV_EOF, "EOF"}, {EV_ERROR, "ERROR"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (f & names[i].bit) { strcat(b, names[i].name); strcat(b, "|"); }
  size_t n = strlen(b); if (n) b[n-1] = 0; else strcpy(b, "0");
  return b;
}
static const char *filtstr(int f) { return f == EVFILT_READ ? "READ" : f == EVFILT_WRITE ? "WRITE" : f == EVFILT_USER ? "USER" : "?"; }

/* One change with EV_RECEIPT, as the backend's ChangeFilters sends it. Prints the return and receipt. */
static int change(int kq, int fd, int filter, unsigned short flags, intptr_t udata) {
  struct kevent ch, rc; memset(&rc, 0, sizeof rc);
  EV_SET(&ch, fd, filter, flags | EV_RECEIPT, 0, 0, (void *)udata);
  struct timespec zero = {0, 0};
  /* errno is deliberately not cleared here: the caller decides what it holds before the call. */
  int n = kevent(kq, &ch, 1, &rc, 1, &zero);
  int e = errno;
  printf("  change fd=%d %s %s udata=%ld -> ret=%d errno=%d", fd, filtstr(filter), flagstr(flags), (long)udata, n, e);
  if (n > 0) printf(" receipt{flags=%s data=%ld}", flagstr(rc.flags), (long)rc.data);
  printf("\n");
  if (n < 0) return e ? e : -1;
  return (n > 0 && (rc.flags & EV_ERROR)) ? (int)rc.data : 0;
}
/* Change without EV_RECEIPT and no eventlist (the backend's Change()). */
static int change_plain(int kq, int fd, int filter, unsigned short flags, intptr_t udata) {
  struct kevent ch;
  EV_SET(&ch, fd, filter, flags, 0, 0, (void *)udata);
  int n = kevent(kq, &ch, 1, NULL, 0, NULL);
  printf("  change(plain) fd=%d %s %s udata=%ld -> ret=%d errno=%d\n", fd, filtstr(filter), flagstr(flags), (long)udata, n, errno);
  return n < 0 ? errno : 0;
}
/* Collect what is pending within ms. */
static int collect(int kq, int ms, const char *what) {
  struct kevent ev[8];
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  int n = kevent(kq, NULL, 0, ev, 8, &ts);
  printf("  wait %dms (%s) -> %d event(s)%s\n", ms, what, n, n < 0 ? strerror(errno) : "");
  for (int i = 0; i < n; i++)
    printf("    ident=%d %s flags=%s fflags=%u data=%ld udata=%ld\n", (int)ev[i].ident, filtstr(ev[i].filter), flagstr(ev[i].flags), ev[i].fflags, (long)ev[i].data, (long)(intptr_t)ev[i].udata);
  return n;
}
