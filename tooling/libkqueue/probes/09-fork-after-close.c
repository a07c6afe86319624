/* A kqueue closed by the application, its number reused at once (a pipe, as a spawn's stdio),
 * then fork(): the child must still have that pipe. FreeBSD's kqueue(2): "The queue is not
 * inherited by a child created with fork(2)" - the queue, not whatever file has its number
 * now. libkqueue's atfork child handler closes the kqueue's descriptor number in the child
 * while the monitoring thread has not yet freed the closed kqueue, so the child loses the
 * application's pipe (node's spawn then fails with EBADF when it dup2()s it to stdout). */
#include "common.h"
#include <fcntl.h>
#include <sys/wait.h>
int main(void) {
  int lost = 0, rounds = 2000;
  for (int i = 0; i < rounds; i++) {
    int kq = kqueue();
    close(kq);
    int p[2];
    if (pipe(p) < 0) return 2;
    int reused = p[0] == kq ? p[0] : p[1] == kq ? p[1] : -1;
    pid_t pid = fork();
    if (pid == 0) _exit(reused >= 0 && fcntl(reused, F_GETFD) < 0 ? 1 : 0);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 1) lost++;
    close(p[0]);
    close(p[1]);
  }
  printf("%d of %d children lost the application's descriptor that reused a closed kqueue's number\n", lost, rounds);
  printf("RESULT: %s\n", lost == 0 ? "as on BSD" : "DEVIATES from BSD");
  return 0;
}
