// Test-only syscalls Node does not expose: raw pipes and socketpairs with chosen flags,
// eventfd, TCP urgent data, fd flags, and a seccomp filter that makes chosen syscalls fail
// on the calling thread (to exercise @poll/linux's epoll_create fallback for real).
#include <napi.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <time.h>
#include <stdlib.h>
#include <termios.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <sys/wait.h>
#ifdef __linux__
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#endif

namespace {

Napi::Value Fail(Napi::Env env, const char* syscall) {
  int err = errno;
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Pair(Napi::Env env, int fds[2]) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, fds[0]);
  out.Set(1u, fds[1]);
  return out;
}

bool Flag(const Napi::CallbackInfo& info, size_t i, const char* key, bool fallback) {
  if (!info[i].IsObject()) return fallback;
  Napi::Value v = info[i].As<Napi::Object>().Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

#if defined(__APPLE__)
// Test descriptors are made in one step where the OS can; macOS has neither pipe2 nor
// SOCK_CLOEXEC, and these are test-only descriptors in a test process, so fcntl will do there.
bool SetFlags(int fds[2], bool cloexec, bool nonblock) {
  for (int i = 0; i < 2; i++) {
    if (cloexec && fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) return false;
    if (nonblock && fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) < 0) return false;
  }
  return true;
}
#endif

// pipe({ cloexec = true, nonblock = true }) -> [readFd, writeFd]
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  bool cloexec = Flag(info, 0, "cloexec", true);
  bool nonblock = Flag(info, 0, "nonblock", true);
  int fds[2];
#if defined(__APPLE__)
  if (pipe(fds) < 0 || !SetFlags(fds, cloexec, nonblock)) return Fail(info.Env(), "pipe");
#else
  if (pipe2(fds, (cloexec ? O_CLOEXEC : 0) | (nonblock ? O_NONBLOCK : 0)) < 0) return Fail(info.Env(), "pipe2");
#endif
  return Pair(info.Env(), fds);
}

// socketpair({ cloexec = true, nonblock = true, type = 'stream' }) -> [a, b]
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  int type = SOCK_STREAM;
  if (info[0].IsObject()) {
    Napi::Value t = info[0].As<Napi::Object>().Get("type");
    if (t.IsString() && t.As<Napi::String>().Utf8Value() == "dgram") type = SOCK_DGRAM;
  }
  bool cloexec = Flag(info, 0, "cloexec", true);
  bool nonblock = Flag(info, 0, "nonblock", true);
  int fds[2];
#if defined(__APPLE__)
  if (socketpair(AF_UNIX, type, 0, fds) < 0 || !SetFlags(fds, cloexec, nonblock)) {
    return Fail(info.Env(), "socketpair");
  }
#else
  if (cloexec) type |= SOCK_CLOEXEC;
  if (nonblock) type |= SOCK_NONBLOCK;
  if (socketpair(AF_UNIX, type, 0, fds) < 0) return Fail(info.Env(), "socketpair");
#endif
  return Pair(info.Env(), fds);
}

// One byte of TCP urgent data: the receiver sees EPOLLPRI / EVFILT_EXCEPT NOTE_OOB.
// tcpPair() -> [accepted, connected]: a TCP connection over loopback, both ends non-blocking
// and close-on-exec, made with the system calls (not every runtime's net sockets expose their
// descriptor).
Napi::Value TcpPair(const Napi::CallbackInfo& info) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return Fail(info.Env(), "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int fds[2] = {-1, -1};
  int client = -1;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(listener, 1) < 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    int err = errno;
    close(listener);
    errno = err;
    return Fail(info.Env(), "listen");
  }
  client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 || connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      (fds[0] = accept(listener, nullptr, nullptr)) < 0) {
    int err = errno;
    if (client >= 0) close(client);
    close(listener);
    errno = err;
    return Fail(info.Env(), "connect");
  }
  close(listener);
  fds[1] = client;
  // Test-only descriptors in a test process: fcntl will do (macOS has no accept4/SOCK_CLOEXEC).
  for (int fd : fds) {
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return Pair(info.Env(), fds);
}

Napi::Value SendOob(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  char byte = '!';
  if (send(fd, &byte, 1, MSG_OOB) != 1) return Fail(info.Env(), "send");
  return info.Env().Undefined();
}

