// MessagePack encoding and decoding of the records in records.h. Encoders append to a
// msgpack::sbuffer; decoders never throw: malformed input is an Error naming what was wrong.
#pragma once

#include <msgpack.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/wire/records.h"

namespace sandtrace::wire {

// Header frame: ["sandtrace", kVersion, type, seq, first_index, count].
std::string EncodeHeader(const Header& header);
Result<Header> DecodeHeader(const void* data, size_t size);

// Remote envelope: ["sandtrace-remote", kVersion, type, run_id, host, seq, first_index, count,
// oldest_seq, lost_records, lost_messages]; acknowledgement: ["sandtrace-ack", kVersion, run_id,
// durable_seq, wanted_seq, resend].
std::string EncodeRemoteHeader(const RemoteHeader& header);
Result<RemoteHeader> DecodeRemoteHeader(const void* data, size_t size);
std::string EncodeRemoteAck(const RemoteAck& ack);
Result<RemoteAck> DecodeRemoteAck(const void* data, size_t size);

// Appends one record to `out`.
void EncodeRecord(const RawRecord& record, msgpack::sbuffer* out);
void EncodeRecord(const SyscallRecord& record, msgpack::sbuffer* out);
void EncodeRecord(const SpawnRecord& record, msgpack::sbuffer* out);
void EncodeRecord(const ExecRecord& record, msgpack::sbuffer* out);
void EncodeRecord(const ExitRecord& record, msgpack::sbuffer* out);
void EncodeHello(const Hello& hello, msgpack::sbuffer* out);
void EncodeEnd(const End& end, msgpack::sbuffer* out);

// Decodes `count` raw records from a body frame, appending them to `out` (nothing on error),
// straight from the bytes (no msgpack::object tree).
Status DecodeRecords(const void* data, size_t size, uint32_t count, std::vector<RawRecord>* out);
// The same into the first `count` elements of `*records`, which it makes exist, reusing what
// they held: a syscall record keeps the memory of its captures from batch to batch. Elements
// past `count` are left as they were; on error the first `count` are unspecified.
Status DecodeRecordsReusing(const void* data, size_t size, uint32_t count,
                            std::vector<RawRecord>* records);
Result<Hello> DecodeHello(const void* data, size_t size);
Result<End> DecodeEnd(const void* data, size_t size);

// Splits a body frame into its `count` objects (used for event maps).
Status UnpackObjects(const void* data, size_t size, uint32_t count,
                     std::vector<msgpack::object_handle>* out);

// The same into one shared zone, without copying strings: the objects point into `data` and
// `zone`, which must outlive them. Much cheaper per object (no zone or copy per object).
Status UnpackObjectsInto(const void* data, size_t size, uint32_t count, msgpack::zone* zone,
                         std::vector<msgpack::object>* out);

// Stable names for the enums, as they appear in JSONL.
const char* ActionName(Action action);
const char* OutcomeName(Outcome outcome);

}  // namespace sandtrace::wire
