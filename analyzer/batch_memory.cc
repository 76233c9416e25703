#include "analyzer/batch_memory.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace sandtrace::analyzer {

BatchMemory::~BatchMemory() {
  for (const wire::MsgpackWriter::Memory& memory : kept_) std::free(memory.data);
}

wire::InPlaceBody BatchMemory::Share(wire::MsgpackWriter::Memory memory, int uses) {
  largest_ = std::max(largest_, memory.capacity);
  Batch* batch = new Batch{this, memory, uses};
  return {memory.data, memory.size, &BatchMemory::Release, batch};
}

void BatchMemory::Release(void* /*data*/, void* hint) {
  Batch* batch = static_cast<Batch*>(hint);
  if (batch->uses.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  BatchMemory* owner = batch->owner;
  wire::MsgpackWriter::Memory memory = batch->memory;
  delete batch;
  {
    std::lock_guard<std::mutex> lock(owner->mutex_);
    if (owner->kept_.size() < kMaxKept) {
      owner->kept_.push_back(memory);
      return;
    }
  }
  std::free(memory.data);
}

wire::MsgpackWriter::Memory BatchMemory::Take(size_t capacity) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!kept_.empty()) {
      wire::MsgpackWriter::Memory memory = kept_.back();
      kept_.pop_back();
      return memory;
    }
  }
  capacity = std::max(capacity, largest_);
  char* data = static_cast<char*>(std::malloc(capacity));
  if (data == nullptr) throw std::bad_alloc();
  return {data, 0, capacity};
}

}  // namespace sandtrace::analyzer
