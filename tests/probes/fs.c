// st-probe-fs OP...: filesystem attacks, one RESULT line per OP (label = the OP as given).
//   write:PATH            create/truncate PATH and write "st-probe-written\n"
//   read:PATH             open + read up to 4 KiB; data=<escaped bytes> (so a leaked secret shows)
//   exists:PATH           faccessat(F_OK) without following a final symlink
//   ls:PATH               list a directory: entries=a,b,c (sorted, without . and ..)
//   symlink:TARGET:LINK   symlink(TARGET, LINK)
//   link:OLD:NEW          link(OLD, NEW) (a hard link)
//   rename:OLD:NEW        rename(OLD, NEW)
//   exchange:A:B          renameat2(A, B, RENAME_EXCHANGE)
//   mkdir:PATH            mkdir(PATH, 0755)
//   mknod:PATH            mknod(PATH, S_IFCHR, makedev(1, 3)) (a second /dev/null)
//   unlink:PATH           unlink(PATH)
#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "probe.h"

static int cmp(const void* a, const void* b) { return strcmp(*(char* const*)a, *(char* const*)b); }

static void do_write(const char* label, const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return probe_report(label, -1, errno, NULL);
  static const char text[] = "st-probe-written\n";
  ssize_t n = write(fd, text, sizeof text - 1);
  int e = errno;
  close(fd);
  probe_report(label, n == (ssize_t)(sizeof text - 1) ? 0 : -1, n < 0 ? e : EIO, NULL);
}

static void do_read(const char* label, const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return probe_report(label, -1, errno, NULL);
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  int e = errno;
  close(fd);
  if (n < 0) return probe_report(label, -1, e, NULL);
  static char escaped[4 * sizeof buf + 8];
  probe_escape(buf, (size_t)n, escaped, sizeof escaped);
  probe_report(label, 0, 0, "bytes=%zd data=%s", n, escaped);
}

static void do_ls(const char* label, const char* path) {
  DIR* d = opendir(path);
  if (!d) return probe_report(label, -1, errno, NULL);
  char* names[4096];
  size_t count = 0;
  struct dirent* e;
  while ((e = readdir(d)) && count < 4096) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof names[0], cmp);
  static char list[65536];
  size_t o = 0;
  list[0] = '\0';
  for (size_t i = 0; i < count && o + 300 < sizeof list; ++i) {
    o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? "," : "", names[i]);
  }
  probe_report(label, 0, 0, "count=%zu entries=%s", count, list);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* op = strdup(argv[i]);
    char* a = strchr(op, ':');
    if (!a) {
      fprintf(stderr, "st-probe-fs: bad op %s\n", argv[i]);
      return 2;
    }
    *a++ = '\0';
    char* b = strchr(a, ':');
    if (b) *b++ = '\0';
    const char* label = argv[i];
    long ret = 0;
    if (strcmp(op, "write") == 0) {
      do_write(label, a);
      continue;
    } else if (strcmp(op, "read") == 0) {
      do_read(label, a);
      continue;
    } else if (strcmp(op, "ls") == 0) {
      do_ls(label, a);
      continue;
    } else if (strcmp(op, "exists") == 0) {
      ret = faccessat(AT_FDCWD, a, F_OK, AT_SYMLINK_NOFOLLOW);
    } else if (strcmp(op, "mkdir") == 0) {
      ret = mkdir(a, 0755);
    } else if (strcmp(op, "mknod") == 0) {
      ret = mknod(a, S_IFCHR | 0666, makedev(1, 3));
    } else if (strcmp(op, "unlink") == 0) {
      ret = unlink(a);
    } else if (b && strcmp(op, "symlink") == 0) {
      ret = symlink(a, b);
    } else if (b && strcmp(op, "link") == 0) {
      ret = link(a, b);
    } else if (b && strcmp(op, "rename") == 0) {
      ret = rename(a, b);
    } else if (b && strcmp(op, "exchange") == 0) {
      ret = syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
    } else {
      fprintf(stderr, "st-probe-fs: bad op %s\n", argv[i]);
      return 2;
    }
    probe_report(label, ret, errno, NULL);
  }
  return 0;
}
