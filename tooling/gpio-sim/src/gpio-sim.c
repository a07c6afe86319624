// gpio-sim: the Linux sysfs GPIO interface (/sys/class/gpio) as a FUSE file system, for running
// GPIO programs (the epoll package's examples, onoff) where there are no GPIOs.
//
//   gpio-sim <mountpoint> [--chip BASE:NGPIO[:LABEL]]... [--wire OUT:IN]... [--udev-delay MS] [--stats] [-f]
//
// What it serves, and the kernel code each behaviour follows (drivers/gpio/gpiolib-sysfs.c as of
// Linux 6.6, the kernel of Raspberry Pi OS Bookworm; fs/kernfs/file.c; lib/kstrtox.c;
// Documentation/admin-guide/gpio/sysfs.rst):
//
// - gpiochipN/ {base, ngpio, label} for each --chip (default: one chip, base 0, 54 lines,
//   "pinctrl-bcm2835", a Pi before Bookworm). Bookworm's numbers are base + offset, e.g.
//   `--chip 512:58:pinctrl-bcm2711` (Pi 4) or `--chip 571:54:pinctrl-rp1` (Pi 5).
// - export, unexport: a number parsed as kstrtol(s, 0) does (optional sign, 0x hex, 0 octal, one
//   optional trailing newline, nothing else). A number no chip has: EINVAL; one already exported:
//   EBUSY (gpiod_request_commit); unexport of one not exported: EINVAL (unexport_store). Export
//   keeps the line's direction and level (the hardware's) and resets active_low and edge.
// - gpioN/ {active_low, direction, edge, value}:
//   - active_low reads "0\n"/"1\n"; a write is kstrtol, any nonzero value sets it. It inverts
//     what value reads and writes, and which physical edge counts as rising or falling
//     (gpio_sysfs_request_irq swaps the trigger): edges are always logical.
//   - direction reads "in\n"/"out\n"; "in", "out", "low", "high" (sysfs_streq: one trailing
//     newline allowed), anything else EINVAL. "high"/"low" set the physical level, ignoring
//     active_low (gpiod_direction_output_raw). Allowed whatever edge is.
//   - edge reads its name; "none", "rising", "falling", "both", else EINVAL. Writing the current
//     value changes nothing; an interrupt edge on an output is EIO and leaves edge at "none"
//     (the old interrupt was freed first: edge_store, gpiochip_lock_as_irq).
//   - value reads "0\n"/"1\n" (logical). A write to an input is EPERM (6.6–6.14 check the
//     direction before parsing); to an output, kstrtol, any nonzero value is high.
// - An edge on an input (through a wire) signals as sysfs does: poll() on an open value file
//   reports POLLPRI | POLLERR until that open file reads again (kernfs_generic_poll compares a
//   per-open event count with the attribute's), and an open that has not read yet reports one
//   at once (the attribute's count starts at 1, the open file's at 0). Every read acknowledges
//   it, at any offset: value is a DEVICE_ATTR_PREALLOC attribute up to Linux 6.16, read through
//   kernfs_file_read_iter, which updates the open file's count on each read.
// - After unexport, gpioN/ is gone (open: ENOENT); a file still open on it reads and writes
//   ENODEV and polls POLLPRI | POLLERR (kernfs_fop_poll of a removed node), also after the number
//   is exported again (the new gpioN/ is a new node).
// - open(O_CREAT) of a file that does not exist is EACCES, as sysfs answers (fs.writeFileSync
//   fails that way on a missing attribute).
// - --udev-delay MS: for MS after an export, opening gpioN's files for writing is EACCES, as it
//   is for a user in group gpio until udev's rule has run chgrp/chmod on the new directory (the
//   wait onoff does right after export).
// - A wire joins an output to an input: the output's level drives the input, as a jumper does.
// - --stats: on unmount, prints to stderr how many of each operation the programs made (a
//   poll() here is a round trip through FUSE, where sysfs answers in the kernel: the count says
//   how much of a program's time the simulator itself costs).
//
// Simplified: gpioN/ is a directory (sysfs makes a symlink into the device tree), with only the
// four attributes above; every line can interrupt; no line is ever claimed by a driver.
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_GPIO 2048
#define MAX_CHIPS 8
#define MAX_WIRES 64
#define MAX_OPEN 1024

