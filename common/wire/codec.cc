#include "common/wire/codec.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <type_traits>

#include "common/wire/msgpack_reader.h"
#include "common/wire/record_fields.h"

namespace sandtrace::wire {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

enum RecordTag : uint8_t { kSyscallTag = 1, kSpawnTag = 2, kExecTag = 3, kExitTag = 4 };

void PackString(Packer& p, const std::string& s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackBin(Packer& p, const std::string& s) {
  p.pack_bin(static_cast<uint32_t>(s.size()));
  p.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

// Room for what every syscall record has, up to the size of its captures' array, at its widest
// (1 + 2 + 3 * 5 + 1 + 6 * 9 + 9 + 2 * 9 + 1 + 2 + 5 bytes). The tracer encodes one such head
// per traced call: as the packer's stream, it turns the packer's twenty-odd small writes into
// plain stores, and the batch takes them in one write.
struct SyscallHeadBuffer {
  char data[108];
  size_t size = 0;
  void write(const char* bytes, size_t n) {
    if (n > sizeof data - size) abort();  // a field added to the head without making room
    memcpy(data + size, bytes, n);
    size += n;
  }
};

struct RecordEncoder {
  explicit RecordEncoder(msgpack::sbuffer& buffer) : out(buffer), p(buffer) {}
  msgpack::sbuffer& out;
  Packer p;
  void operator()(const SyscallRecord& r) {
    SyscallHeadBuffer head;
    msgpack::packer<SyscallHeadBuffer> h(head);
    h.pack_array(11);
    h.pack_uint8(kSyscallTag);
    h.pack_int32(r.tid);
    h.pack_int32(r.tgid);
    h.pack_int32(r.nr);
    h.pack_array(6);
    for (uint64_t a : r.args) h.pack_uint64(a);
    h.pack_int64(r.ret);
    h.pack_uint64(r.entry_ns);
    h.pack_uint64(r.duration_ns);
    h.pack(r.returned);
    h.pack_uint8(static_cast<uint8_t>(r.action));
    h.pack_array(static_cast<uint32_t>(r.captures.size()));
    out.write(head.data, head.size);
    for (const Capture& c : r.captures) {
      p.pack_array(4);
      p.pack_uint8(c.arg);
      p.pack_uint8(static_cast<uint8_t>(c.kind));
      p.pack(c.truncated);
      PackBin(p, c.bytes);
    }
  }
  void operator()(const SpawnRecord& r) {
    p.pack_array(6);
    p.pack_uint8(kSpawnTag);
    p.pack_int32(r.tid);
    p.pack_int32(r.tgid);
    p.pack_int32(r.parent_tid);
    p.pack(r.thread);
    p.pack_uint64(r.ts_ns);
  }
  void operator()(const ExecRecord& r) {
    p.pack_array(6);
    p.pack_uint8(kExecTag);
    p.pack_int32(r.tid);
    p.pack_int32(r.former_tid);
    p.pack_uint64(r.ts_ns);
    PackString(p, r.path);
    PackString(p, r.comm);
  }
  void operator()(const ExitRecord& r) {
    p.pack_array(7);
    p.pack_uint8(kExitTag);
    p.pack_int32(r.tid);
    p.pack_int32(r.tgid);
    p.pack_uint64(r.ts_ns);
    p.pack(r.signaled);
    p.pack_int32(r.status);
    p.pack(r.core_dumped);
  }
};

// Reads fields of a MessagePack array in order; the first failure is kept and reported.
class ArrayReader {
 public:
  ArrayReader(const msgpack::object& o, uint32_t min_size, const char* what) : what_(what) {
    if (o.type != msgpack::type::ARRAY || o.via.array.size < min_size) {
      failed_ = true;
    } else {
      items_ = o.via.array.ptr;
      size_ = o.via.array.size;
    }
  }
  template <typename T>
  T Get() {
    if (failed_ || pos_ >= size_) {
      failed_ = true;
      return T{};
    }
    try {
      return items_[pos_++].as<T>();
    } catch (const msgpack::type_error&) {
      failed_ = true;
      return T{};
    }
  }
  std::string Bytes() {
    if (failed_ || pos_ >= size_) {
      failed_ = true;
      return {};
    }
    const msgpack::object& o = items_[pos_++];
    if (o.type == msgpack::type::STR) return std::string(o.via.str.ptr, o.via.str.size);
    if (o.type == msgpack::type::BIN) return std::string(o.via.bin.ptr, o.via.bin.size);
    failed_ = true;
    return {};
  }
  const msgpack::object* Next() {
    if (failed_ || pos_ >= size_) {
      failed_ = true;
      return nullptr;
    }
    return &items_[pos_++];
  }
  Status status() const {
    if (failed_) return PlainError(std::string("malformed ") + what_);
    return {};
  }

 private:
  const msgpack::object* items_ = nullptr;
  uint32_t size_ = 0;
  uint32_t pos_ = 0;
  bool failed_ = false;
  const char* what_;
};

// Reads the items of one MessagePack array straight from the bytes, in order, converting
// scalars with msgpack-c's rules (an integer must fit the type, a bool must be a bool). The
// first failure is kept: `malformed_msgpack` when the bytes themselves are bad, otherwise a
// value of the wrong type or a missing item.
class ItemReader {
 public:
  ItemReader(MsgpackReader* in, uint32_t size) : in_(in), left_(size) {}

  template <typename T>
  T Get() {
    MsgpackItem item;
    if (!Next(&item)) return T{};
    if constexpr (std::is_same_v<T, bool>) {
      if (item.kind == MsgpackKind::kBool) return item.boolean;
    } else if constexpr (std::is_unsigned_v<T>) {
      if (item.kind == MsgpackKind::kUint && item.u64 <= std::numeric_limits<T>::max()) {
        return static_cast<T>(item.u64);
      }
    } else {
      if (item.kind == MsgpackKind::kUint &&
          item.u64 <= static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return static_cast<T>(item.u64);
      }
      if (item.kind == MsgpackKind::kInt && item.i64 >= std::numeric_limits<T>::min()) {
        return static_cast<T>(item.i64);
      }
    }
    Fail(item);
    return T{};
  }

  // STR or BIN bytes.
  std::string Bytes() {
    MsgpackItem item;
    if (!Next(&item)) return {};
    if (item.kind == MsgpackKind::kStr || item.kind == MsgpackKind::kBin) {
      return std::string(item.data, item.size);
    }
    Fail(item);
    return {};
  }

  // The header of a nested array of at least `min_size` items (its items follow in `in`).
  bool Array(uint32_t min_size, uint32_t* size) {
    MsgpackItem item;
    if (!Next(&item)) return false;
    if (item.kind == MsgpackKind::kArray && item.size >= min_size) {
      *size = item.size;
      return true;
    }
    Fail(item);
    return false;
  }

  // Skips the items not read (a newer encoder may append some).
  bool SkipRest() {
    for (; left_ > 0 && !failed_; --left_) {
      if (!in_->Skip()) failed_ = malformed_msgpack_ = true;
    }
    return !failed_;
  }

  bool failed() const { return failed_; }
  bool malformed_msgpack() const { return malformed_msgpack_; }

 private:
  bool Next(MsgpackItem* item) {
    if (failed_ || left_ == 0) {
      failed_ = true;
      return false;
    }
    --left_;
    if (!in_->Next(item)) {
      failed_ = malformed_msgpack_ = true;
      return false;
    }
    return true;
  }
  // A value of the wrong type: still skip what it contains, so that a later error message
  // says what was wrong first.
  void Fail(const MsgpackItem& item) {
    failed_ = true;
    if (!in_->SkipElements(item)) malformed_msgpack_ = true;
  }

  MsgpackReader* in_;
  uint32_t left_;
  bool failed_ = false;
  bool malformed_msgpack_ = false;
};

Status ReaderError(const ItemReader& in, const char* what) {
  if (in.malformed_msgpack()) return PlainError("msgpack: malformed or truncated object");
  return PlainError(std::string("malformed ") + what);
}

Status DecodeSyscall(MsgpackReader* bytes, uint32_t size, SyscallRecord* r) {
  if (size < 11) return PlainError("malformed syscall record");
  ItemReader in(bytes, size - 1);
  r->tid = in.Get<int32_t>();
  r->tgid = in.Get<int32_t>();
  r->nr = in.Get<int32_t>();
  uint32_t n = 0;
  if (in.Array(6, &n)) {
    ItemReader a(bytes, n);
    for (uint64_t& v : r->args) v = a.Get<uint64_t>();
    if (!a.SkipRest()) return ReaderError(a, "syscall args");
  } else {
    return ReaderError(in, "syscall args");
  }
  r->ret = in.Get<int64_t>();
  r->entry_ns = in.Get<uint64_t>();
  r->duration_ns = in.Get<uint64_t>();
  r->returned = in.Get<bool>();
  r->action = static_cast<Action>(in.Get<uint8_t>());
  if (in.Array(0, &n)) {
    r->captures.resize(n);
    for (Capture& cap : r->captures) {
      uint32_t fields = 0;
      if (!ItemReader(bytes, 1).Array(4, &fields)) {
        return PlainError("malformed capture");
      }
      ItemReader c(bytes, fields);
      cap.arg = c.Get<uint8_t>();
      cap.kind = static_cast<CaptureKind>(c.Get<uint8_t>());
      cap.truncated = c.Get<bool>();
      cap.bytes = c.Bytes();
      if (!c.SkipRest()) return ReaderError(c, "capture");
    }
  } else {
    return ReaderError(in, "captures");
  }
  if (!in.SkipRest()) return ReaderError(in, "syscall record");
  return {};
}

__attribute__((always_inline)) inline bool ReadSyscallFields(RecordFields* in, SyscallRecord* r) {
  if (!in->Int(&r->tid) || !in->Int(&r->tgid) || !in->Int(&r->nr) || !in->Array(6)) return false;
  for (uint64_t& arg : r->args) {
    if (!in->Int(&arg)) return false;
  }
  uint8_t action;
  uint32_t captures;
  if (!in->Int(&r->ret) || !in->Int(&r->entry_ns) || !in->Int(&r->duration_ns) ||
      !in->Bool(&r->returned) || !in->Int(&action) || !in->Array(&captures)) {
    return false;
  }
  r->action = static_cast<Action>(action);
  if (r->captures.size() != captures) r->captures.resize(captures);
  for (Capture& c : r->captures) {
    uint8_t kind;
    std::string_view bytes;
    if (!in->Array(4) || !in->Int(&c.arg) || !in->Int(&kind) || !in->Bool(&c.truncated) ||
        !in->Bytes(&bytes)) {
      return false;
    }
    c.kind = static_cast<CaptureKind>(kind);
    c.bytes.assign(bytes);
  }
  return true;
}

// The fast path for the most frequent record: a syscall record exactly as EncodeRecord writes
// it is decoded into `slot`, reusing the syscall record it holds, and the result is the end of
// its bytes. Anything else returns null (the slot is then unspecified), for DecodeRecordAt to
// decode (or reject) it.
const char* DecodeSyscallFastInto(const char* pos, const char* end, RawRecord* slot) {
  RecordFields in(pos, end);
  uint8_t tag;
  if (!in.Array(11) || !in.Int(&tag) || tag != kSyscallTag) return nullptr;
  SyscallRecord* r = std::get_if<SyscallRecord>(slot);
  if (r == nullptr) r = &slot->emplace<SyscallRecord>();
  return ReadSyscallFields(&in, r) ? in.pos() : nullptr;
}

// Decodes the next record straight from the bytes (no object tree), any record in any
// encoding msgpack-c would read, with an error that says what is wrong.
Status DecodeRecordAt(MsgpackReader* bytes, std::vector<RawRecord>* out) {
  MsgpackItem record;
  if (!bytes->Next(&record)) return PlainError("msgpack: malformed or truncated object");
  MsgpackItem tag_item;
  if (record.kind != MsgpackKind::kArray || record.size == 0 || !bytes->Next(&tag_item) ||
      tag_item.kind != MsgpackKind::kUint) {
    return PlainError("malformed record");
  }
  const uint64_t tag = tag_item.u64;
  if (tag == kSyscallTag) {
    SyscallRecord& r = std::get<SyscallRecord>(out->emplace_back(std::in_place_type<SyscallRecord>));
    return DecodeSyscall(bytes, record.size, &r);
  }
  if (tag == kSpawnTag) {
    if (record.size < 6) return PlainError("malformed spawn record");
    ItemReader in(bytes, record.size - 1);
    SpawnRecord r;
    r.tid = in.Get<int32_t>();
    r.tgid = in.Get<int32_t>();
    r.parent_tid = in.Get<int32_t>();
    r.thread = in.Get<bool>();
    r.ts_ns = in.Get<uint64_t>();
    if (!in.SkipRest()) return ReaderError(in, "spawn record");
    out->emplace_back(r);
    return {};
  }
  if (tag == kExecTag) {
    if (record.size < 6) return PlainError("malformed exec record");
    ItemReader in(bytes, record.size - 1);
    ExecRecord r;
    r.tid = in.Get<int32_t>();
    r.former_tid = in.Get<int32_t>();
    r.ts_ns = in.Get<uint64_t>();
    r.path = in.Bytes();
    r.comm = in.Bytes();
    if (!in.SkipRest()) return ReaderError(in, "exec record");
    out->emplace_back(std::move(r));
    return {};
  }
  if (tag == kExitTag) {
    if (record.size < 7) return PlainError("malformed exit record");
    ItemReader in(bytes, record.size - 1);
    ExitRecord r;
    r.tid = in.Get<int32_t>();
    r.tgid = in.Get<int32_t>();
    r.ts_ns = in.Get<uint64_t>();
    r.signaled = in.Get<bool>();
    r.status = in.Get<int32_t>();
    r.core_dumped = in.Get<bool>();
    if (!in.SkipRest()) return ReaderError(in, "exit record");
    out->emplace_back(r);
    return {};
  }
  return PlainError("unknown record tag " + std::to_string(tag));
}

// Unpacks exactly one object spanning the whole buffer.
Result<msgpack::object_handle> UnpackOne(const void* data, size_t size, const char* what) {
  std::vector<msgpack::object_handle> objects;
  Status s = UnpackObjects(data, size, 1, &objects);
  if (!s) return PlainError(std::string(what) + ": " + s.error().context);
  return std::move(objects[0]);
}

}  // namespace

namespace {

constexpr char kRemoteMagic[] = "sandtrace-remote";
constexpr char kAckMagic[] = "sandtrace-ack";

void PackMagic(Packer& p, const char* magic, size_t size) {
  p.pack_str(static_cast<uint32_t>(size));
  p.pack_str_body(magic, static_cast<uint32_t>(size));
}

Status CheckMagic(const std::string& magic, const char* expected, uint32_t version,
                  const char* what) {
  if (magic != expected) return PlainError(std::string(what) + ": bad magic");
  if (version != kVersion) {
    return PlainError(std::string(what) + ": wire version " + std::to_string(version) +
                      ", expected " + std::to_string(kVersion));
  }
  return {};
}

}  // namespace

std::string EncodeHeader(const Header& header) {
  msgpack::sbuffer buffer(64);
  Packer p(buffer);
  p.pack_array(6);
  PackMagic(p, kMagic, sizeof(kMagic) - 1);
  p.pack_uint32(kVersion);
  p.pack_uint8(static_cast<uint8_t>(header.type));
  p.pack_uint64(header.seq);
  p.pack_uint64(header.first_index);
  p.pack_uint32(header.count);
  return std::string(buffer.data(), buffer.size());
}

Result<Header> DecodeHeader(const void* data, size_t size) {
  Result<msgpack::object_handle> handle = UnpackOne(data, size, "message header");
  if (!handle) return handle.error();
  ArrayReader in(handle->get(), 6, "message header");
  const std::string magic = in.Bytes();
  const uint32_t version = in.Get<uint32_t>();
  Header h;
  const uint8_t type = in.Get<uint8_t>();
  h.seq = in.Get<uint64_t>();
  h.first_index = in.Get<uint64_t>();
  h.count = in.Get<uint32_t>();
  if (!in.status()) return in.status().error();
  if (Status s = CheckMagic(magic, kMagic, version, "message header"); !s) return s.error();
  if (type < 1 || type > 4) return PlainError("message header: unknown type");
  h.type = static_cast<MessageType>(type);
  return h;
}

std::string EncodeRemoteHeader(const RemoteHeader& h) {
  msgpack::sbuffer buffer(128);
  Packer p(buffer);
  p.pack_array(11);
  PackMagic(p, kRemoteMagic, sizeof(kRemoteMagic) - 1);
  p.pack_uint32(kVersion);
  p.pack_uint8(static_cast<uint8_t>(h.type));
  PackString(p, h.run_id);
  PackString(p, h.host);
  p.pack_uint64(h.seq);
  p.pack_uint64(h.first_index);
  p.pack_uint32(h.count);
  p.pack_uint64(h.oldest_seq);
  p.pack_uint64(h.lost_records);
  p.pack_uint64(h.lost_messages);
  return std::string(buffer.data(), buffer.size());
}

Result<RemoteHeader> DecodeRemoteHeader(const void* data, size_t size) {
  Result<msgpack::object_handle> handle = UnpackOne(data, size, "remote header");
  if (!handle) return handle.error();
  ArrayReader in(handle->get(), 11, "remote header");
  const std::string magic = in.Bytes();
  const uint32_t version = in.Get<uint32_t>();
  RemoteHeader h;
  const uint8_t type = in.Get<uint8_t>();
  h.run_id = in.Bytes();
  h.host = in.Bytes();
  h.seq = in.Get<uint64_t>();
  h.first_index = in.Get<uint64_t>();
  h.count = in.Get<uint32_t>();
  h.oldest_seq = in.Get<uint64_t>();
  h.lost_records = in.Get<uint64_t>();
  h.lost_messages = in.Get<uint64_t>();
  if (!in.status()) return in.status().error();
  if (Status s = CheckMagic(magic, kRemoteMagic, version, "remote header"); !s) return s.error();
  if (type < 1 || type > 4) return PlainError("remote header: unknown type");
  if (h.run_id.empty()) return PlainError("remote header: empty run id");
  if (h.oldest_seq > h.seq) return PlainError("remote header: oldest_seq after seq");
  h.type = static_cast<MessageType>(type);
  return h;
}

std::string EncodeRemoteAck(const RemoteAck& ack) {
  msgpack::sbuffer buffer(64);
  Packer p(buffer);
  p.pack_array(6);
  PackMagic(p, kAckMagic, sizeof(kAckMagic) - 1);
  p.pack_uint32(kVersion);
  PackString(p, ack.run_id);
  p.pack_uint64(ack.durable_seq);
  p.pack_uint64(ack.wanted_seq);
  p.pack(ack.resend);
  return std::string(buffer.data(), buffer.size());
}

Result<RemoteAck> DecodeRemoteAck(const void* data, size_t size) {
  Result<msgpack::object_handle> handle = UnpackOne(data, size, "remote ack");
  if (!handle) return handle.error();
  ArrayReader in(handle->get(), 6, "remote ack");
  const std::string magic = in.Bytes();
  const uint32_t version = in.Get<uint32_t>();
  RemoteAck ack;
  ack.run_id = in.Bytes();
  ack.durable_seq = in.Get<uint64_t>();
  ack.wanted_seq = in.Get<uint64_t>();
  ack.resend = in.Get<bool>();
  if (!in.status()) return in.status().error();
  if (Status s = CheckMagic(magic, kAckMagic, version, "remote ack"); !s) return s.error();
  return ack;
}

void EncodeRecord(const RawRecord& record, msgpack::sbuffer* out) {
  std::visit(RecordEncoder(*out), record);
}

namespace {
template <typename Record>
void EncodeOne(const Record& record, msgpack::sbuffer* out) {
  RecordEncoder{*out}(record);
}
}  // namespace

void EncodeRecord(const SyscallRecord& r, msgpack::sbuffer* out) { EncodeOne(r, out); }
void EncodeRecord(const SpawnRecord& r, msgpack::sbuffer* out) { EncodeOne(r, out); }
void EncodeRecord(const ExecRecord& r, msgpack::sbuffer* out) { EncodeOne(r, out); }
void EncodeRecord(const ExitRecord& r, msgpack::sbuffer* out) { EncodeOne(r, out); }

void EncodeHello(const Hello& h, msgpack::sbuffer* out) {
  Packer p(*out);
  p.pack_array(10);
  PackString(p, h.run_id);
  PackString(p, h.host);
  p.pack_array(static_cast<uint32_t>(h.argv.size()));
  for (const std::string& a : h.argv) PackBin(p, a);
  PackBin(p, h.executable);
  p.pack_uint64(h.start_ns);
  p.pack_int32(h.tracer_pid);
  p.pack_int32(h.root_pid);
  p.pack(h.follow_forks);
  p.pack(h.trace_only);
  p.pack_array(static_cast<uint32_t>(h.layers.size()));
  for (const LayerState& l : h.layers) {
    p.pack_array(4);
    p.pack_uint8(l.layer);
    PackString(p, l.name);
    p.pack(l.applied);
    PackString(p, l.detail);
  }
}

Result<Hello> DecodeHello(const void* data, size_t size) {
  Result<msgpack::object_handle> handle = UnpackOne(data, size, "hello");
  if (!handle) return handle.error();
  ArrayReader in(handle->get(), 10, "hello");
  Hello h;
  h.run_id = in.Bytes();
  h.host = in.Bytes();
  if (const msgpack::object* argv = in.Next()) {
    if (argv->type != msgpack::type::ARRAY) return PlainError("malformed hello argv");
    ArrayReader a(*argv, argv->via.array.size, "hello argv");
    for (uint32_t i = 0; i < argv->via.array.size; ++i) h.argv.push_back(a.Bytes());
    if (!a.status()) return a.status().error();
  }
  h.executable = in.Bytes();
  h.start_ns = in.Get<uint64_t>();
  h.tracer_pid = in.Get<int32_t>();
  h.root_pid = in.Get<int32_t>();
  h.follow_forks = in.Get<bool>();
  h.trace_only = in.Get<bool>();
  if (const msgpack::object* layers = in.Next()) {
    if (layers->type != msgpack::type::ARRAY) return PlainError("malformed hello layers");
    for (uint32_t i = 0; i < layers->via.array.size; ++i) {
      ArrayReader l(layers->via.array.ptr[i], 4, "layer state");
      LayerState s;
      s.layer = l.Get<uint8_t>();
      s.name = l.Bytes();
      s.applied = l.Get<bool>();
      s.detail = l.Bytes();
      if (!l.status()) return l.status().error();
      h.layers.push_back(std::move(s));
    }
  }
  if (!in.status()) return in.status().error();
  return h;
}

void EncodeEnd(const End& e, msgpack::sbuffer* out) {
  Packer p(*out);
  p.pack_array(5);
  p.pack_uint8(static_cast<uint8_t>(e.outcome));
  p.pack_int32(e.exit_code);
  p.pack_int32(e.signal);
  p.pack_uint64(e.end_ns);
  PackString(p, e.detail);
}

Result<End> DecodeEnd(const void* data, size_t size) {
  Result<msgpack::object_handle> handle = UnpackOne(data, size, "end");
  if (!handle) return handle.error();
  ArrayReader in(handle->get(), 5, "end");
  End e;
  const uint8_t outcome = in.Get<uint8_t>();
  e.exit_code = in.Get<int32_t>();
  e.signal = in.Get<int32_t>();
  e.end_ns = in.Get<uint64_t>();
  e.detail = in.Bytes();
  if (!in.status()) return in.status().error();
  if (outcome > static_cast<uint8_t>(Outcome::kAborted)) return PlainError("end: bad outcome");
  e.outcome = static_cast<Outcome>(outcome);
  return e;
}

Status DecodeRecords(const void* data, size_t size, uint32_t count, std::vector<RawRecord>* out) {
  std::vector<RawRecord> fresh;
  if (Status s = DecodeRecordsReusing(data, size, count, &fresh); !s) return s;
  out->insert(out->end(), std::make_move_iterator(fresh.begin()),
              std::make_move_iterator(fresh.begin() + count));
  return {};
}

Status DecodeRecordsReusing(const void* data, size_t size, uint32_t count,
                            std::vector<RawRecord>* records) {
  MsgpackReader bytes(data, size);
  // Every record takes at least one byte: a count larger than the frame must not size the vector.
  if (records->size() < count) records->resize(std::min<size_t>(count, size));
  std::vector<RawRecord> other;  // a record the fast path does not take
  for (uint32_t i = 0; i < count; ++i) {
    if (bytes.at_end()) return PlainError("body holds fewer objects than its header says");
    RawRecord& slot = (*records)[i];
    if (const char* next = DecodeSyscallFastInto(bytes.pos(), bytes.end(), &slot)) {
      bytes = MsgpackReader(next, bytes.end());
      continue;
    }
    other.clear();
    if (Status s = DecodeRecordAt(&bytes, &other); !s) return s;
    slot = std::move(other[0]);
  }
  if (!bytes.at_end()) return PlainError("trailing bytes after the last object");
  return {};
}

namespace {
bool ReferenceAll(msgpack::type::object_type, std::size_t, void*) { return true; }

// Bounds each container and string of the next object by the bytes left in the frame (every
// element takes at least one byte, every map entry two). msgpack allocates a container's
// elements as soon as it reads the length, so without this a 5-byte array32 header claiming
// 2^32 elements makes it allocate 64 GiB.
msgpack::unpack_limit LimitFor(size_t left) {
  return msgpack::unpack_limit(left, left / 2, left, left, left);
}
}  // namespace

Status UnpackObjects(const void* data, size_t size, uint32_t count,
                     std::vector<msgpack::object_handle>* out) {
  const char* bytes = static_cast<const char*>(data);
  size_t offset = 0;
  try {
    for (uint32_t i = 0; i < count; ++i) {
      if (offset >= size) return PlainError("body holds fewer objects than its header says");
      out->push_back(
          msgpack::unpack(bytes, size, offset, nullptr, nullptr, LimitFor(size - offset)));
    }
  } catch (const msgpack::unpack_error& e) {
    return PlainError(std::string("msgpack: ") + e.what());
  } catch (const std::bad_alloc&) {
    return PlainError("msgpack: object too large");
  }
  if (offset != size) return PlainError("trailing bytes after the last object");
  return {};
}

Status UnpackObjectsInto(const void* data, size_t size, uint32_t count, msgpack::zone* zone,
                         std::vector<msgpack::object>* out) {
  const char* bytes = static_cast<const char*>(data);
  size_t offset = 0;
  // Every object takes at least one byte: a count larger than the frame must not size the vector.
  out->reserve(out->size() + std::min<size_t>(count, size));
  try {
    for (uint32_t i = 0; i < count; ++i) {
      if (offset >= size) return PlainError("body holds fewer objects than its header says");
      bool referenced = false;
      out->push_back(msgpack::unpack(*zone, bytes, size, offset, referenced, ReferenceAll, nullptr,
                                     LimitFor(size - offset)));
    }
  } catch (const msgpack::unpack_error& e) {
    return PlainError(std::string("msgpack: ") + e.what());
  } catch (const std::bad_alloc&) {
    return PlainError("msgpack: object too large");
  }
  if (offset != size) return PlainError("trailing bytes after the last object");
  return {};
}

const char* ActionName(Action action) {
  switch (action) {
    case Action::kAllow: return "allow";
    case Action::kDeny: return "deny";
    case Action::kLogOnly: return "log_only";
    case Action::kKill: return "kill";
  }
  return "allow";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kExited: return "exited";
    case Outcome::kSignaled: return "signaled";
    case Outcome::kTimedOut: return "timed_out";
    case Outcome::kInterrupted: return "interrupted";
    case Outcome::kSetupFailed: return "setup_failed";
    case Outcome::kExecFailed: return "exec_failed";
    case Outcome::kAborted: return "aborted";
  }
  return "exited";
}

}  // namespace sandtrace::wire
