/* fdprobe: prints the descriptors this process has open, one per line, before it opens any of
 * its own; spawned as a child, that is exactly what it inherited. Portable where /proc is not. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>

int main(void) {
  struct rlimit limit;
  long max = 65536;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY && (long)limit.rlim_cur < max) {
    max = (long)limit.rlim_cur;
  }
  for (long fd = 0; fd < max; fd++) {
    if (fcntl((int)fd, F_GETFD) != -1) printf("%ld\n", fd);
  }
  return 0;
}
