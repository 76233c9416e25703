// libFuzzer target for the wire decoder: every Decode* and Unpack* function of
// common/wire/codec.h runs on each input. The decoders read frames from another process, so
// any byte string must come back as a value or an Error: no exception, crash, sanitizer report
// or runaway allocation. Whatever decodes must survive a round trip: re-encoding it and
// decoding that again gives the same bytes. DecodeRecordsReusing must agree with DecodeRecords.
//
// Input layout (wire_seeds.cc writes the seeds this way): a 4-byte little-endian object count,
// the `count` of the envelope header, then the frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/wire/codec.h"

namespace sandtrace::wire {
namespace {

// Aborts (a finding for libFuzzer) when an invariant does not hold.
void Expect(bool condition) {
  if (!condition) std::abort();
}

std::string Bytes(const msgpack::sbuffer& buffer) {
  return std::string(buffer.data(), buffer.size());
}

void FuzzHeader(const char* frame, size_t size) {
  Result<Header> header = DecodeHeader(frame, size);
  if (!header.ok()) return;
  const std::string once = EncodeHeader(*header);
  Result<Header> again = DecodeHeader(once.data(), once.size());
  Expect(again.ok() && EncodeHeader(*again) == once);
}

void FuzzHello(const char* frame, size_t size) {
  Result<Hello> hello = DecodeHello(frame, size);
  if (!hello.ok()) return;
  msgpack::sbuffer once, twice;
  EncodeHello(*hello, &once);
  Result<Hello> again = DecodeHello(once.data(), once.size());
  Expect(again.ok());
  EncodeHello(*again, &twice);
  Expect(Bytes(once) == Bytes(twice));
}

void FuzzEnd(const char* frame, size_t size) {
  Result<End> end = DecodeEnd(frame, size);
  if (!end.ok()) return;
  msgpack::sbuffer once, twice;
  EncodeEnd(*end, &once);
  Result<End> again = DecodeEnd(once.data(), once.size());
  Expect(again.ok());
  EncodeEnd(*again, &twice);
  Expect(Bytes(once) == Bytes(twice));
}

void FuzzRecords(const char* frame, size_t size, uint32_t count) {
  std::vector<RawRecord> records;
  const bool decoded = DecodeRecords(frame, size, count, &records).ok();
  // Into slots that still hold the records of earlier inputs: the same outcome and records.
  static std::vector<RawRecord> reused;
  Expect(DecodeRecordsReusing(frame, size, count, &reused).ok() == decoded);
  if (!decoded) return;
  Expect(records.size() == count);
  msgpack::sbuffer fresh, from_reused;
  for (uint32_t i = 0; i < count; ++i) {
    EncodeRecord(records[i], &fresh);
    EncodeRecord(reused[i], &from_reused);
  }
  Expect(Bytes(fresh) == Bytes(from_reused));
  msgpack::sbuffer once, twice;
  for (const RawRecord& r : records) EncodeRecord(r, &once);
  std::vector<RawRecord> again;
  Expect(DecodeRecords(once.data(), once.size(), count, &again).ok());
  for (const RawRecord& r : again) EncodeRecord(r, &twice);
  Expect(Bytes(once) == Bytes(twice));
}

// Reads every byte that `root` references, without recursion (inputs may nest deeply), so
// AddressSanitizer sees any object pointing outside the input or a freed zone.
uint64_t Touch(const msgpack::object& root) {
  uint64_t sum = 0;
  std::vector<const msgpack::object*> pending = {&root};
  while (!pending.empty()) {
    const msgpack::object* o = pending.back();
    pending.pop_back();
    switch (o->type) {
      case msgpack::type::STR:
        for (uint32_t i = 0; i < o->via.str.size; ++i) sum += uint8_t(o->via.str.ptr[i]);
        break;
      case msgpack::type::BIN:
        for (uint32_t i = 0; i < o->via.bin.size; ++i) sum += uint8_t(o->via.bin.ptr[i]);
        break;
      case msgpack::type::EXT:
        for (uint32_t i = 0; i < o->via.ext.size; ++i) sum += uint8_t(o->via.ext.ptr[i]);
        break;
      case msgpack::type::ARRAY:
        for (uint32_t i = 0; i < o->via.array.size; ++i) pending.push_back(&o->via.array.ptr[i]);
        break;
      case msgpack::type::MAP:
        for (uint32_t i = 0; i < o->via.map.size; ++i) {
          pending.push_back(&o->via.map.ptr[i].key);
          pending.push_back(&o->via.map.ptr[i].val);
        }
        break;
      default:
        sum += o->type;
        break;
    }
  }
  return sum;
}

void FuzzUnpack(const char* frame, size_t size, uint32_t count) {
  std::vector<msgpack::object_handle> handles;
  if (UnpackObjects(frame, size, count, &handles).ok()) {
    Expect(handles.size() == count);
    for (const msgpack::object_handle& h : handles) Touch(h.get());
  }
  msgpack::zone zone;
  std::vector<msgpack::object> objects;
  if (UnpackObjectsInto(frame, size, count, &zone, &objects).ok()) {
    Expect(objects.size() == count);
    for (const msgpack::object& o : objects) Touch(o);
  }
}

}  // namespace
}  // namespace sandtrace::wire

// Entry point called by libFuzzer once per input (layout in the header comment).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t count = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 |
                         uint32_t(data[3]) << 24;
  const char* frame = reinterpret_cast<const char*>(data + 4);
  const size_t frame_size = size - 4;
  sandtrace::wire::FuzzHeader(frame, frame_size);
  sandtrace::wire::FuzzHello(frame, frame_size);
  sandtrace::wire::FuzzEnd(frame, frame_size);
  sandtrace::wire::FuzzRecords(frame, frame_size, count);
  sandtrace::wire::FuzzUnpack(frame, frame_size, count);
  return 0;
}