enum edge { EDGE_NONE, EDGE_RISING, EDGE_FALLING, EDGE_BOTH };
static const char *edge_names[] = {"none", "rising", "falling", "both"};

struct chip {
  int base, ngpio;
  char label[64];
};

struct gpio {
  int exported;
  unsigned gen;     // which export this is: files opened on an earlier one are dead
  int output;
  int level;        // physical
  int active_low;
  enum edge edge;
  unsigned events;  // interrupts so far
  struct timespec exported_at;
};

enum kind {
  K_NONE, K_ROOT, K_EXPORT, K_UNEXPORT,
  K_CHIP, K_CHIP_BASE, K_CHIP_NGPIO, K_CHIP_LABEL,
  K_DIR, K_ACTIVE_LOW, K_DIRECTION, K_EDGE, K_VALUE,
};
static const char *attr_names[] = {[K_ACTIVE_LOW] = "active_low", [K_DIRECTION] = "direction", [K_EDGE] = "edge", [K_VALUE] = "value"};

// One open file of a gpioN/: which line, which export of it, what it has seen, its poll handle.
struct open_file {
  int used;
  enum kind kind;
  int gpio;
  unsigned gen;
  unsigned seen;
  struct fuse_pollhandle *ph;
};

static struct chip chips[MAX_CHIPS];
static int nchips;
static struct gpio gpios[MAX_GPIO];
static struct open_file opens[MAX_OPEN];
static int wires[MAX_WIRES][2];
static int nwires;
static long udev_delay_ms;
static int print_stats;
static unsigned long long n_open, n_read, n_write, n_poll, n_edges;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int chip_of(long n) {
  for (int i = 0; i < nchips; i++)
    if (n >= chips[i].base && n < chips[i].base + chips[i].ngpio) return i;
  return -1;
}

// "/gpio17/value" -> K_VALUE, *n = 17; "/gpiochip512/base" -> K_CHIP_BASE, *n = chip index.
static enum kind parse(const char *path, int *n) {
  if (strcmp(path, "/") == 0) return K_ROOT;
  if (strcmp(path, "/export") == 0) return K_EXPORT;
  if (strcmp(path, "/unexport") == 0) return K_UNEXPORT;
  int len = 0;
  if (sscanf(path, "/gpiochip%d%n", n, &len) == 1) {
    int base = *n;
    *n = -1;
    for (int i = 0; i < nchips; i++)
      if (chips[i].base == base) *n = i;
    if (*n < 0 || (path[len] != '\0' && path[len] != '/')) return K_NONE;
    const char *rest = path + len;
    if (*rest == '\0') return K_CHIP;
    if (strcmp(rest, "/base") == 0) return K_CHIP_BASE;
    if (strcmp(rest, "/ngpio") == 0) return K_CHIP_NGPIO;
    if (strcmp(rest, "/label") == 0) return K_CHIP_LABEL;
    return K_NONE;
  }
  len = 0;
  if (sscanf(path, "/gpio%d%n", n, &len) != 1 || *n < 0 || *n >= MAX_GPIO || !gpios[*n].exported) return K_NONE;
  if (path[len] != '\0' && path[len] != '/') return K_NONE;
  const char *rest = path + len;
  if (*rest == '\0') return K_DIR;
  for (enum kind k = K_ACTIVE_LOW; k <= K_VALUE; k++)
    if (rest[0] == '/' && strcmp(rest + 1, attr_names[k]) == 0) return k;
  return K_NONE;
}

