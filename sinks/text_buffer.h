// A growable byte buffer for the hot output paths (JSONL lines). Unlike std::string::resize,
// reserving room does not zero it, so a writer can ask for a generous upper bound, write
// through a raw pointer and commit only what it used.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace sandtrace::sinks {

class TextBuffer {
 public:
  // A pointer to room for at least `bytes` more bytes after the current contents.
  char* Reserve(size_t bytes) {
    if (size_ + bytes > capacity_) Grow(size_ + bytes);
    return data_.get() + size_;
  }
  // One past the last byte of the reserved room (valid until the next Reserve).
  char* limit() { return data_.get() + capacity_; }
  // Marks everything up to `end` (inside the last Reserve) as written.
  void Commit(const char* end) { size_ = static_cast<size_t>(end - data_.get()); }

  void Append(std::string_view text) {
    char* out = Reserve(text.size());
    std::memcpy(out, text.data(), text.size());
    size_ += text.size();
  }
  void Append(char c) {
    *Reserve(1) = c;
    ++size_;
  }

  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_.get(), size_}; }
  void clear() { size_ = 0; }

 private:
  void Grow(size_t needed) {
    size_t capacity = capacity_ == 0 ? 4096 : capacity_;
    while (capacity < needed) capacity *= 2;
    std::unique_ptr<char[]> grown(new char[capacity]);  // deliberately uninitialised
    if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace sandtrace::sinks