// One byte in or out: the descriptor I/O every benchmarked implementation shares, so that only
// the polling differs between them. Returns 1, 0 (EOF), or -errno.
Napi::Value WriteByte(const Napi::CallbackInfo& info) {
  char byte = 'x';
  ssize_t n = write(info[0].As<Napi::Number>().Int32Value(), &byte, 1);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value ReadByte(const Napi::CallbackInfo& info) {
  char byte;
  ssize_t n = read(info[0].As<Napi::Number>().Int32Value(), &byte, 1);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

// The fault injector's controls (src/faults.c), present when libpollfaults is preloaded:
// faultsArm(call, fd, op, skip, times, errno) -> true if armed, or false without the library
// (or for a call it does not know); faultsCount(call) -> [seen, failed]; faultsReset().
template <class F>
F FaultsSymbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

Napi::Value FaultsArm(const Napi::CallbackInfo& info) {
  auto arm = FaultsSymbol<int (*)(const char*, int, int, long, long, int)>("poll_faults_arm");
  if (arm == nullptr) return Napi::Boolean::New(info.Env(), false);
  std::string call = info[0].As<Napi::String>();
  int rc = arm(call.c_str(), info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value(),
               info[3].As<Napi::Number>().Int64Value(), info[4].As<Napi::Number>().Int64Value(), info[5].As<Napi::Number>().Int32Value());
  return Napi::Boolean::New(info.Env(), rc == 0);
}

Napi::Value FaultsCount(const Napi::CallbackInfo& info) {
  auto count = FaultsSymbol<void (*)(const char*, long*)>("poll_faults_count");
  long out[2] = {0, 0};
  std::string call = info[0].As<Napi::String>();
  if (count != nullptr) count(call.c_str(), out);
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(out[0])));
  result.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(out[1])));
  return result;
}

Napi::Value FaultsReset(const Napi::CallbackInfo& info) {
  auto reset = FaultsSymbol<void (*)()>("poll_faults_reset");
  if (reset != nullptr) reset();
  return info.Env().Undefined();
}

// monotonicNs() -> CLOCK_MONOTONIC in nanoseconds, as a BigInt: one clock for two processes
// that may run different runtimes (the latency benchmark's writer and reader), where each
// runtime's process.hrtime may count from somewhere else.
Napi::Value MonotonicNs(const Napi::CallbackInfo& info) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec));
}