// kstrtol(s, 0, &v) of lib/kstrtox.c: an optional sign, then "0x" for hex or "0" for octal,
// digits, at most one newline at the very end, and nothing else. 0, -EINVAL or -ERANGE.
static int kstrtol(const char *s, size_t size, long *v) {
  char text[64];
  if (size >= sizeof text) return -EINVAL;
  memcpy(text, s, size);
  text[size] = '\0';
  if (size > 0 && text[size - 1] == '\n') text[--size] = '\0';
  const char *p = text;
  int negative = 0;
  if (*p == '+' || *p == '-') negative = *p++ == '-';
  int base = 10;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p[2] != '\0') base = 16, p += 2;
  else if (p[0] == '0') base = 8;
  if (*p == '\0') return -EINVAL;
  unsigned long long acc = 0;
  for (; *p; p++) {
    int d;
    if (*p >= '0' && *p <= '9') d = *p - '0';
    else if (*p >= 'a' && *p <= 'f') d = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F') d = *p - 'A' + 10;
    else return -EINVAL;
    if (d >= base) return -EINVAL;
    if (acc > (ULLONG_MAX - (unsigned)d) / (unsigned)base) return -ERANGE;
    acc = acc * (unsigned)base + (unsigned)d;
  }
  if (negative ? acc > (unsigned long long)LONG_MAX + 1 : acc > (unsigned long long)LONG_MAX) return -ERANGE;
  *v = negative ? (long)(0 - acc) : (long)acc;
  return 0;
}

// sysfs_streq: equal, but for one trailing newline on the written text.
static int streq(const char *buf, size_t size, const char *word) {
  if (size > 0 && buf[size - 1] == '\n') size--;
  return strlen(word) == size && memcmp(buf, word, size) == 0;
}

static long ms_since(const struct timespec *t) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int sim_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  int n = -1;
  memset(st, 0, sizeof *st);
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  pthread_mutex_unlock(&lock);
  switch (k) {
    case K_NONE:
      return -ENOENT;
    case K_ROOT:
    case K_DIR:
    case K_CHIP:
      st->st_mode = S_IFDIR | 0755;
      st->st_nlink = 2;
      return 0;
    case K_EXPORT:
    case K_UNEXPORT:
      st->st_mode = S_IFREG | 0200;
      break;
    case K_CHIP_BASE:
    case K_CHIP_NGPIO:
    case K_CHIP_LABEL:
      st->st_mode = S_IFREG | 0444;
      break;
    default:
      st->st_mode = S_IFREG | 0644;
  }
  st->st_nlink = 1;
  st->st_size = 4096;  // as sysfs says of every attribute
  return 0;
}

static int sim_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                       enum fuse_readdir_flags flags) {
  (void)off, (void)fi, (void)flags;
  int n = -1;
  char name[32];
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  if (k == K_ROOT) {
    fill(buf, "export", NULL, 0, 0);
    for (int i = 0; i < nchips; i++) {
      snprintf(name, sizeof name, "gpiochip%d", chips[i].base);
      fill(buf, name, NULL, 0, 0);
    }
    for (int i = 0; i < MAX_GPIO; i++) {
      if (!gpios[i].exported) continue;
      snprintf(name, sizeof name, "gpio%d", i);
      fill(buf, name, NULL, 0, 0);
    }
    fill(buf, "unexport", NULL, 0, 0);
  } else if (k == K_DIR) {
    for (enum kind a = K_ACTIVE_LOW; a <= K_VALUE; a++) fill(buf, attr_names[a], NULL, 0, 0);
  } else if (k == K_CHIP) {
    fill(buf, "base", NULL, 0, 0);
    fill(buf, "label", NULL, 0, 0);
    fill(buf, "ngpio", NULL, 0, 0);
  }
  pthread_mutex_unlock(&lock);
  return k == K_ROOT || k == K_DIR || k == K_CHIP ? 0 : -ENOTDIR;
}

