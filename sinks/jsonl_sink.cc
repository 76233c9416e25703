#include "sinks/jsonl_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "sinks/json_writer.h"

namespace sandtrace::sinks {

Result<std::unique_ptr<JsonlSink>> JsonlSink::OpenPath(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open JSONL output " + path + " for writing");
  return std::unique_ptr<JsonlSink>(new JsonlSink(fd, path));
}

Result<std::unique_ptr<JsonlSink>> JsonlSink::AdoptFd(int fd) {
  const std::string name = "fd " + std::to_string(fd);
  const int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
  if (flags < 0) return Error{EBADF, "JSONL output " + name};
  if ((flags & O_ACCMODE) == O_RDONLY)
    return Error{EBADF, "JSONL output " + name + " is read-only"};
  return std::unique_ptr<JsonlSink>(new JsonlSink(fd, name));
}

JsonlSink::~JsonlSink() {
  if (fd_ >= 0) close(fd_);
}

Status JsonlSink::Write(const msgpack::object& event) {
  if (fd_ < 0) return PlainError("JSONL output " + name_ + " is closed");
  AppendJson(event, &buffer_);
  buffer_.Append('\n');
  if (buffer_.size() >= kJsonlBufferLimit) return Flush();
  return {};
}

Status JsonlSink::Flush() {
  size_t done = 0;
  Status result;
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
  Status flushed = Flush();
  if (fd_ < 0) return flushed;
  const int fd = fd_;
  fd_ = -1;
  // A close error on a regular file means an earlier write was lost (NFS, quota).
  if (close(fd) < 0 && errno != EINTR && flushed) return ErrnoError("close JSONL output " + name_);
  return flushed;
}

}  // namespace sandtrace::sinks