// execProbe(path) -> its standard output: fork and exec `path` directly, as any program that
// spawns a child does at the bottom, so that every descriptor without FD_CLOEXEC reaches it.
// For runtimes whose own spawn closes every descriptor beyond stdio in the child (Bun), where a
// spawned child cannot show an inheritable control descriptor at all.
Napi::Value ExecProbe(const Napi::CallbackInfo& info) {
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int out[2];
  if (pipe(out) < 0) return Fail(info.Env(), "pipe");
  fcntl(out[0], F_SETFD, FD_CLOEXEC);  // test-only; macOS has no pipe2
  fcntl(out[1], F_SETFD, FD_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return Fail(info.Env(), "fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec. dup2 clears FD_CLOEXEC on fd 1.
    if (dup2(out[1], 1) < 0) _exit(127);
    char* argv[] = {const_cast<char*>(path.c_str()), nullptr};
    execv(path.c_str(), argv);
    _exit(127);
  }
  close(out[1]);
  std::string text;
  char chunk[4096];
  for (;;) {
    ssize_t n = read(out[0], chunk, sizeof chunk);
    if (n > 0) {
      text.append(chunk, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = ECHILD;
    return Fail(info.Env(), "execProbe");
  }
  return Napi::String::New(info.Env(), text);
}

// rawWrite(fd, bytes) / rawRead(fd, bytes, offset, length) / rawClose(fd): the system calls
// themselves, bytes (or 0) or -errno. Deno's node:fs refuses descriptors it did not open
// itself ("Bad file descriptor"), so tests that must run there write, read and close with these.
Napi::Value RawWrite(const Napi::CallbackInfo& info) {
  Napi::TypedArray bytes = info[1].As<Napi::TypedArray>();
  const char* data = static_cast<const char*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset();
  ssize_t n;
  do {
    n = write(info[0].As<Napi::Number>().Int32Value(), data, bytes.ByteLength());
  } while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value RawRead(const Napi::CallbackInfo& info) {
  Napi::TypedArray bytes = info[1].As<Napi::TypedArray>();
  size_t offset = info[2].As<Napi::Number>().Uint32Value();
  size_t length = info[3].As<Napi::Number>().Uint32Value();
  if (offset + length > bytes.ByteLength()) return Napi::Number::New(info.Env(), -EINVAL);
  char* data = static_cast<char*>(bytes.ArrayBuffer().Data()) + bytes.ByteOffset() + offset;
  ssize_t n;
  do {
    n = read(info[0].As<Napi::Number>().Int32Value(), data, length);
  } while (n < 0 && errno == EINTR);
  return Napi::Number::New(info.Env(), n < 0 ? -errno : static_cast<double>(n));
}

Napi::Value RawClose(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), close(info[0].As<Napi::Number>().Int32Value()) < 0 ? -errno : 0);
}

// A second descriptor for the same open file, close-on-exec.
Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = fcntl(info[0].As<Napi::Number>().Int32Value(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Fail(info.Env(), "fcntl");
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value FdFlags(const Napi::CallbackInfo& info) {
  int flags = fcntl(info[0].As<Napi::Number>().Int32Value(), F_GETFD);
  if (flags < 0) return Fail(info.Env(), "fcntl");
  int status = fcntl(info[0].As<Napi::Number>().Int32Value(), F_GETFL);
  if (status < 0) return Fail(info.Env(), "fcntl");
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("cloexec", Napi::Boolean::New(info.Env(), (flags & FD_CLOEXEC) != 0));
  out.Set("nonblock", Napi::Boolean::New(info.Env(), (status & O_NONBLOCK) != 0));
  return out;
}

// A pseudo-terminal pair, [master, slave], both close-on-exec; the slave in raw mode so bytes
// pass through the line discipline unchanged (no echo, no line buffering).
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) return Fail(info.Env(), "posix_openpt");
  const char* name = nullptr;  // ptsname(): ptsname_r is missing from older macOS
  if (grantpt(master) < 0 || unlockpt(master) < 0 || (name = ptsname(master)) == nullptr) {
    int err = errno;
    close(master);
    errno = err;
    return Fail(info.Env(), "ptsname");
  }
  int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int err = errno;
    close(master);
    errno = err;
    return Fail(info.Env(), "open");
  }
  fcntl(master, F_SETFD, FD_CLOEXEC);
  termios raw;
  if (tcgetattr(slave, &raw) == 0) {
    cfmakeraw(&raw);
    tcsetattr(slave, TCSANOW, &raw);
  }
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), master));
  out.Set(1u, Napi::Number::New(info.Env(), slave));
  return out;
}

Napi::Value SetCloexec(const Napi::CallbackInfo& info) {
  int fd = info[0].As<Napi::Number>().Int32Value();
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return Fail(info.Env(), "fcntl");
  flags = info[1].ToBoolean() ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (fcntl(fd, F_SETFD, flags) < 0) return Fail(info.Env(), "fcntl");
  return info.Env().Undefined();
}

#ifdef __linux__
Napi::Value EventFd(const Napi::CallbackInfo& info) {
  unsigned int initval = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  int fd = eventfd(initval, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return Fail(info.Env(), "eventfd");
  return Napi::Number::New(info.Env(), fd);
}

// A timerfd on CLOCK_MONOTONIC that expires once, `ms` milliseconds from now (timerfd_create(2)).
Napi::Value TimerFd(const Napi::CallbackInfo& info) {
  // 0 would disarm the timer: it would never fire.
  if (!info[0].IsNumber() || info[0].As<Napi::Number>().Int64Value() <= 0) {
    Napi::TypeError::New(info.Env(), "timerfd(ms): ms must be a number above 0").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int64_t ms = info[0].As<Napi::Number>().Int64Value();
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0) return Fail(info.Env(), "timerfd_create");
  struct itimerspec spec = {};
  spec.it_value.tv_sec = ms / 1000;
  spec.it_value.tv_nsec = (ms % 1000) * 1000000;
  if (timerfd_settime(fd, 0, &spec, nullptr) < 0) {
    Napi::Value err = Fail(info.Env(), "timerfd_settime");
    close(fd);
    return err;
  }
  return Napi::Number::New(info.Env(), fd);
}

// An inotify descriptor watching directory `path` for files created in it (inotify(7)).
Napi::Value Inotify(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "inotify(dir): dir must be a string").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return Fail(info.Env(), "inotify_init1");
  if (inotify_add_watch(fd, path.c_str(), IN_CREATE) < 0) {
    Napi::Value err = Fail(info.Env(), "inotify_add_watch");
    close(fd);
    return err;
  }
  return Napi::Number::New(info.Env(), fd);
}

