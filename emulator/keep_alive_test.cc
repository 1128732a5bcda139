// Idle keep-alive connections and bursts of new ones must not delay anyone's
// request (field report: with 16 workers and the gateway's 32 pooled
// connections, bursts stalled ~5 s, the keep-alive timeout; and httplib's
// listen backlog of 5 made a burst of connects wait for SYN retransmits, 1 s
// and more). Default options, as tools/run.sh starts the emulator.
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emulator/seed.h"
#include "emulator/server.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace fivetran_emulator {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kIdleClients = 40;  // more than the gateway's 32 pooled connections
constexpr int64_t kPromptMs = 1000;
constexpr int64_t kFailed = std::numeric_limits<int64_t>::max();

std::unique_ptr<httplib::Client> KeepAliveClient(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_keep_alive(true);
  c->set_basic_auth("demo_api_key", "demo_api_secret");
  c->set_connection_timeout(2, 0);
  c->set_read_timeout(3, 0);  // less than a stall (the 5 s keep-alive timeout)
  return c;
}

// GET /v1/groups with `client`; returns how long it took in milliseconds
// (kFailed without a 200 answer).
int64_t TimedGetMs(httplib::Client& client) {
  const Clock::time_point start = Clock::now();
  httplib::Result r = client.Get("/v1/groups?limit=1");
  if (!r || r->status != 200) return kFailed;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// remote_port of every logged request, oldest first.
std::vector<int> LoggedPorts(int port) {
  httplib::Client admin("127.0.0.1", port);
  httplib::Result r = admin.Get("/_emulator/requests");
  EXPECT_TRUE(r && r->status == 200);
  std::vector<int> ports;
  if (!r) return ports;
  const json log = json::parse(r->body);
  for (const json& entry : log["requests"]) {
    ports.push_back(entry["remote_port"].get<int>());
  }
  return ports;
}

TEST(KeepAliveTest, IdleConnectionsDoNotDelayANewRequest) {
  absl::StatusOr<std::unique_ptr<Account>> account = Account::Create(BuiltinSeed(), {});
  ASSERT_TRUE(account.ok());
  ServerOptions options;  // defaults, as tools/run.sh uses them
  options.port = 0;
  Emulator emulator(options, std::move(*account));
  ASSERT_TRUE(emulator.Start().ok());

  // kIdleClients connections, each answered once, then left idle but open.
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < kIdleClients; ++i) idle.push_back(KeepAliveClient(emulator.port()));
  std::vector<int64_t> took_ms(kIdleClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kIdleClients; ++i) {
    threads.emplace_back([&, i] { took_ms[i] = TimedGetMs(*idle[i]); });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kIdleClients; ++i) EXPECT_LT(took_ms[i], kPromptMs) << "idle client " << i;
  const std::vector<int> first_ports = LoggedPorts(emulator.port());
  ASSERT_EQ(first_ports.size(), static_cast<size_t>(kIdleClients));
  EXPECT_EQ(std::set<int>(first_ports.begin(), first_ports.end()).size(),
            static_cast<size_t>(kIdleClients))
      << "one connection per client";

  // A new client is answered promptly while those connections stay open.
  std::unique_ptr<httplib::Client> fresh = KeepAliveClient(emulator.port());
  EXPECT_LT(TimedGetMs(*fresh), kPromptMs) << "new client";

  // The idle connections were still open: their next requests come from the
  // same client ports (a reconnect would use a new one).
  for (int i = 0; i < kIdleClients; ++i) {
    EXPECT_LT(TimedGetMs(*idle[i]), kPromptMs) << "idle client " << i;
  }
  const std::vector<int> ports = LoggedPorts(emulator.port());
  ASSERT_EQ(ports.size(), static_cast<size_t>(2 * kIdleClients + 1));
  EXPECT_EQ(std::set<int>(ports.begin() + kIdleClients + 1, ports.end()),
            std::set<int>(first_ports.begin(), first_ports.end()));
  emulator.Stop();
}

}  // namespace
}  // namespace fivetran_emulator
