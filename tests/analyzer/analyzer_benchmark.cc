// Cost of analysing and encoding one syscall record (target: well under 1 us), on a mix that
// resembles a dynamic-linker start-up: opens with paths, reads, mmaps, fstats, closes, a
// failing probe and a connect. Batches of 256 events, as the stage sends them.
#include <benchmark/benchmark.h>
#include <fcntl.h>

#include <vector>

#include "analyzer/analyzer.h"
#include "tests/analyzer/syscall_records.h"

namespace sandtrace::analyzer {
namespace {

using namespace testing;
using wire::CaptureKind;

std::vector<wire::RawRecord> Mix() {
  std::vector<wire::RawRecord> mix;
  auto open = Syscall(257, {uint64_t(-100), 1, O_RDONLY | O_CLOEXEC}, 3);
  Capture(open, 1, CaptureKind::kString, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  auto probe = Syscall(257, {uint64_t(-100), 1, O_RDONLY | O_CLOEXEC}, -2);
  Capture(probe, 1, CaptureKind::kString,
          "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libm.so.6");
  auto create = Syscall(257, {uint64_t(-100), 1, O_WRONLY | O_CREAT | O_TRUNC, 0644}, 4);
  Capture(create, 1, CaptureKind::kString, "/tmp/output.txt");
  auto connect = Syscall(42, {3, 1, 16}, 0);
  Capture(connect, 1, CaptureKind::kSockaddr, Inet("127.0.0.1", 8080));
  mix.push_back(open);
  mix.push_back(Syscall(0, {3, 1, 832}, 832));
  mix.push_back(Syscall(5, {3, 1}, 0));
  mix.push_back(Syscall(9, {0, 8192, 3, 0x22, uint64_t(-1), 0}, 0x7f0000000000));
  mix.push_back(Syscall(3, {3}, 0));
  mix.push_back(probe);
  mix.push_back(create);
  mix.push_back(Syscall(1, {4, 1, 4096}, 4096));
  mix.push_back(connect);
  mix.push_back(Syscall(228, {1, 1}, 0));
  return mix;
}

void BM_AnalyseSyscallRecord(benchmark::State& state) {
  std::vector<wire::RawRecord> mix = Mix();
  Analyzer analyzer;
  wire::Hello hello;
  hello.start_ns = kBaseNs;
  analyzer.OnHello(hello);
  size_t i = 0;
  for (auto _ : state) {
    analyzer.OnRecord(mix[i % mix.size()]);
    if (analyzer.events().count() >= 256) analyzer.events().Clear();
    ++i;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

BENCHMARK(BM_AnalyseSyscallRecord);

}  // namespace
}  // namespace sandtrace::analyzer

BENCHMARK_MAIN();