static int sim_open(const char *path, struct fuse_file_info *fi) {
  int n = -1;
  pthread_mutex_lock(&lock);
  n_open++;
  enum kind k = parse(path, &n);
  int err = 0;
  int writing = (fi->flags & O_ACCMODE) != O_RDONLY;
  fi->fh = UINT64_MAX;
  int reading = (fi->flags & O_ACCMODE) != O_WRONLY;
  if (k == K_NONE) {
    err = -ENOENT;
  } else if ((writing && k >= K_CHIP_BASE && k <= K_CHIP_LABEL) || (reading && (k == K_EXPORT || k == K_UNEXPORT))) {
    err = -EACCES;  // kernfs_fop_open: an attribute without store (or show) refuses that mode
  } else if (k >= K_ACTIVE_LOW && k <= K_VALUE) {
    int slot = -1;
    for (int i = 0; i < MAX_OPEN && slot < 0; i++)
      if (!opens[i].used) slot = i;
    if (writing && udev_delay_ms > 0 && ms_since(&gpios[n].exported_at) < udev_delay_ms) {
      err = -EACCES;  // udev has not yet given group gpio its write permission
    } else if (slot < 0) {
      err = -ENFILE;
    } else {
      // An open that has not read yet sees an interrupt at once (the attribute's count starts
      // at 1, the open file's at 0: fs/kernfs/file.c). That is why watch-button reads before
      // it watches, and onoff reads once right after it opens value.
      opens[slot] = (struct open_file){1, k, n, gpios[n].gen, gpios[n].events - 1, NULL};
      fi->fh = (uint64_t)slot;
    }
  }
  pthread_mutex_unlock(&lock);
  // Every read reaches us, as every read of a sysfs attribute reaches its driver.
  fi->direct_io = 1;
  fi->nonseekable = 0;
  return err;
}

// A file that does not exist cannot be created in sysfs.
static int sim_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
  (void)path, (void)mode, (void)fi;
  return -EACCES;
}

static int sim_release(const char *path, struct fuse_file_info *fi) {
  (void)path;  // its gpioN/ may be unexported by now
  pthread_mutex_lock(&lock);
  if (fi->fh != UINT64_MAX) {
    struct open_file *o = &opens[fi->fh];
    if (o->ph != NULL) fuse_pollhandle_destroy(o->ph);
    memset(o, 0, sizeof *o);
  }
  pthread_mutex_unlock(&lock);
  return 0;
}

// The open gpioN/ file behind fi, or NULL once its export has ended (kernfs: ENODEV).
static struct open_file *live(struct fuse_file_info *fi) {
  if (fi == NULL || fi->fh == UINT64_MAX) return NULL;
  struct open_file *o = &opens[fi->fh];
  struct gpio *g = &gpios[o->gpio];
  return g->exported && g->gen == o->gen ? o : NULL;
}

static int reply(char *buf, size_t size, off_t off, const char *text) {
  size_t len = strlen(text);
  if ((size_t)off >= len) return 0;
  if (size > len - off) size = len - off;
  memcpy(buf, text + off, size);
  return (int)size;
}

static int sim_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  int n = -1;
  char text[96];
  pthread_mutex_lock(&lock);
  n_read++;
  enum kind k = parse(path, &n);
  if (fi != NULL && fi->fh != UINT64_MAX) {
    struct open_file *o = live(fi);
    k = o ? o->kind : K_NONE;
    n = o ? o->gpio : -1;
    if (o == NULL) {
      pthread_mutex_unlock(&lock);
      return -ENODEV;
    }
    if (k == K_VALUE) o->seen = gpios[n].events;  // every read acknowledges (see the top)
  }
  text[0] = '\0';
  int r = 0;
  switch (k) {
    case K_ACTIVE_LOW:
      snprintf(text, sizeof text, "%d\n", gpios[n].active_low);
      break;
    case K_DIRECTION:
      snprintf(text, sizeof text, "%s\n", gpios[n].output ? "out" : "in");
      break;
    case K_EDGE:
      snprintf(text, sizeof text, "%s\n", edge_names[gpios[n].edge]);
      break;
    case K_VALUE:
      snprintf(text, sizeof text, "%d\n", gpios[n].level ^ gpios[n].active_low);
      break;
    case K_CHIP_BASE:
      snprintf(text, sizeof text, "%d\n", chips[n].base);
      break;
    case K_CHIP_NGPIO:
      snprintf(text, sizeof text, "%d\n", chips[n].ngpio);
      break;
    case K_CHIP_LABEL:
      snprintf(text, sizeof text, "%s\n", chips[n].label);
      break;
    case K_NONE:
      r = -ENOENT;
      break;
    default:
      r = -EIO;  // export and unexport are write-only
  }
  if (r == 0) r = reply(buf, size, off, text);
  pthread_mutex_unlock(&lock);
  return r;
}

