// libpollfaults: a fault injector for tests, preloaded into a test's child process
// (LD_PRELOAD, see faultsLibrary in index.js). It stands in front of the system calls poll
// makes (epoll_create1, epoll_create, epoll_ctl, epoll_wait, read, write) and makes chosen
// ones fail: a rule matches calls of one kind on one descriptor (for epoll_ctl, optionally one
// operation); after `skip` matching calls, the next `times` fail with `err`, without reaching the
// kernel. Everything else goes to the real call. The test kit's addon arms rules through
// poll_faults_arm (found with dlsym: absent when the library is not preloaded).
//
// read and write rules need a descriptor: the runtime itself reads and writes all the time.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

enum call { F_EPOLL_CREATE1, F_EPOLL_CREATE, F_EPOLL_CTL, F_EPOLL_WAIT, F_READ, F_WRITE, F_COUNT };
static const char* const names[F_COUNT] = {"epoll_create1", "epoll_create", "epoll_ctl", "epoll_wait", "read", "write"};

struct rule {
  int armed;
  int fd;  // -1: any
  int op;  // epoll_ctl's operation, -1: any
  long skip, times;
  int err;
  long seen, failed;
};

// Built with hidden visibility: what the process must see is marked so.
#define EXPORT __attribute__((visibility("default")))

static struct rule rules[F_COUNT];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int kind(const char* call) {
  for (int i = 0; i < F_COUNT; i++)
    if (strcmp(call, names[i]) == 0) return i;
  return -1;
}

// 0, or -1 for an unknown call or a read/write rule without a descriptor.
EXPORT int poll_faults_arm(const char* call, int fd, int op, long skip, long times, int err) {
  int k = kind(call);
  if (k < 0 || ((k == F_READ || k == F_WRITE) && fd < 0)) return -1;
  pthread_mutex_lock(&mu);
  rules[k] = (struct rule){1, fd, op, skip, times, err, 0, 0};
  pthread_mutex_unlock(&mu);
  return 0;
}

// How many calls the rule for `call` matched, and how many of them it failed (out[0], out[1]).
EXPORT void poll_faults_count(const char* call, long out[2]) {
  int k = kind(call);
  pthread_mutex_lock(&mu);
  out[0] = k < 0 ? 0 : rules[k].seen;
  out[1] = k < 0 ? 0 : rules[k].failed;
  pthread_mutex_unlock(&mu);
}

EXPORT void poll_faults_reset(void) {
  pthread_mutex_lock(&mu);
  memset(rules, 0, sizeof rules);
  pthread_mutex_unlock(&mu);
}

// The errno this call must fail with, or 0 to make it.
static int injected(enum call k, int fd, int op) {
  int err = 0;
  pthread_mutex_lock(&mu);
  struct rule* r = &rules[k];
  if (r->armed && (r->fd < 0 || r->fd == fd) && (r->op < 0 || r->op == op)) {
    r->seen++;
    if (r->seen > r->skip && r->failed < r->times) {
      r->failed++;
      err = r->err;
    }
  }
  pthread_mutex_unlock(&mu);
  return err;
}

// The next definition of `name` after this library's: libc's.
#define REAL(name)                          \
  static __typeof__(&name) real_##name;     \
  if (real_##name == NULL) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

EXPORT int epoll_create1(int flags) {
  REAL(epoll_create1);
  int err = injected(F_EPOLL_CREATE1, -1, -1);
  if (err) return errno = err, -1;
  return real_epoll_create1(flags);
}

EXPORT int epoll_create(int size) {
  REAL(epoll_create);
  int err = injected(F_EPOLL_CREATE, -1, -1);
  if (err) return errno = err, -1;
  return real_epoll_create(size);
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  REAL(epoll_ctl);
  int err = injected(F_EPOLL_CTL, epfd, op);
  if (err) return errno = err, -1;
  return real_epoll_ctl(epfd, op, fd, event);
}

EXPORT int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  REAL(epoll_wait);
  int err = injected(F_EPOLL_WAIT, epfd, -1);
  if (err) return errno = err, -1;
  return real_epoll_wait(epfd, events, maxevents, timeout);
}

EXPORT ssize_t read(int fd, void* buf, size_t count) {
  REAL(read);
  int err = injected(F_READ, fd, -1);
  if (err) return errno = err, -1;
  return real_read(fd, buf, count);
}

EXPORT ssize_t write(int fd, const void* buf, size_t count) {
  REAL(write);
  int err = injected(F_WRITE, fd, -1);
  if (err) return errno = err, -1;
  return real_write(fd, buf, count);
}
