// Heap tuning for the pipeline's stages, which allocate and free about a megabyte per message
// (a received body, its decoded objects, an output batch). With glibc's defaults the freed top
// of the heap goes back to the kernel after each message and the next one faults it in again
// (page faults were a tenth of the analyser's CPU time and 40% of a sink's); keeping up to
// 16 MiB of free heap and serving blocks up to 4 MiB from it avoids that, at a bounded cost in
// resident memory.
#pragma once

#include <malloc.h>

namespace sandtrace {

inline void TuneMallocForBatches() {
  mallopt(M_TRIM_THRESHOLD, 16 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

}  // namespace sandtrace
