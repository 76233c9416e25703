// st-files DIR PORT: file and socket syscalls whose arguments the analyser decodes.
//  - openat(AT_FDCWD, DIR/created.txt, O_WRONLY|O_CREAT|O_TRUNC, 0640), write "hello\n", close
//  - openat(AT_FDCWD, DIR/created.txt, O_RDONLY), read, close
//  - mkdir DIR/subdir 0755, rename DIR/created.txt -> DIR/subdir/renamed.txt,
//    unlink DIR/subdir/renamed.txt, rmdir DIR/subdir
//  - openat of DIR/does-not-exist (fails with ENOENT)
//  - connect() to 127.0.0.1:PORT (AF_INET), [::1]:PORT (AF_INET6), the unix socket DIR/sock
//    and the abstract unix socket "@sandtrace-test" (failures are fine: only arguments matter)
// Exit 0.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char path[4096];

static const char* in_dir(const char* dir, const char* name) {
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: st-files DIR PORT\n");
    return 2;
  }
  const char* dir = argv[1];
  int port = atoi(argv[2]);
  char buf[64];

  int fd = openat(AT_FDCWD, in_dir(dir, "created.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0640);
  if (fd < 0) return 1;
  if (write(fd, "hello\n", 6) != 6) return 1;
  close(fd);
  fd = openat(AT_FDCWD, in_dir(dir, "created.txt"), O_RDONLY);
  if (fd < 0) return 1;
  if (read(fd, buf, sizeof buf) != 6) return 1;
  close(fd);
  char renamed[4096];
  mkdir(in_dir(dir, "subdir"), 0755);
  snprintf(renamed, sizeof renamed, "%s/subdir/renamed.txt", dir);
  rename(in_dir(dir, "created.txt"), renamed);
  unlink(renamed);
  rmdir(in_dir(dir, "subdir"));
  fd = openat(AT_FDCWD, in_dir(dir, "does-not-exist"), O_RDONLY);
  if (fd >= 0) close(fd);

  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof a4);
  a4.sin_family = AF_INET;
  a4.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
  connect(s, (struct sockaddr*)&a4, sizeof a4);
  close(s);

  s = socket(AF_INET6, SOCK_STREAM, 0);
  struct sockaddr_in6 a6;
  memset(&a6, 0, sizeof a6);
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons((uint16_t)port);
  inet_pton(AF_INET6, "::1", &a6.sin6_addr);
  connect(s, (struct sockaddr*)&a6, sizeof a6);
  close(s);

  s = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un au;
  memset(&au, 0, sizeof au);
  au.sun_family = AF_UNIX;
  snprintf(au.sun_path, sizeof au.sun_path, "%s/sock", dir);
  connect(s, (struct sockaddr*)&au, (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
                                                strlen(au.sun_path) + 1));
  close(s);

  s = socket(AF_UNIX, SOCK_STREAM, 0);
  memset(&au, 0, sizeof au);
  au.sun_family = AF_UNIX;
  const char abstract[] = "sandtrace-test";
  memcpy(au.sun_path + 1, abstract, sizeof abstract - 1);
  connect(s, (struct sockaddr*)&au,
          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + sizeof abstract - 1));
  close(s);
  return 0;
}
