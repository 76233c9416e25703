// Real ZeroMQ sockets over ipc:// in a temporary directory.
#include "common/wire/channel.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/wire/codec.h"
#include "tests/support/temp_dir.h"

namespace sandtrace::wire {
namespace {

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    endpoint_ = "ipc://" + dir_.File("c");
  }
  test_support::TempDir dir_{"/tmp/sandtrace-channel-XXXXXX"};
  std::string endpoint_;
};

// The producers' last step: the end message, then Close waiting for the acknowledgement.
void SendEndAndClose(Sender* tx) {
  msgpack::sbuffer end;
  EncodeEnd(End{}, &end);
  ASSERT_TRUE(tx->Send(MessageType::kEnd, 1, end.data(), end.size()).ok());
  Status closed = tx->Close(10000);
  ASSERT_TRUE(closed.ok()) << closed.error().message();
}

#ifdef SANDTRACE_PGM_STUBS
// libzmq's PGM transports are stubs here (common/wire/zmq_pgm_stubs.c). sandtrace's own sockets
// (pair, dealer, router) cannot take a pgm:// endpoint at all; on the socket types that can, a
// PGM endpoint fails with EINVAL, and the process goes on (libzmq asserts, and aborts, when
// OpenPGM reports a failure without saying why).
TEST(ChannelPgmTest, PgmEndpointsFailAndTheProcessGoesOn) {
  zmq::context_t context;
  for (const char* endpoint : {"epgm://lo;239.192.1.1:5555", "pgm://lo;239.192.1.1:5556"}) {
    zmq::socket_t pub(context, zmq::socket_type::pub);
    pub.set(zmq::sockopt::linger, 0);
    try {
      pub.bind(endpoint);
      ADD_FAILURE() << endpoint << " bound";
    } catch (const zmq::error_t& e) {
      EXPECT_EQ(e.num(), EINVAL) << endpoint << ": " << e.what();
    }
    try {
      pub.connect(endpoint);
      ADD_FAILURE() << endpoint << " connected";
    } catch (const zmq::error_t& e) {
      EXPECT_EQ(e.num(), EINVAL) << endpoint << ": " << e.what();
    }
  }
  Result<Receiver> rx = Receiver::Bind("epgm://lo;239.192.1.1:5557");
  EXPECT_FALSE(rx.ok());
}
#endif

TEST_F(ChannelTest, DeliversEveryMessageInOrderUnderBackpressure) {
  Result<Receiver> rx = Receiver::Bind(endpoint_);
  ASSERT_TRUE(rx.ok()) << rx.error().message();
  constexpr int kMessages = 5000;  // far beyond the high-water mark: the sender must block
  std::thread producer([&] {
    Result<Sender> tx = Sender::Connect(endpoint_);
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < kMessages; ++i) {
      msgpack::sbuffer body;
      EncodeRecord(SpawnRecord{i, i, 0, false, 0}, &body);
      EncodeRecord(SpawnRecord{i, i, 1, false, 0}, &body);
      ASSERT_TRUE(tx->Send(MessageType::kRawBatch, 2, body.data(), body.size()).ok());
    }
    SendEndAndClose(&*tx);
  });
  usleep(200000);  // let the queue fill up before the receiver starts draining
  uint64_t records = 0;
  for (int i = 0; i < kMessages; ++i) {
    Message m;
    Result<bool> got = rx->Receive(&m, 10000);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(*got) << "timed out at message " << i;
    EXPECT_EQ(m.header.seq, static_cast<uint64_t>(i));
    EXPECT_EQ(m.lost_messages, 0u);
    EXPECT_EQ(m.lost_records, 0u);
    std::vector<RawRecord> recs;
    ASSERT_TRUE(DecodeRecords(m.body.data(), m.body.size(), m.header.count, &recs).ok());
    EXPECT_EQ(std::get<SpawnRecord>(recs[0]).tid, i);
    records += recs.size();
  }
  Message end;
  Result<bool> got_end = rx->Receive(&end, 10000);
  ASSERT_TRUE(got_end.ok() && *got_end);
  EXPECT_EQ(end.header.type, MessageType::kEnd);
  producer.join();
  EXPECT_EQ(records, 2u * kMessages);
}

