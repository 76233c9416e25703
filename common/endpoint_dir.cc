#include "common/endpoint_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace sandtrace {

void RemoveEndpointDirectory(const std::string& path) {
  if (DIR* d = opendir(path.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
        unlinkat(dirfd(d), e->d_name, 0);  // nothing nested: no AT_REMOVEDIR
      }
    }
    closedir(d);
  }
  rmdir(path.c_str());
}

}  // namespace sandtrace
