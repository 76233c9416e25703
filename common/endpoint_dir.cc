#include "common/endpoint_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

namespace sandtrace {

namespace {

// How every endpoint directory is opened: never through a symbolic link, and not inherited by a
// program started later.
constexpr int kOpenDirectory = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Unlinks every entry of the open flat directory `fd` (it takes `fd` over).
void RemoveEntries(int fd) {
  DIR* d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  while (const dirent* e = readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      unlinkat(dirfd(d), e->d_name, 0);  // nothing nested: no AT_REMOVEDIR
    }
  }
  closedir(d);
}

// mkdtemp's names: `prefix` and six more characters.
bool IsEndpointDirectoryName(const char* name, const std::string& prefix) {
  return strncmp(name, prefix.c_str(), prefix.size()) == 0 && strlen(name) == prefix.size() + 6;
}

}  // namespace

void RemoveEndpointDirectory(const std::string& path) {
  const int fd = open(path.c_str(), kOpenDirectory);
  if (fd >= 0) RemoveEntries(fd);
  rmdir(path.c_str());
}

int LockEndpointDirectory(const std::string& path) {
  const int fd = open(path.c_str(), kOpenDirectory);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int RemoveAbandonedEndpointDirectories(const std::string& base, const std::string& prefix,
                                       int min_age_s) {
  DIR* parent = opendir(base.c_str());
  if (!parent) return 0;
  const time_t now = time(nullptr);
  const uid_t me = geteuid();
  int removed = 0;
  while (const dirent* e = readdir(parent)) {
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    if (!IsEndpointDirectoryName(e->d_name, prefix)) continue;
    // No symbolic link followed, and everything relative to descriptors: a name swapped for a link
    // meanwhile leads nowhere else.
    const int fd = openat(dirfd(parent), e->d_name, kOpenDirectory);
    if (fd < 0) continue;
    struct stat st;
    // A live owner holds the lock; a directory so new that its owner may not have locked it
    // yet is left alone too.
    if (fstat(fd, &st) != 0 || st.st_uid != me || now - st.st_mtime < min_age_s ||
        flock(fd, LOCK_EX | LOCK_NB) != 0) {
      close(fd);
      continue;
    }
    const int entries = dup(fd);  // RemoveEntries takes it; the lock stays on `fd`
    if (entries >= 0) RemoveEntries(entries);
    if (unlinkat(dirfd(parent), e->d_name, AT_REMOVEDIR) == 0) ++removed;
    close(fd);
  }
  closedir(parent);
  return removed;
}

}  // namespace sandtrace