// Each in-place body is released once, after it was sent, and arrives as it was.
TEST_F(ChannelTest, SendInPlaceReleasesEachBodyOnce) {
  Result<Receiver> rx = Receiver::Bind(endpoint_);
  ASSERT_TRUE(rx.ok());
  constexpr int kMessages = 200;  // beyond the high-water mark
  std::vector<std::string> bodies(kMessages);
  std::atomic<int> released[kMessages] = {};
  auto release = [](void*, void* hint) { static_cast<std::atomic<int>*>(hint)->fetch_add(1); };
  std::thread producer([&] {
    Result<Sender> tx = Sender::Connect(endpoint_);
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < kMessages; ++i) {
      msgpack::sbuffer body;
      EncodeRecord(SpawnRecord{i, i, 0, false, 0}, &body);
      bodies[i].assign(body.data(), body.size());
      const InPlaceBody in_place{bodies[i].data(), bodies[i].size(), release, &released[i]};
      ASSERT_TRUE(tx->SendInPlace(MessageType::kRawBatch, 1, in_place).ok());
    }
    SendEndAndClose(&*tx);
  });
  for (int i = 0; i < kMessages; ++i) {
    Message m;
    Result<bool> got = rx->Receive(&m, 10000);
    ASSERT_TRUE(got.ok() && *got) << "message " << i;
    std::vector<RawRecord> recs;
    ASSERT_TRUE(DecodeRecords(m.body.data(), m.body.size(), m.header.count, &recs).ok());
    EXPECT_EQ(std::get<SpawnRecord>(recs.at(0)).tid, i);
  }
  Message end;
  ASSERT_TRUE(rx->Receive(&end, 10000).ok());
  producer.join();
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(released[i].load(), 1) << "body " << i;
}

// A received body is the received frame itself: it stays valid while its Message lives (tiny
// bodies that ZeroMQ keeps inside the message object included), and a copy of it can be
// changed or taken out.
TEST_F(ChannelTest, ReceivedBodiesAreKeptUntilTheirMessageGoes) {
  Result<Receiver> rx = Receiver::Bind(endpoint_);
  ASSERT_TRUE(rx.ok());
  const std::vector<std::string> sent = {"", "tiny", std::string(1000, 'm'),
                                         std::string(300000, 'L'), "last"};
  std::thread producer([&] {
    Result<Sender> tx = Sender::Connect(endpoint_);
    ASSERT_TRUE(tx.ok());
    for (const std::string& body : sent) {
      ASSERT_TRUE(tx->Send(MessageType::kRawBatch, 0, body.data(), body.size()).ok());
    }
    SendEndAndClose(&*tx);
  });
  std::vector<Message> kept(sent.size());
  for (Message& m : kept) ASSERT_TRUE(rx->Receive(&m, 10000).ok());
  Message end;
  ASSERT_TRUE(rx->Receive(&end, 10000).ok());
  producer.join();
  for (size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(kept[i].body.view(), sent[i]) << i;

  std::string& copy = kept[3].body.text();  // now a string of its own
  copy[0] = 'x';
  EXPECT_EQ(kept[3].body.view(), "x" + sent[3].substr(1));
  EXPECT_EQ(kept[2].body.Take(), sent[2]);
  EXPECT_TRUE(kept[2].body.empty());
  kept[1].body = std::string("replaced");
  EXPECT_EQ(kept[1].body.view(), "replaced");
  EXPECT_EQ(kept[4].body.view(), "last");
}

TEST_F(ChannelTest, ReceiveTimesOutWithoutMessage) {
  Result<Receiver> rx = Receiver::Bind(endpoint_);
  ASSERT_TRUE(rx.ok());
  Message m;
  Result<bool> got = rx->Receive(&m, 50);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(*got);
}

TEST_F(ChannelTest, CloseWithoutAcknowledgementReportsTimeout) {
  Result<Receiver> rx = Receiver::Bind(endpoint_);
  ASSERT_TRUE(rx.ok());
  Result<Sender> tx = Sender::Connect(endpoint_);
  ASSERT_TRUE(tx.ok());
  msgpack::sbuffer end;
  EncodeEnd(End{}, &end);
  ASSERT_TRUE(tx->Send(MessageType::kEnd, 1, end.data(), end.size()).ok());
  Status closed = tx->Close(100);  // nobody receives: no acknowledgement
  EXPECT_FALSE(closed.ok());
}

TEST_F(ChannelTest, BoundSenderGivesUpWhileNobodyReads) {
  Result<Sender> tx = Sender::Bind(endpoint_);
  ASSERT_TRUE(tx.ok()) << tx.error().message();
  msgpack::sbuffer body;
  EncodeRecord(SpawnRecord{1, 1, 0, false, 0}, &body);
  int asked = 0;
  // No receiver has connected: there is no room at all, so every poll asks again.
  Status sent = tx->Send(MessageType::kRawBatch, 1, body.data(), body.size(),
                         [&] { return ++asked == 3; }, 10);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ECANCELED);
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(tx->messages_sent(), 0u);
}

