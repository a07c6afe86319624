// gpio-sim: the Linux sysfs GPIO interface (/sys/class/gpio, Documentation/gpio/sysfs.txt)
// as a FUSE file system, for running GPIO programs where there are no GPIOs.
//
//   gpio-sim <mountpoint> [--wire OUT:IN]... [-f]
//
// `export` and `unexport` take a GPIO number, as the kernel's do, and make or remove gpioN/
// with `direction` (in, out, high, low), `edge` (none, rising, falling, both) and `value`.
// A wire joins an output to an input: writing the output's value drives the input, as a
// jumper between two pins would. An input whose level changes in the direction its `edge`
// asks for signals an interrupt the way sysfs does: poll() on an open `value` reports
// POLLPRI | POLLERR until that open file is read again (kernfs keeps a per-open event count
// and compares it with the attribute's: fs/kernfs/file.c, kernfs_generic_poll), and a file
// opened but not yet read reports one at once.
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fuse.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_GPIO 1024
#define MAX_WIRES 64
#define MAX_OPEN 256
#define NOT_VALUE UINT64_MAX

enum edge { EDGE_NONE, EDGE_RISING, EDGE_FALLING, EDGE_BOTH };
static const char *edge_names[] = {"none", "rising", "falling", "both"};

struct gpio {
  int exported;
  int output;
  int value;
  enum edge edge;
  unsigned events;  // interrupts so far
};

// One open `value` file: the interrupts it has seen (updated by read) and its poll handle.
struct open_value {
  int used;
  int gpio;
  unsigned seen;
  struct fuse_pollhandle *ph;
};

static struct gpio gpios[MAX_GPIO];
static struct open_value opens[MAX_OPEN];
static int wires[MAX_WIRES][2];
static int nwires;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

enum kind { K_NONE, K_ROOT, K_EXPORT, K_UNEXPORT, K_DIR, K_DIRECTION, K_EDGE, K_VALUE };

// "/gpio17/value" -> K_VALUE, *n = 17
static enum kind parse(const char *path, int *n) {
  if (strcmp(path, "/") == 0) return K_ROOT;
  if (strcmp(path, "/export") == 0) return K_EXPORT;
  if (strcmp(path, "/unexport") == 0) return K_UNEXPORT;
  int len = 0;
  if (sscanf(path, "/gpio%d%n", n, &len) != 1 || *n < 0 || *n >= MAX_GPIO || !gpios[*n].exported) return K_NONE;
  const char *rest = path + len;
  if (*rest == '\0') return K_DIR;
  if (strcmp(rest, "/direction") == 0) return K_DIRECTION;
  if (strcmp(rest, "/edge") == 0) return K_EDGE;
  if (strcmp(rest, "/value") == 0) return K_VALUE;
  return K_NONE;
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
      st->st_mode = S_IFDIR | 0755;
      st->st_nlink = 2;
      return 0;
    case K_EXPORT:
    case K_UNEXPORT:
      st->st_mode = S_IFREG | 0200;
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
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  if (k == K_ROOT) {
    fill(buf, "export", NULL, 0, 0);
    fill(buf, "unexport", NULL, 0, 0);
    for (int i = 0; i < MAX_GPIO; i++) {
      if (!gpios[i].exported) continue;
      char name[32];
      snprintf(name, sizeof name, "gpio%d", i);
      fill(buf, name, NULL, 0, 0);
    }
  } else if (k == K_DIR) {
    fill(buf, "direction", NULL, 0, 0);
    fill(buf, "edge", NULL, 0, 0);
    fill(buf, "value", NULL, 0, 0);
  }
  pthread_mutex_unlock(&lock);
  return k == K_ROOT || k == K_DIR ? 0 : -ENOTDIR;
}

static int sim_open(const char *path, struct fuse_file_info *fi) {
  int n = -1;
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  int err = 0;
  if (k == K_NONE) err = -ENOENT;
  fi->fh = NOT_VALUE;
  if (k == K_VALUE) {
    int slot = -1;
    for (int i = 0; i < MAX_OPEN && slot < 0; i++)
      if (!opens[i].used) slot = i;
    if (slot < 0) {
      err = -ENFILE;
    } else {
      // An open that has not read yet reports an interrupt at once: kernfs starts each
      // attribute's event count at 1 and each open file's at 0 (fs/kernfs/file.c). That is
      // why watch-button reads before it watches, and interrupts-per-second does not.
      opens[slot] = (struct open_value){1, n, gpios[n].events - 1, NULL};
      fi->fh = (uint64_t)slot;
    }
  }
  pthread_mutex_unlock(&lock);
  // Every read reaches us, as every read of a sysfs attribute reaches its driver.
  fi->direct_io = 1;
  fi->nonseekable = 0;
  return err;
}

