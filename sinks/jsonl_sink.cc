#include "sinks/jsonl_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sinks/event_fields.h"
#include "sinks/json_writer.h"

namespace sandtrace::sinks {

Result<std::unique_ptr<JsonlSink>> JsonlSink::OpenPath(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open JSONL output " + path + " for writing");
  return std::unique_ptr<JsonlSink>(new JsonlSink(fd, path));
}

Result<std::unique_ptr<JsonlSink>> JsonlSink::AdoptFd(int fd, bool empty_at_begin) {
  const std::string name = "fd " + std::to_string(fd);
  const int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
  if (flags < 0) return Error{EBADF, "JSONL output " + name};
  if ((flags & O_ACCMODE) == O_RDONLY)
    return Error{EBADF, "JSONL output " + name + " is read-only"};
  std::unique_ptr<JsonlSink> sink(new JsonlSink(fd, name));
  sink->empty_at_begin_ = empty_at_begin;
  return sink;
}

Status JsonlSink::Begin() {
  if (!empty_at_begin_) return {};
  empty_at_begin_ = false;
  struct stat st;
  Status emptied;
  if (fstat(fd_, &st) != 0) {
    emptied = ErrnoError("stat JSONL output " + name_);
  } else if (!S_ISREG(st.st_mode)) {
    return {};  // a pipe, a terminal, /dev/null: nothing to empty
  } else if (ftruncate(fd_, 0) != 0) {
    emptied = ErrnoError("empty JSONL output " + name_);
  } else if (lseek(fd_, 0, SEEK_SET) < 0) {
    emptied = ErrnoError("seek JSONL output " + name_);
  }
  if (!emptied) {  // nothing may land on top of the old contents
    close(fd_);
    fd_ = -1;
  }
  return emptied;
}

Result<std::unique_ptr<JsonlSink>> JsonlSink::OpenAppend(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open JSONL output " + path + " for appending");
  std::unique_ptr<JsonlSink> sink(new JsonlSink(fd, path));
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoError("stat JSONL output " + path);
  if (!S_ISREG(st.st_mode)) return PlainError("JSONL output " + path + " is not a regular file");
  return sink;
}

Status JsonlSink::CutBack(uint64_t size) {
  Result<uint64_t> now = FileSize();
  if (!now) return now.error();
  if (*now > size && ftruncate(fd_, static_cast<off_t>(size)) != 0) {
    return ErrnoError("cut JSONL output " + name_ + " back to its last commit");
  }
  return {};
}

Result<uint64_t> JsonlSink::FileSize() const {
  struct stat st;
  if (fd_ < 0 || fstat(fd_, &st) != 0) return ErrnoError("stat JSONL output " + name_);
  return static_cast<uint64_t>(st.st_size) + buffer_.size();
}

JsonlSink::~JsonlSink() {
  if (fd_ >= 0) close(fd_);
}

Status JsonlSink::Write(const msgpack::object& event) { return Write(event, {}); }

Status JsonlSink::Write(const msgpack::object& event, std::string_view run_id) {
  if (fd_ < 0) return PlainError("JSONL output " + name_ + " is closed");
  AppendJson(event, &buffer_);
  if (!run_id.empty() && event.type == msgpack::type::MAP && event.via.map.size > 0 &&
      Field(event, "run_id") == nullptr) {
    buffer_.Commit(buffer_.data() + buffer_.size() - 1);  // reopen the object: drop its '}'
    buffer_.Append(",\"run_id\":");
    AppendJsonString(run_id, &buffer_);
    buffer_.Append('}');
  }
  buffer_.Append('\n');
  if (buffer_.size() >= kJsonlBufferLimit) return WriteOut();
  return {};
}

size_t JsonlSink::AppendEncoded(std::string_view bytes, MapEntryVisitor* visitor) {
  const size_t used = AppendFirstJsonFromMsgpack(bytes, &buffer_, visitor, &keys_);
  if (used > 0) buffer_.Append('\n');
  return used;
}

Status JsonlSink::Flush() {
  if (buffer_.size() == 0) return {};
  const auto now = std::chrono::steady_clock::now();
  if (buffer_.size() >= kJsonlBufferLimit ||
      (kept_since_ && now - *kept_since_ >= std::chrono::milliseconds(kJsonlMaxDelayMs))) {
    return WriteOut();
  }
  if (!kept_since_) kept_since_ = now;
  return {};
}

Status JsonlSink::WriteOut() {
  kept_since_.reset();
  size_t done = 0;
  Status result;
  if (fd_ < 0 && !buffer_.view().empty())
    result = PlainError("JSONL output " + name_ + " is closed");
  while (done < buffer_.size() && fd_ >= 0) {
    const ssize_t n = write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;  // SIGTERM arrived before anything was written
    if (n < 0) {
      result = ErrnoError("write JSONL output " + name_);
      break;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();  // after an error the lines are lost either way; do not grow without bound
  return result;
}

Status JsonlSink::Close() {
  Status flushed = WriteOut();
  if (fd_ < 0) return flushed;
  const int fd = fd_;
  fd_ = -1;
  // A close error on a regular file means an earlier write was lost (NFS, quota).
  if (close(fd) < 0 && errno != EINTR && flushed) return ErrnoError("close JSONL output " + name_);
  return flushed;
}

}  // namespace sandtrace::sinks
