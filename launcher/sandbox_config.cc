#include "launcher/sandbox_config.h"

#include <msgpack.hpp>

namespace sandtrace::launcher {
namespace {

constexpr uint32_t kConfigVersion = 1;

}  // namespace

std::string SerializeSandboxConfig(const SandboxConfig& c) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_array(21);
  p.pack(kConfigVersion);
  p.pack(c.trace_only);
  p.pack(c.new_network);
  p.pack(c.allow_exec);
  p.pack(c.writable_paths);
  p.pack(c.masked_paths);
  p.pack(c.landlock_read);
  p.pack(c.landlock_read_write);
  p.pack(c.landlock_exec);
  p.pack(c.landlock_optional);
  p.pack_bin(static_cast<uint32_t>(c.seccomp_program.size()));
  p.pack_bin_body(c.seccomp_program.data(), static_cast<uint32_t>(c.seccomp_program.size()));
  p.pack(c.visible_paths);
  p.pack(c.hidden_paths);
  p.pack(c.exec_allowlist);
  p.pack(c.max_processes);
  p.pack(c.max_file_size);
  p.pack(c.memory);
  p.pack(c.log_only);
  p.pack_bin(static_cast<uint32_t>(c.trace_filter.size()));
  p.pack_bin_body(c.trace_filter.data(), static_cast<uint32_t>(c.trace_filter.size()));
  p.pack(c.session_made);
  p.pack(kConfigVersion);  // trailer: a truncated file is detected
  return std::string(buffer.data(), buffer.size());
}

Result<SandboxConfig> DeserializeSandboxConfig(const std::string& bytes) {
  SandboxConfig c;
  try {
    msgpack::object_handle h = msgpack::unpack(bytes.data(), bytes.size());
    const msgpack::object& o = h.get();
    if (o.type != msgpack::type::ARRAY || o.via.array.size < 11) {
      return PlainError("sandbox configuration: malformed");
    }
    const msgpack::object* f = o.via.array.ptr;
    if (f[0].as<uint32_t>() != kConfigVersion) {
      return PlainError("sandbox configuration: unknown version");
    }
    c.trace_only = f[1].as<bool>();
    c.new_network = f[2].as<bool>();
    c.allow_exec = f[3].as<bool>();
    c.writable_paths = f[4].as<std::vector<std::string>>();
    c.masked_paths = f[5].as<std::vector<std::string>>();
    c.landlock_read = f[6].as<std::vector<std::string>>();
    c.landlock_read_write = f[7].as<std::vector<std::string>>();
    c.landlock_exec = f[8].as<std::vector<std::string>>();
    c.landlock_optional = f[9].as<std::vector<std::string>>();
    if (f[10].type != msgpack::type::BIN) return PlainError("sandbox configuration: malformed");
    c.seccomp_program.assign(f[10].via.bin.ptr, f[10].via.bin.size);
    if (o.via.array.size > 11) c.visible_paths = f[11].as<std::vector<std::string>>();
    if (o.via.array.size > 12) c.hidden_paths = f[12].as<std::vector<std::string>>();
    if (o.via.array.size != 21 || f[20].as<uint32_t>() != kConfigVersion ||
        f[18].type != msgpack::type::BIN) {
      return PlainError("sandbox configuration: malformed (wrong number of fields)");
    }
    c.exec_allowlist = f[13].as<bool>();
    c.max_processes = f[14].as<uint32_t>();
    c.max_file_size = f[15].as<uint64_t>();
    c.memory = f[16].as<uint64_t>();
    c.log_only = f[17].as<std::vector<int32_t>>();
    c.trace_filter.assign(f[18].via.bin.ptr, f[18].via.bin.size);
    c.session_made = f[19].as<bool>();
  } catch (const std::exception& e) {
    return PlainError(std::string("sandbox configuration: ") + e.what());
  }
  return c;
}

}  // namespace sandtrace::launcher