TEST_F(ChannelTest, BoundSenderDeliversToAConnectingReceiver) {
  Result<Sender> tx = Sender::Bind(endpoint_);
  ASSERT_TRUE(tx.ok());
  std::thread consumer([&] {
    // A plug-in's side: a PAIR socket that connects to the bound sender.
    zmq::context_t context;
    zmq::socket_t socket(context, zmq::socket_type::pair);
    socket.connect(endpoint_);
    zmq::message_t head, body;
    ASSERT_TRUE(socket.recv(head));
    ASSERT_TRUE(socket.recv(body));
    Result<Header> header = DecodeHeader(head.data(), head.size());
    ASSERT_TRUE(header.ok());
    EXPECT_EQ(header->count, 1u);
  });
  msgpack::sbuffer body;
  EncodeRecord(SpawnRecord{1, 1, 0, false, 0}, &body);
  Status sent = tx->Send(MessageType::kRawBatch, 1, body.data(), body.size(),
                         [] { return false; }, 10);
  EXPECT_TRUE(sent.ok());
  consumer.join();
  (void)tx->Close(0);  // no end message was sent: nothing to wait for
}

// A plug-in that dies while the analyser sends it batches: the send must give up, not wait
// for ever for a peer that is gone (it did: a poll saw room, then the disconnect took the
// pipe and the blocking send after it never returned; a crashing plug-in hung whole runs).
// Each round, the receiver takes a few messages and vanishes; the sender sends until it gives
// up. With the blocking send this test ends through the watchdog in the first rounds.
TEST_F(ChannelTest, BoundSenderGivesUpWhenTheReceiverVanishesMidStream) {
  constexpr int kRounds = 300;
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int waited = 0; waited < 60'000 && !done; waited += 10) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!done) {
      fprintf(stderr, "a send to a vanished receiver blocked\n");
      _exit(1);  // the sending thread cannot be woken: end the test binary
    }
  });
  const std::string body(256 << 10, 'x');  // an event batch's size: writes fill the socket
  for (int round = 0; round < kRounds; ++round) {
    Result<Sender> tx = Sender::Bind(endpoint_);
    ASSERT_TRUE(tx.ok()) << tx.error().message();
    std::atomic<bool> gone{false};
    std::thread receiver([&] {
      zmq::context_t context;
      zmq::socket_t socket(context, zmq::socket_type::pair);
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::rcvhwm, 1);
      socket.connect(endpoint_);
      for (int i = 0; i < round % 7; ++i) {
        zmq::message_t frame;
        if (!socket.recv(frame)) break;
      }
      socket.close();
      gone = true;
    });
    Status sent;
    int messages = 0;
    while (sent.ok() && messages < 100'000) {
      sent = tx->Send(
          MessageType::kRawBatch, 1, body.data(), body.size(), [&] { return gone.load(); }, 1);
      ++messages;
    }
    receiver.join();
    ASSERT_FALSE(sent.ok()) << "round " << round << ": " << messages << " messages queued";
    EXPECT_EQ(sent.error().code, ECANCELED);
    (void)tx->Close(0);  // no end message was sent: nothing to wait for
  }
  done = true;
  watchdog.join();
}

