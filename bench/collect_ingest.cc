// st-collect-ingest --to ENDPOINT [--runs N] [--events M] [--batch B]: the collector's ingest
// rate. Plays N publishers at once (one DEALER socket each, the protocol of docs/wire-format.md)
// sending one run each: an open message, then M events in batches of B (a sandbox event, M-2
// syscall events shaped like the analyser's, with decoded paths, and a summary), then the end.
// Each keeps at most kWindow messages unacknowledged, as a real publisher's socket queue does.
// Prints one line: "runs N events E seconds S events_per_s R", where S runs from the first
// message to the acknowledgement of the last one, so R is what the collector committed (SQLite
// and JSONL) per second, not what it merely received.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <msgpack.hpp>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "common/wire/codec.h"

namespace {

using sandtrace::wire::MessageType;
using Packer = msgpack::packer<msgpack::sbuffer>;

constexpr uint64_t kWindow = 64;

void Text(Packer& p, const std::string& s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void PackSyscall(Packer& p, uint64_t i) {
  p.pack_map(13);
  Text(p, "event_type");
  Text(p, "syscall");
  Text(p, "timestamp");
  Text(p, "2026-11-29T04:00:00.000000Z");
  Text(p, "pid");
  p.pack_int32(1000 + static_cast<int32_t>(i % 4));
  Text(p, "tgid");
  p.pack_int32(1000);
  Text(p, "syscall");
  Text(p, "openat");
  Text(p, "syscall_nr");
  p.pack_int32(257);
  Text(p, "args");
  p.pack_map(2);
  Text(p, "raw");
  p.pack_array(6);
  for (uint64_t a : {uint64_t{4294967196}, uint64_t{94325000} + i, uint64_t{524288}, uint64_t{0},
                     uint64_t{0}, uint64_t{0}}) {
    p.pack_uint64(a);
  }
  Text(p, "decoded");
  p.pack_map(3);
  Text(p, "dirfd");
  Text(p, "AT_FDCWD");
  Text(p, "path");
  Text(p, "/usr/share/doc/package-" + std::to_string(i % 5000) + "/copyright");
  Text(p, "flags");
  Text(p, "O_RDONLY|O_CLOEXEC");
  Text(p, "return_value");
  p.pack_int64(3);
  Text(p, "success");
  p.pack(true);
  Text(p, "duration_us");
  p.pack_uint32(12);
  Text(p, "returned");
  p.pack(true);
  Text(p, "action");
  Text(p, "allow");
  Text(p, "category");
  Text(p, "file_read");
}

struct Publisher {
  zmq::socket_t socket;
  std::string run_id;
  std::vector<std::pair<uint32_t, std::string>> bodies;  // per message: count, body
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t first_index = 0;
};

std::string RunId(int n) {
  char id[33];
  std::snprintf(id, sizeof id, "%08x%08x%016x", static_cast<unsigned>(getpid()),
                static_cast<unsigned>(std::time(nullptr)), n);
  return id;
}

// The run's messages: open (empty), event batches, end.
std::vector<std::pair<uint32_t, std::string>> Messages(const std::string& run_id, uint64_t events,
                                                       uint64_t batch) {
  std::vector<std::pair<uint32_t, std::string>> out;
  out.emplace_back(0, std::string());
  msgpack::sbuffer buffer;
  Packer p(buffer);
  uint32_t in_batch = 0;
  auto close_batch = [&] {
    if (in_batch == 0) return;
    out.emplace_back(in_batch, std::string(buffer.data(), buffer.size()));
    buffer.clear();
    in_batch = 0;
  };
  for (uint64_t i = 0; i < events; ++i) {
    if (i == 0) {
      p.pack_map(4);
      Text(p, "event_type");
      Text(p, "sandbox");
      Text(p, "timestamp");
      Text(p, "2026-11-29T04:00:00.000000Z");
      Text(p, "run_id");
      Text(p, run_id);
      Text(p, "host");
      Text(p, "bench");
    } else if (i + 1 == events) {
      p.pack_map(5);
      Text(p, "event_type");
      Text(p, "summary");
      Text(p, "timestamp");
      Text(p, "2026-11-29T04:00:01.000000Z");
      Text(p, "run_id");
      Text(p, run_id);
      Text(p, "total_syscalls");
      p.pack_uint64(events - 2);
      Text(p, "outcome");
      Text(p, "exited");
    } else {
      PackSyscall(p, i);
    }
    if (++in_batch == batch) close_batch();
  }
  close_batch();
  out.emplace_back(0, std::string());  // end
  return out;
}

long Arg(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const char* to = nullptr;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--to") == 0) to = argv[i + 1];
  }
  const long runs = Arg(argc, argv, "--runs", 5);
  const long events = Arg(argc, argv, "--events", 100000);
  const long batch = Arg(argc, argv, "--batch", 1000);
  if (to == nullptr || runs < 1 || events < 2 || batch < 1) {
    std::fprintf(stderr, "usage: st-collect-ingest --to ENDPOINT [--runs N] [--events M>=2] "
                         "[--batch B]\n");
    return 2;
  }
  zmq::context_t context(1);
  std::vector<Publisher> publishers(static_cast<size_t>(runs));
  for (long n = 0; n < runs; ++n) {
    Publisher& pub = publishers[static_cast<size_t>(n)];
    pub.run_id = RunId(static_cast<int>(n));
    pub.bodies = Messages(pub.run_id, static_cast<uint64_t>(events), static_cast<uint64_t>(batch));
    pub.socket = zmq::socket_t(context, zmq::socket_type::dealer);
    pub.socket.set(zmq::sockopt::linger, 0);
    pub.socket.connect(to);
  }
  const auto start = std::chrono::steady_clock::now();
  const auto give_up = start + std::chrono::minutes(10);
  size_t done = 0;
  while (done < publishers.size()) {
    if (std::chrono::steady_clock::now() > give_up) {
      std::fprintf(stderr, "st-collect-ingest: the collector stopped acknowledging\n");
      return 1;
    }
    std::vector<zmq::pollitem_t> items;
    for (Publisher& pub : publishers) items.push_back({pub.socket.handle(), 0, ZMQ_POLLIN, 0});
    for (Publisher& pub : publishers) {
      const uint64_t total = pub.bodies.size();
      while (pub.sent < total && pub.sent < pub.acked + kWindow) {
        const auto& [count, body] = pub.bodies[pub.sent];
        sandtrace::wire::RemoteHeader h;
        h.type = pub.sent == 0           ? MessageType::kHello
                 : pub.sent + 1 == total ? MessageType::kEnd
                                         : MessageType::kEventBatch;
        h.run_id = pub.run_id;
        h.host = "bench";
        h.seq = pub.sent;
        h.first_index = pub.first_index;
        h.count = count;
        h.oldest_seq = pub.acked;
        const std::string head = sandtrace::wire::EncodeRemoteHeader(h);
        pub.socket.send(zmq::buffer(head), zmq::send_flags::sndmore);
        pub.socket.send(zmq::buffer(body), zmq::send_flags::none);
        pub.first_index += count;
        ++pub.sent;
      }
    }
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
    for (Publisher& pub : publishers) {
      zmq::message_t frame;
      while (pub.socket.recv(frame, zmq::recv_flags::dontwait)) {
        auto ack = sandtrace::wire::DecodeRemoteAck(frame.data(), frame.size());
        if (!ack || ack->run_id != pub.run_id || ack->durable_seq <= pub.acked) continue;
        const bool was_done = pub.acked == pub.bodies.size();
        pub.acked = ack->durable_seq;
        if (!was_done && pub.acked == pub.bodies.size()) ++done;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double total = static_cast<double>(runs) * static_cast<double>(events);
  std::printf("runs %ld events %.0f seconds %.3f events_per_s %.0f\n", runs, total, seconds,
              total / seconds);
  return 0;
}
