/* The raw C reference: the benchmark scenarios on epoll_wait with no runtime in between.
 * usage: raw-epoll <pingpong|chain|fanin|idle|churn> <budget-ms> [idle-count]
 * Prints one JSON line: { "ops": n, "seconds": s, "rate": n/s, "delivered": d, "expected": e }. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void mkpipe(int fds[2]) {
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) die("pipe2");
}

static void add(int ep, int fd) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
}

/* RAW_EPOLL_NESTED=1: the scenario's epoll set is itself watched by an outer one, as poll's is
 * by libuv's: wait on the outer set, then drain the inner one with a zero timeout. The same
 * system calls poll's uv_poll loop makes, without JavaScript or Node-API: its floor. */
static int nested = 0, outer = -1;

static int wait_events(int ep, struct epoll_event *events) {
  if (!nested) return epoll_wait(ep, events, 1024, -1);
  if (outer < 0) {
    outer = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ep};
    if (outer < 0 || epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev) < 0) die("nested epoll");
  }
  struct epoll_event ready;
  int n = epoll_wait(outer, &ready, 1, -1);
  if (n <= 0) return n;
  return epoll_wait(ep, events, 1024, 0);
}

static void put(int fd) {
  if (write(fd, "x", 1) != 1) die("write");
}

static void take(int fd) {
  char b;
  if (read(fd, &b, 1) != 1) die("read");
}

/* Warm-up (a fifth of the budget), then the budget; prints the result line when time is up. */
struct clock {
  double start, warm_end, end;
  long warm;
  int warming;
};

static struct clock clock_start(double budget) {
  double t = now();
  struct clock c = {t, t + budget / 5, t + budget / 5 + budget, 0, 1};
  return c;
}

/* Called every so often with the running count (events delivered = expected = n); 1 when done. */
static int clock_check(struct clock *c, long n) {
  double t = now();
  if (c->warming && t >= c->warm_end) {
    c->warming = 0;
    c->warm = n;
    c->start = t;
  } else if (!c->warming && t >= c->end) {
    long ops = n - c->warm;
    printf("{\"ops\":%ld,\"seconds\":%.6f,\"rate\":%.1f,\"delivered\":%ld,\"expected\":%ld,\"spurious\":0}\n", ops, t - c->start,
           ops / (t - c->start), n, n);
    return 1;
  }
  return 0;
}

/* One byte bounced between two pipes; `idle` silent descriptors registered too. */
static void pingpong(double budget, int idle, int quick) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int a[2], b[2];
  mkpipe(a);
  mkpipe(b);
  add(ep, a[0]);
  add(ep, b[0]);
  if (idle > 0) {
    /* opens of one FIFO nobody writes, read-write so never at EOF, as in the JS runs */
    char dir[] = "/tmp/poll-bench-XXXXXX", fifo[64];
    if (!mkdtemp(dir)) die("mkdtemp");
    snprintf(fifo, sizeof fifo, "%s/idle", dir);
    if (mkfifo(fifo, 0600) < 0) die("mkfifo");
    for (int i = 0; i < idle; i++) {
      int d = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
      if (d < 0) die("open fifo");
      add(ep, d);
    }
    unlink(fifo);
    rmdir(dir);
  }
  struct epoll_event events[1024];
  long trips = 0;
  struct clock clock = clock_start(budget);
  put(a[1]);
  for (;;) {
    int n = wait_events(ep, events);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd == a[0]) {
        take(a[0]);
        put(b[1]);
      } else if (fd == b[0]) {
        take(b[0]);
        trips++;
        if (((trips & 255) == 0 || quick) && clock_check(&clock, trips)) return;
        put(a[1]);
      } else {
        fprintf(stderr, "an idle descriptor fired\n");
        exit(1);
      }
    }
  }
}

/* One pipe whose reader writes the next byte into the same pipe: the same registration is ready
 * again as each event is handled, as a GPIO interrupt handler that toggles the pin it watches. */
static void chain(double budget, int quick) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int a[2];
  mkpipe(a);
  add(ep, a[0]);
  struct epoll_event events[1024];
  long trips = 0;
  struct clock clock = clock_start(budget);
  put(a[1]);
  for (;;) {
    int n = wait_events(ep, events);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      take(a[0]);
      trips++;
      if (((trips & 255) == 0 || quick) && clock_check(&clock, trips)) return;
      put(a[1]);
    }
  }
}

/* 256 pipes made ready at once; every event handled before the next round. */
static void fanin(double budget) {
  enum { N = 256 };
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int p[N][2];
  for (int i = 0; i < N; i++) {
    mkpipe(p[i]);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (unsigned)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p[i][0], &ev) < 0) die("epoll_ctl");
  }
  struct epoll_event events[1024];
  long handled = 0, warm = 0, rounds = 0;
  double start = now(), warm_end = start + budget / 5, end = warm_end + budget;
  int warming = 1;
  for (;;) {
    for (int i = 0; i < N; i++) put(p[i][1]);
    int left = N;
    while (left > 0) {
      int n = wait_events(ep, events);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die("epoll_wait");
      for (int i = 0; i < n; i++) {
        take(p[events[i].data.u32][0]);
        handled++;
        left--;
      }
    }
    rounds++;
    double t = now();
    if (warming && t >= warm_end) {
      warming = 0;
      warm = handled;
      start = t;
    } else if (!warming && t >= end) {
      long ops = handled - warm;
      printf("{\"ops\":%ld,\"seconds\":%.6f,\"rate\":%.1f,\"delivered\":%ld,\"expected\":%ld,\"spurious\":0}\n", ops, t - start, ops / (t - start),
             handled, rounds * N);
      return;
    }
  }
}

/* add + remove of one descriptor. */
static void churn(double budget) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int p[2];
  mkpipe(p);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
  long pairs = 0;
  struct clock clock = clock_start(budget);
  for (;;) {
    for (int i = 0; i < 256; i++) {
      if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) < 0) die("epoll_ctl add");
      if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0], &ev) < 0) die("epoll_ctl del");
    }
    pairs += 256;
    if (clock_check(&clock, pairs)) return;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: raw-epoll <pingpong|chain|fanin|idle|churn> <budget-ms> [idle-count] [quick]\n");
    return 2;
  }
  double budget = atof(argv[2]) / 1000.0;
  const char *env = getenv("RAW_EPOLL_NESTED");
  nested = env != NULL && strcmp(env, "1") == 0;
  int idle = argc > 3 ? atoi(argv[3]) : 10000;
  int quick = argc > 4 && strcmp(argv[4], "quick") == 0;
  if (strcmp(argv[1], "pingpong") == 0) pingpong(budget, 0, quick);
  else if (strcmp(argv[1], "idle") == 0) pingpong(budget, idle, quick);
  else if (strcmp(argv[1], "chain") == 0) chain(budget, quick);
  else if (strcmp(argv[1], "fanin") == 0) fanin(budget);
  else if (strcmp(argv[1], "churn") == 0) churn(budget);
  else {
    fprintf(stderr, "unknown scenario %s\n", argv[1]);
    return 2;
  }
  return 0;
}