static int sim_release(const char *path, struct fuse_file_info *fi) {
  (void)path;  // its gpioN/ may be unexported by now
  pthread_mutex_lock(&lock);
  if (fi->fh != NOT_VALUE) {
    struct open_value *o = &opens[fi->fh];
    if (o->ph != NULL) fuse_pollhandle_destroy(o->ph);
    memset(o, 0, sizeof *o);
  }
  pthread_mutex_unlock(&lock);
  return 0;
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
  char text[16];
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  int r;
  switch (k) {
    case K_DIRECTION:
      r = reply(buf, size, off, gpios[n].output ? "out\n" : "in\n");
      break;
    case K_EDGE:
      snprintf(text, sizeof text, "%s\n", edge_names[gpios[n].edge]);
      r = reply(buf, size, off, text);
      break;
    case K_VALUE:
      // Reading from the start acknowledges the interrupt: kernfs updates the open file's event
      // count in seq_show, which runs for a read at offset 0, not for one further on.
      if (off == 0) opens[fi->fh].seen = gpios[n].events;
      r = reply(buf, size, off, gpios[n].value ? "1\n" : "0\n");
      break;
    case K_NONE:
      r = -ENOENT;
      break;
    default:
      r = -EIO;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

// With the lock held: an input's level changes; count an interrupt where its edge asks.
static void drive(int n, int value) {
  struct gpio *g = &gpios[n];
  if (!g->exported || g->output || g->value == value) return;
  g->value = value;
  int rising = value == 1;
  if (g->edge == EDGE_BOTH || (g->edge == EDGE_RISING && rising) || (g->edge == EDGE_FALLING && !rising)) {
    g->events++;
    for (int i = 0; i < MAX_OPEN; i++) {
      if (opens[i].used && opens[i].gpio == n && opens[i].ph != NULL) {
        fuse_notify_poll(opens[i].ph);
        fuse_pollhandle_destroy(opens[i].ph);
        opens[i].ph = NULL;
      }
    }
  }
}

static void set_output(int n, int value) {
  gpios[n].value = value;
  for (int i = 0; i < nwires; i++)
    if (wires[i][0] == n) drive(wires[i][1], value);
}

static int sim_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)off, (void)fi;
  int n = -1;
  char text[32];
  size_t len = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, buf, len);
  text[len] = '\0';
  text[strcspn(text, "\n")] = '\0';
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  int r = (int)size;
  if (k == K_EXPORT || k == K_UNEXPORT) {
    char *end;
    long g = strtol(text, &end, 10);
    if (end == text || *end != '\0' || g < 0 || g >= MAX_GPIO) {
      r = -EINVAL;
    } else if (k == K_EXPORT) {
      if (gpios[g].exported) r = -EBUSY;
      else gpios[g] = (struct gpio){1, 0, 0, EDGE_NONE, 0};
      // An input on a wire reads what its output drives.
      for (int i = 0; i < nwires && r > 0; i++)
        if (wires[i][1] == g && gpios[wires[i][0]].exported && gpios[wires[i][0]].output)
          gpios[g].value = gpios[wires[i][0]].value;
    } else {
      if (!gpios[g].exported) r = -EINVAL;
      else gpios[g].exported = 0;
    }
  } else if (k == K_DIRECTION) {
    if (strcmp(text, "in") == 0) {
      gpios[n].output = 0;
    } else if (strcmp(text, "out") == 0 || strcmp(text, "low") == 0 || strcmp(text, "high") == 0) {
      gpios[n].output = 1;
      set_output(n, strcmp(text, "high") == 0);
    } else {
      r = -EINVAL;
    }
  } else if (k == K_EDGE) {
    int e = -1;
    for (int i = 0; i < 4; i++)
      if (strcmp(text, edge_names[i]) == 0) e = i;
    if (e < 0) r = -EINVAL;
    else if (gpios[n].output) r = -EIO;  // the kernel refuses interrupts on an output
    else gpios[n].edge = (enum edge)e;
  } else if (k == K_VALUE) {
    if (!gpios[n].output) r = -EPERM;
    else if (text[0] != '0' && text[0] != '1') r = -EINVAL;
    else set_output(n, text[0] == '1');
  } else {
    r = k == K_NONE ? -ENOENT : -EISDIR;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

static int sim_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  (void)path, (void)size, (void)fi;
  return 0;  // `echo 4 > export` opens with O_TRUNC; sysfs ignores it
}

static int sim_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph, unsigned *reventsp) {
  int n = -1;
  pthread_mutex_lock(&lock);
  enum kind k = parse(path, &n);
  unsigned revents = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;  // kernfs's DEFAULT_POLLMASK
  if (k == K_VALUE) {
    struct open_value *o = &opens[fi->fh];
    if (ph != NULL) {
      if (o->ph != NULL) fuse_pollhandle_destroy(o->ph);
      o->ph = ph;
      ph = NULL;
    }
    if (o->seen != gpios[n].events) revents |= POLLERR | POLLPRI;
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
    .release = sim_release,
    .read = sim_read,
    .write = sim_write,
    .truncate = sim_truncate,
    .poll = sim_poll,
    .init = sim_init,
};

int main(int argc, char *argv[]) {
  // Our --wire options out, the rest (mountpoint, -f, -o …) to libfuse.
  char **rest = calloc((size_t)argc + 1, sizeof *rest);
  int nrest = 0;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--wire") == 0 && i + 1 < argc) {
      int out, in;
      if (sscanf(argv[++i], "%d:%d", &out, &in) != 2 || out < 0 || in < 0 || out >= MAX_GPIO || in >= MAX_GPIO ||
          nwires == MAX_WIRES) {
        fprintf(stderr, "gpio-sim: --wire takes OUT:IN, two GPIO numbers below %d\n", MAX_GPIO);
        return 2;
      }
      wires[nwires][0] = out;
      wires[nwires][1] = in;
      nwires++;
    } else {
      rest[nrest++] = argv[i];
    }
  }
  return fuse_main(nrest, rest, &ops, NULL);
}