// A NETLINK_ROUTE socket in the RTMGRP_LINK group: the kernel tells it of every link that
// appears, changes or goes (rtnetlink(7)).
Napi::Value NetlinkLinks(const Napi::CallbackInfo& info) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return Fail(info.Env(), "socket");
  struct sockaddr_nl addr = {};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    Napi::Value err = Fail(info.Env(), "bind");
    close(fd);
    return err;
  }
  return Napi::Number::New(info.Env(), fd);
}

// A TUN device (IFF_TUN | IFF_NO_PI: one IP packet a read) given IPv4 address `address`/30 and
// brought up; it goes with its descriptor. Needs CAP_NET_ADMIN and /dev/net/tun
// (https://docs.kernel.org/networking/tuntap.html). Returns [fd, name].
Napi::Value Tun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    Napi::TypeError::New(env, "tun(address): address must be a string").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string address = info[0].As<Napi::String>().Utf8Value();
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return Fail(env, "open");
  struct ifreq ifr = {};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, "polltest%d", IFNAMSIZ - 1);
  const char* failed = nullptr;
  int sock = -1;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    failed = "ioctl(TUNSETIFF)";
  } else if ((sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
    failed = "socket";
  } else {
    auto* in = reinterpret_cast<struct sockaddr_in*>(&ifr.ifr_addr);
    in->sin_family = AF_INET;
    if (inet_pton(AF_INET, address.c_str(), &in->sin_addr) != 1) {
      errno = EINVAL;
      failed = "inet_pton";
    } else if (ioctl(sock, SIOCSIFADDR, &ifr) < 0) {
      failed = "ioctl(SIOCSIFADDR)";
    } else {
      inet_pton(AF_INET, "255.255.255.252", &in->sin_addr);
      if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0) {
        failed = "ioctl(SIOCSIFNETMASK)";
      } else if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        failed = "ioctl(SIOCGIFFLAGS)";
      } else {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) failed = "ioctl(SIOCSIFFLAGS)";
      }
    }
  }
  if (failed != nullptr) {
    Napi::Value err = Fail(env, failed);
    if (sock >= 0) close(sock);
    close(fd);
    return err;
  }
  close(sock);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fd));
  result.Set(1u, Napi::String::New(env, ifr.ifr_name));
  return result;
}

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kAuditArch = 0;
#endif

// Syscall numbers by name on this architecture; -1 where the architecture lacks one
// (aarch64 has no epoll_create: glibc implements it with epoll_create1).
long SyscallNumber(const std::string& name) {
  if (name == "epoll_create1") return SYS_epoll_create1;
#ifdef SYS_epoll_create
  if (name == "epoll_create") return SYS_epoll_create;
#endif
  if (name == "fcntl:F_SETFD") return SYS_fcntl;
  return -1;
}

// denySyscalls([{ syscall: 'epoll_create1' | 'epoll_create' | 'fcntl:F_SETFD', errno }])
// Installs a seccomp filter on the calling thread only (no TSYNC): the matching syscalls fail
// with the given errno from then on. Irreversible: run it in a process made for the test.
Napi::Value DenySyscalls(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (kAuditArch == 0) {
    Napi::Error::New(env, "denySyscalls: unsupported architecture").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array rules = info[0].As<Napi::Array>();
  std::vector<sock_filter> prog;
  prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0));
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object rule = rules.Get(i).As<Napi::Object>();
    std::string name = rule.Get("syscall").As<Napi::String>().Utf8Value();
    uint32_t err = rule.Get("errno").As<Napi::Number>().Uint32Value();
    long nr = SyscallNumber(name);
    if (nr < 0) {
      Napi::Error::New(env, "denySyscalls: no syscall " + name + " on this architecture").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (name == "fcntl:F_SETFD") {
      // nr == fcntl && (low word of) args[1] == F_SETFD
      prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 3));
      prog.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])));
      prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETFD, 0, 1));
    } else {
      prog.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
    }
    prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err & SECCOMP_RET_DATA)));
  }
  prog.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), prog.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return Fail(env, "prctl");
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) return Fail(env, "seccomp");
  return env.Undefined();
}

