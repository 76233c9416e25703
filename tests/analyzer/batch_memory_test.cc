#include "analyzer/batch_memory.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace sandtrace::analyzer {
namespace {

wire::MsgpackWriter::Memory Filled(const char* text) {
  wire::MsgpackWriter::Memory memory{static_cast<char*>(std::malloc(64)), std::strlen(text), 64};
  std::memcpy(memory.data, text, memory.size);
  return memory;
}

TEST(BatchMemory, MemoryComesBackAfterItsLastUse) {
  BatchMemory batches;
  const wire::MsgpackWriter::Memory memory = Filled("batch");
  const wire::InPlaceBody body = batches.Share(memory, 3);
  EXPECT_EQ(std::string(body.data, body.size), "batch");
  body.release(memory.data, body.hint);
  body.release(memory.data, body.hint);
  const wire::MsgpackWriter::Memory fresh = batches.Take(32);  // not back yet
  EXPECT_NE(fresh.data, memory.data);
  EXPECT_EQ(fresh.capacity, 64u);  // as large as the largest batch
  std::free(fresh.data);
  body.release(memory.data, body.hint);
  const wire::MsgpackWriter::Memory again = batches.Take(32);
  EXPECT_EQ(again.data, memory.data);
  EXPECT_EQ(again.capacity, 64u);
  std::free(again.data);
}

TEST(BatchMemory, ReleasesFromOtherThreads) {
  BatchMemory batches;
  std::vector<wire::InPlaceBody> bodies;
  for (int i = 0; i < 20; ++i) bodies.push_back(batches.Share(Filled("x"), 2));
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (const wire::InPlaceBody& body : bodies) {
        body.release(const_cast<char*>(body.data), body.hint);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Some came back to be reused, the rest was freed (the sanitizer builds check for leaks).
  const wire::MsgpackWriter::Memory reused = batches.Take(8);
  EXPECT_EQ(reused.capacity, 64u);
  std::free(reused.data);
}

}  // namespace
}  // namespace sandtrace::analyzer