// With the lock held: an input's physical level changes; an interrupt where its edge asks, in
// logical terms (active_low swaps the trigger).
static void drive(int n, int level) {
  struct gpio *g = &gpios[n];
  if (g->output || g->level == level) return;
  g->level = level;
  if (!g->exported) return;
  int rising = (level ^ g->active_low) == 1;
  if (g->edge == EDGE_BOTH || (g->edge == EDGE_RISING && rising) || (g->edge == EDGE_FALLING && !rising)) {
    g->events++;
    n_edges++;
    for (int i = 0; i < MAX_OPEN; i++) {
      struct open_file *o = &opens[i];
      if (o->used && o->gpio == n && o->gen == g->gen && o->ph != NULL) {
        fuse_notify_poll(o->ph);
        fuse_pollhandle_destroy(o->ph);
        o->ph = NULL;
      }
    }
  }
}

static void set_output(int n, int level) {
  gpios[n].level = level;
  for (int i = 0; i < nwires; i++)
    if (wires[i][0] == n) drive(wires[i][1], level);
}

// An input on a wire whose output drives it reads that output's level.
static void follow_wire(int n) {
  for (int i = 0; i < nwires; i++)
    if (wires[i][1] == n && gpios[wires[i][0]].output) gpios[n].level = gpios[wires[i][0]].level;
}

static int write_export(enum kind k, const char *buf, size_t size) {
  long g;
  int err = kstrtol(buf, size, &g);
  if (err) return err;
  if (g < 0 || g >= MAX_GPIO || chip_of(g) < 0) return -EINVAL;
  struct gpio *p = &gpios[g];
  if (k == K_UNEXPORT) {
    if (!p->exported) return -EINVAL;
    p->exported = 0;  // open files of this export are dead from now on
    p->active_low = 0;
    p->edge = EDGE_NONE;
    return 0;
  }
  if (p->exported) return -EBUSY;
  p->exported = 1;
  p->gen++;
  p->active_low = 0;
  p->edge = EDGE_NONE;
  clock_gettime(CLOCK_MONOTONIC, &p->exported_at);
  if (!p->output) follow_wire((int)g);
  return 0;
}

static int write_attr(enum kind k, int n, const char *buf, size_t size) {
  struct gpio *g = &gpios[n];
  long v;
  int err;
  switch (k) {
    case K_ACTIVE_LOW:
      if ((err = kstrtol(buf, size, &v))) return err;
      g->active_low = v != 0;  // edges stay logical: drive() reads active_low on each change
      return 0;
    case K_DIRECTION:
      if (streq(buf, size, "in")) {
        g->output = 0;
        follow_wire(n);
      } else if (streq(buf, size, "out") || streq(buf, size, "low")) {
        g->output = 1;
        set_output(n, 0);
      } else if (streq(buf, size, "high")) {
        g->output = 1;
        set_output(n, 1);
      } else {
        return -EINVAL;
      }
      return 0;
    case K_EDGE: {
      int e = -1;
      for (int i = 0; i < 4; i++)
        if (streq(buf, size, edge_names[i])) e = i;
      if (e < 0) return -EINVAL;
      if ((enum edge)e == g->edge) return 0;
      g->edge = EDGE_NONE;  // the old interrupt is freed before the new one is asked for
      if (e == EDGE_NONE) return 0;
      if (g->output) return -EIO;
      g->edge = (enum edge)e;
      return 0;
    }
    case K_VALUE:
      if (!g->output) return -EPERM;
      if ((err = kstrtol(buf, size, &v))) return err;
      set_output(n, (v != 0) ^ g->active_low);
      return 0;
    default:
      return -EIO;
  }
}

static int sim_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)off;
  int n = -1;
  if (size == 0) return 0;  // sysfs_kf_write: nothing to store
  pthread_mutex_lock(&lock);
  n_write++;
  enum kind k = parse(path, &n);
  int r;
  if (fi != NULL && fi->fh != UINT64_MAX) {
    struct open_file *o = live(fi);
    r = o ? write_attr(o->kind, o->gpio, buf, size) : -ENODEV;
  } else if (k == K_EXPORT || k == K_UNEXPORT) {
    r = write_export(k, buf, size);
  } else {
    r = k == K_NONE ? -ENOENT : k == K_ROOT || k == K_DIR || k == K_CHIP ? -EISDIR : -EIO;
  }
  pthread_mutex_unlock(&lock);
  return r < 0 ? r : (int)size;
}

