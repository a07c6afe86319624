/* What is left of the model test: an edge watch for readable+writable added in ONE kevent()
 * call (EVFILT_READ and EVFILT_WRITE, both EV_CLEAR) on a socket that is already readable and
 * writable, while another thread is blocked in kevent() (@poll/bsd's waiter thread).
 * FreeBSD/XNU: each knote is activated once (knote_enqueue refuses a queued knote, EV_CLEAR
 * knotes are not re-queued after delivery); READ is delivered exactly once per registration.
 * (The waiter may see READ and WRITE in two batches if it runs between the two
 * kqueue_register() calls; it never sees READ twice.)
 * libkqueue: READ's EPOLL_CTL_ADD(IN|ET) wakes the waiter's epoll_wait at once, then WRITE's
 * EPOLL_CTL_MOD(IN|OUT|ET) re-arms the edge and epoll reports IN again: READ twice. */
#include "common.h"
#include <pthread.h>
#include <sys/socket.h>
static int kq;
static volatile int reads, writes, batches, stop;
static void *waiter(void *arg) {
  (void)arg;
  while (!stop) {
    struct kevent ev[8];
    int n = kevent(kq, NULL, 0, ev, 8, NULL);
    if (n <= 0) continue;
    batches++;
    for (int i = 0; i < n; i++) {
      if (ev[i].filter == EVFILT_READ) reads++;
      if (ev[i].filter == EVFILT_WRITE) writes++;
    }
  }
  return NULL;
}
int main(void) {
  kq = kqueue();
  struct kevent wake; EV_SET(&wake, 0, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
  kevent(kq, &wake, 1, NULL, 0, NULL);
  pthread_t t; pthread_create(&t, NULL, waiter, NULL);
  int rounds = 200, twice = 0, split = 0;
  for (int r = 0; r < rounds; r++) {
    int s[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    write(s[1], "x", 1);
    usleep(2000);
    reads = writes = batches = 0;
    struct kevent ch[2], rc[2]; struct timespec zero = {0, 0};
    EV_SET(&ch[0], s[0], EVFILT_READ, EV_ADD | EV_ENABLE | EV_CLEAR | EV_RECEIPT, 0, 0, (void *)1);
    EV_SET(&ch[1], s[0], EVFILT_WRITE, EV_ADD | EV_ENABLE | EV_CLEAR | EV_RECEIPT, 0, 0, (void *)1);
    kevent(kq, ch, 2, rc, 2, &zero);
    usleep(20000);
    if (reads > 1) twice++;
    if (batches > 1) split++;
    EV_SET(&ch[0], s[0], EVFILT_READ, EV_DELETE, 0, 0, NULL);
    EV_SET(&ch[1], s[0], EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    kevent(kq, ch, 2, NULL, 0, NULL);
    close(s[0]); close(s[1]);
  }
  stop = 1;
  EV_SET(&wake, 0, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
  kevent(kq, &wake, 1, NULL, 0, NULL);
  pthread_join(t, NULL);
  printf("%d rounds: READ delivered more than once in %d, events in more than one batch in %d\n", rounds, twice, split);
  printf("RESULT: %s\n", twice ? "DEVIATES from BSD (READ twice)" : "as on BSD");
  return 0;
}