// The tracer's sends block while the analyser is behind, and its 100 ms timer interrupts them:
// an interrupted send is sent again, once. Here the sender fills its queue before any receiver
// exists, with a timer signal every 2 ms, and everything arrives in order once one binds.
TEST_F(ChannelTest, BlockingSendSurvivesTimerSignals) {
  struct sigaction tick {};
  tick.sa_handler = [](int) {};  // no SA_RESTART: the blocked send returns EINTR
  struct sigaction old_action {};
  ASSERT_EQ(sigaction(SIGALRM, &tick, &old_action), 0);
  // Only this thread takes the signal: the receiver thread starts with it blocked.
  sigset_t alarm, old_mask;
  sigemptyset(&alarm);
  sigaddset(&alarm, SIGALRM);
  pthread_sigmask(SIG_BLOCK, &alarm, &old_mask);
  constexpr int kMessages = 200;  // far past the high-water mark
  std::thread receiver([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Result<Receiver> rx = Receiver::Bind(endpoint_);
    ASSERT_TRUE(rx.ok());
    for (int i = 0; i < kMessages; ++i) {
      Message m;
      Result<bool> got = rx->Receive(&m, 10'000);
      ASSERT_TRUE(got.ok() && *got) << "message " << i;
      EXPECT_EQ(m.header.seq, static_cast<uint64_t>(i));
      EXPECT_EQ(m.lost_messages, 0u);
    }
  });
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  itimerval every_2ms{{0, 2000}, {0, 2000}};
  setitimer(ITIMER_REAL, &every_2ms, nullptr);
  Result<Sender> tx = Sender::Connect(endpoint_);
  ASSERT_TRUE(tx.ok());
  msgpack::sbuffer body;
  EncodeRecord(SpawnRecord{1, 1, 0, false, 0}, &body);
  for (int i = 0; i < kMessages; ++i) {
    Status sent = tx->Send(MessageType::kRawBatch, 1, body.data(), body.size());
    ASSERT_TRUE(sent.ok()) << sent.error().message();
  }
  itimerval off{};
  setitimer(ITIMER_REAL, &off, nullptr);
  sigaction(SIGALRM, &old_action, nullptr);
  receiver.join();
  EXPECT_EQ(tx->messages_sent(), static_cast<uint64_t>(kMessages));
  (void)tx->Close(0);  // no end message was sent: nothing to wait for
}

// The threads of this process: /proc/self/task has one entry per thread.
int ThreadCount() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int n = 0;
  while (dirent* e = readdir(dir)) n += e->d_name[0] != '.';
  closedir(dir);
  return n;
}

// One message and the end, from `tx` to `rx`, acknowledged.
void RoundTrip(Sender* tx, Receiver* rx) {
  msgpack::sbuffer body;
  EncodeRecord(SpawnRecord{7, 7, 1, false, 0}, &body);
  ASSERT_TRUE(tx->Send(MessageType::kRawBatch, 1, body.data(), body.size()).ok());
  msgpack::sbuffer end;
  EncodeEnd(End{}, &end);
  ASSERT_TRUE(tx->Send(MessageType::kEnd, 1, end.data(), end.size()).ok());
  for (MessageType expected : {MessageType::kRawBatch, MessageType::kEnd}) {
    Message m;
    Result<bool> got = rx->Receive(&m, 10000);
    ASSERT_TRUE(got.ok() && *got);
    EXPECT_EQ(m.header.type, expected);
  }
  Status closed = tx->Close(10000);
  EXPECT_TRUE(closed.ok()) << closed.error().message();
}

// Every channel of a process uses one ZeroMQ context: one I/O thread and one reaper thread in
// all, not two per channel (the analyser has an input and an output per sink). The context
// goes with the last channel, and the next channel starts a new one.
TEST_F(ChannelTest, ChannelsOfAProcessShareOneContext) {
  const int before = ThreadCount();
  ASSERT_GT(before, 0);
  {
    Result<Receiver> rx = Receiver::Bind(endpoint_);
    ASSERT_TRUE(rx.ok()) << rx.error().message();
    const int with_one = ThreadCount();
    EXPECT_EQ(with_one, before + 2);  // ZeroMQ's I/O thread and its reaper
    Result<Sender> tx = Sender::Connect(endpoint_);
    ASSERT_TRUE(tx.ok()) << tx.error().message();
    Result<Sender> unconnected = Sender::Unconnected();
    ASSERT_TRUE(unconnected.ok());
    EXPECT_EQ(ThreadCount(), with_one);
    RoundTrip(&*tx, &*rx);
  }
  EXPECT_EQ(ThreadCount(), before);  // the last channel terminated the context
  Result<Receiver> rx = Receiver::Bind(endpoint_);
  ASSERT_TRUE(rx.ok()) << rx.error().message();
  Result<Sender> tx = Sender::Connect(endpoint_);
  ASSERT_TRUE(tx.ok()) << tx.error().message();
  EXPECT_EQ(ThreadCount(), before + 2);
  RoundTrip(&*tx, &*rx);
}

TEST_F(ChannelTest, BindToBadEndpointFails) {
  Result<Receiver> a = Receiver::Bind("tcp://127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  Result<Receiver> b = Receiver::Bind("bogus://x");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message().find("bogus"), std::string::npos);
}

}  // namespace
}  // namespace sandtrace::wire