// epoll_create1(EPOLL_CLOEXEC) straight to the kernel: the fd, or -errno. Lets a test see
// that its filter is in force.
Napi::Value RawEpollCreate1(const Napi::CallbackInfo& info) {
  long fd = syscall(SYS_epoll_create1, O_CLOEXEC);
  if (fd >= 0) close(static_cast<int>(fd));
  return Napi::Number::New(info.Env(), fd >= 0 ? static_cast<double>(fd) : -errno);
}
#endif

// The sanitizer runs' negative control: a one-byte write past a heap block, which ASan and
// valgrind must report. `volatile` keeps the compiler from proving it away.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
Napi::Value PlantedOverflow(const Napi::CallbackInfo& info) {
  volatile char* block = static_cast<volatile char*>(std::malloc(16));
  block[16] = 1;
  std::free(const_cast<char*>(block));
  return info.Env().Undefined();
}
#pragma GCC diagnostic pop

// ThreadSanitizer's negative control: two threads increment a plain int with no lock.
Napi::Value PlantedRace(const Napi::CallbackInfo& info) {
  static int shared = 0;
  uv_thread_t other;
  uv_thread_create(&other, [](void*) { for (int i = 0; i < 1000; i++) shared = shared + 1; }, nullptr);
  for (int i = 0; i < 1000; i++) shared = shared + 1;
  uv_thread_join(&other);
  return Napi::Number::New(info.Env(), shared);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("plantedOverflow", Napi::Function::New(env, PlantedOverflow));
  exports.Set("plantedRace", Napi::Function::New(env, PlantedRace));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("socketpair", Napi::Function::New(env, SocketPair));
  exports.Set("sendOob", Napi::Function::New(env, SendOob));
  exports.Set("tcpPair", Napi::Function::New(env, TcpPair));
  exports.Set("fdFlags", Napi::Function::New(env, FdFlags));
  exports.Set("dup", Napi::Function::New(env, Dup));
  exports.Set("execProbe", Napi::Function::New(env, ExecProbe));
  exports.Set("rawWrite", Napi::Function::New(env, RawWrite));
  exports.Set("rawRead", Napi::Function::New(env, RawRead));
  exports.Set("rawClose", Napi::Function::New(env, RawClose));
  exports.Set("writeByte", Napi::Function::New(env, WriteByte));
  exports.Set("monotonicNs", Napi::Function::New(env, MonotonicNs));
  exports.Set("faultsArm", Napi::Function::New(env, FaultsArm));
  exports.Set("faultsCount", Napi::Function::New(env, FaultsCount));
  exports.Set("faultsReset", Napi::Function::New(env, FaultsReset));
  exports.Set("readByte", Napi::Function::New(env, ReadByte));
  exports.Set("setCloexec", Napi::Function::New(env, SetCloexec));
  exports.Set("openpty", Napi::Function::New(env, OpenPty));
#ifdef __linux__
  exports.Set("eventfd", Napi::Function::New(env, EventFd));
  exports.Set("timerfd", Napi::Function::New(env, TimerFd));
  exports.Set("inotify", Napi::Function::New(env, Inotify));
  exports.Set("netlinkLinks", Napi::Function::New(env, NetlinkLinks));
  exports.Set("tun", Napi::Function::New(env, Tun));
  exports.Set("denySyscalls", Napi::Function::New(env, DenySyscalls));
  exports.Set("rawEpollCreate1", Napi::Function::New(env, RawEpollCreate1));
  exports.Set("hasEpollCreate", Napi::Boolean::New(env, SyscallNumber("epoll_create") >= 0));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(poll_testkit, Init)