static int sim_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  (void)path, (void)size, (void)fi;
  return 0;  // `echo 4 > export` opens with O_TRUNC; sysfs ignores it
}

static int sim_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph, unsigned *reventsp) {
  (void)path;
  unsigned revents = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;  // kernfs's DEFAULT_POLLMASK
  pthread_mutex_lock(&lock);
  n_poll++;
  if (fi != NULL && fi->fh != UINT64_MAX) {
    struct open_file *o = &opens[fi->fh];
    if (live(fi) == NULL) {
      revents |= POLLERR | POLLPRI;  // a removed node: kernfs_fop_poll
    } else if (o->kind == K_VALUE) {
      if (ph != NULL) {
        if (o->ph != NULL) fuse_pollhandle_destroy(o->ph);
        o->ph = ph;
        ph = NULL;
      }
      if (o->seen != gpios[o->gpio].events) revents |= POLLERR | POLLPRI;
    }
  }
  pthread_mutex_unlock(&lock);
  if (ph != NULL) fuse_pollhandle_destroy(ph);
  *reventsp = revents;
  return 0;
}

static void *sim_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  // Nothing cached: a gpioN/ that was unexported must be gone at once, as in sysfs.
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  return NULL;
}

static const struct fuse_operations ops = {
    .getattr = sim_getattr,
    .readdir = sim_readdir,
    .open = sim_open,
    .create = sim_create,
    .release = sim_release,
    .read = sim_read,
    .write = sim_write,
    .truncate = sim_truncate,
    .poll = sim_poll,
    .init = sim_init,
};

static int usage(const char *what) {
  fprintf(stderr, "gpio-sim: %s\nusage: gpio-sim <mountpoint> [--chip BASE:NGPIO[:LABEL]]... [--wire OUT:IN]... [--udev-delay MS] [--stats] [-f]\n", what);
  return 2;
}

int main(int argc, char *argv[]) {
  // Our options out, the rest (mountpoint, -f, -o …) to libfuse.
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int nrest = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--wire") == 0 && i + 1 < argc) {
      int out, in;
      if (sscanf(argv[++i], "%d:%d", &out, &in) != 2 || out < 0 || in < 0 || out >= MAX_GPIO || in >= MAX_GPIO ||
          nwires == MAX_WIRES)
        return usage("--wire takes OUT:IN, two GPIO numbers");
      wires[nwires][0] = out;
      wires[nwires][1] = in;
      nwires++;
    } else if (strcmp(argv[i], "--chip") == 0 && i + 1 < argc) {
      struct chip c = {0, 0, "gpio-sim"};
      int len = 0;
      if (nchips == MAX_CHIPS || sscanf(argv[++i], "%d:%d%n", &c.base, &c.ngpio, &len) != 2 || c.base < 0 || c.ngpio <= 0 ||
          c.base + c.ngpio > MAX_GPIO)
        return usage("--chip takes BASE:NGPIO[:LABEL], lines below 2048");
      if (argv[i][len] == ':') snprintf(c.label, sizeof c.label, "%s", argv[i] + len + 1);
      chips[nchips++] = c;
    } else if (strcmp(argv[i], "--stats") == 0) {
      print_stats = 1;
    } else if (strcmp(argv[i], "--udev-delay") == 0 && i + 1 < argc) {
      udev_delay_ms = atol(argv[++i]);
    } else {
      rest[nrest++] = argv[i];
    }
  }
  if (nchips == 0) chips[nchips++] = (struct chip){0, 54, "pinctrl-bcm2835"};
  int status = fuse_main(nrest, rest, &ops, NULL);
  if (print_stats)
    fprintf(stderr, "gpio-sim stats: {\"edges\": %llu, \"open\": %llu, \"read\": %llu, \"write\": %llu, \"poll\": %llu}\n", n_edges, n_open, n_read,
            n_write, n_poll);
  return status;
}
