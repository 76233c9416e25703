// st-probe-ipc OP...: host IPC objects from inside, one RESULT line per OP (label = the OP).
//   msg:KEY     msgget(KEY, 0) (KEY in hex); if found, msgsnd "st-probe-msg" (IPC_NOWAIT)
//   shm:KEY     shmget(KEY, 0, 0); if found, shmat, data=<first 64 bytes>, then writes
//               "st-probe-shm" at offset 0 (written=1)
//   sem:KEY     semget(KEY, 0, 0)
//   mq:/NAME    mq_open(NAME, O_WRONLY | O_NONBLOCK); if found, mq_send "st-probe-mq"
#include <fcntl.h>
#include <mqueue.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "probe.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* label = argv[i];
    const char* arg = strchr(label, ':');
    if (!arg) return 2;
    ++arg;
    key_t key = (key_t)strtoul(arg, NULL, 16);
    if (strncmp(label, "msg:", 4) == 0) {
      int id = msgget(key, 0);
      if (id < 0) {
        probe_report(label, -1, errno, NULL);
        continue;
      }
      struct {
        long type;
        char text[16];
      } msg = {1, "st-probe-msg"};
      int sent = msgsnd(id, &msg, sizeof msg.text, IPC_NOWAIT) == 0;
      probe_report(label, 0, 0, "id=%d sent=%d", id, sent);
    } else if (strncmp(label, "shm:", 4) == 0) {
      int id = shmget(key, 0, 0);
      if (id < 0) {
        probe_report(label, -1, errno, NULL);
        continue;
      }
      char* mem = shmat(id, NULL, 0);
      if (mem == (void*)-1) {
        probe_report(label, 0, 0, "id=%d attach=%s", id, probe_errname(errno));
        continue;
      }
      char data[4 * 64 + 8];
      probe_escape(mem, strnlen(mem, 64), data, sizeof data);
      memcpy(mem, "st-probe-shm", 12);
      probe_report(label, 0, 0, "id=%d data=%s written=1", id, data);
      shmdt(mem);
    } else if (strncmp(label, "sem:", 4) == 0) {
      PROBE(label, semget(key, 0, 0));
    } else if (strncmp(label, "mq:", 3) == 0) {
      mqd_t q = mq_open(arg, O_WRONLY | O_NONBLOCK);
      if (q == (mqd_t)-1) {
        probe_report(label, -1, errno, NULL);
        continue;
      }
      int sent = mq_send(q, "st-probe-mq", 11, 0) == 0;
      probe_report(label, 0, 0, "sent=%d", sent);
      mq_close(q);
    } else {
      return 2;
    }
  }
  return 0;
}
