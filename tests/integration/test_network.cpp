// Network grants (issue 4), end to end: servers on the host's loopback,
// reached from a sandbox only through its proxy, with a grant that names
// their address. 127.0.0.2 is used where clients should honour the proxy
// variables: NO_PROXY names 127.0.0.1 and localhost.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <thread>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

class Network : public PortalTest {
 protected:
  void SetUp() override {
    PortalTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    site_ = scratch_.path("site");
    mkdir(site_.c_str(), 0755);
    Scratch::write_file(site_ + "/hello.txt", "hello from the host\n");
  }

  // python3's http.server on ADDRESS, serving site_; its port.
  std::string serve(const std::string& address) {
    server_ = std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/python3", "-u", "-m", "http.server", "--bind", address, "0"},
        site_options());
    EXPECT_TRUE(server_->wait_for_output(" port ")) << server_->err();
    EXPECT_TRUE(server_->wait_for_output("\n")) << server_->err();
    std::string out = server_->out();
    size_t at = out.find(" port ");
    return out.substr(at + 6, out.find_first_not_of("0123456789", at + 6) - at - 6);
  }

  Options site_options() const {
    Options options;
    options.cwd = site_;
    return options;
  }

  void grant_in_policy(const std::string& hosts) {
    write_policy("[Rule test-server]\nKind=host\nMatch=" + hosts + "\nDecision=allow\n");
  }

  std::string site_;
  std::unique_ptr<Child> server_;
};

TEST_F(Network, AGrantedHostWorksOverHttpConnectAndSocks) {
  std::string port = serve("127.0.0.2");
  grant_in_policy("127.0.0.2:" + port + ";");
  std::string url = "http://127.0.0.2:" + port + "/hello.txt";
  Result result = run_agent({"--prompt=none"}, "echo http; curl -sS " + url + "; echo connect; curl -sS -p " + url +
                                                   "; echo socks; curl -sS -x socks5h://127.0.0.1:3128 " + url);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "http\nhello from the host\nconnect\nhello from the host\nsocks\nhello from the host\n")
      << result.err;
  Result log = airlock({"log", "--json"}, options());
  EXPECT_NE(log.out.find("\"event\":\"use\""), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("bytes down"), std::string::npos) << log.out;
}

TEST_F(Network, GitOverHttpHonoursTheProxy) {
  std::string repo = site_ + "/repo.git";
  ASSERT_EQ(run({"/usr/bin/git", "init", "-q", "--bare", repo}).status, 0);
  ASSERT_EQ(run({"/usr/bin/git", "-C", repo, "update-server-info"}).status, 0);
  std::string port = serve("127.0.0.2");
  grant_in_policy("127.0.0.2:" + port + ";");
  Result result = run_agent({"--prompt=none"}, "git ls-remote http://127.0.0.2:" + port + "/repo.git && echo reached");
  EXPECT_NE(result.out.find("reached"), std::string::npos) << result.out << result.err;
}

// A name, not an address: the person is asked about localhost itself, and
// the loopback it stands for is what they named.
TEST_F(Network, AnUnknownHostWaitsForThePersonThenConnectsOrGets403) {
  std::string port = serve("127.0.0.1");
  std::string curl = "curl -sS --noproxy '' -x http://127.0.0.1:3128 -w '%{http_code}\\n' -o /dev/stderr http://localhost:" +
                     port + "/hello.txt";
  {
    auto prompt = prompter({"--answer=allow", "--scope=once", "--kind=host", "--count=1"});
    Result allowed = run_agent({}, curl);
    EXPECT_NE(allowed.out.find("200"), std::string::npos) << allowed.out << allowed.err;
    EXPECT_NE(allowed.err.find("hello from the host"), std::string::npos) << allowed.err;
  }
  auto prompt = prompter({"--answer=deny", "--kind=host", "--count=1"});
  Result denied = run_agent({}, curl);
  EXPECT_NE(denied.out.find("403"), std::string::npos) << denied.out << denied.err;
  EXPECT_NE(denied.err.find("airlock:"), std::string::npos) << denied.err;
}

// Connections that wait for the same answer share one prompt and one
// grant; "once" is one connection's worth: the next asks again.
TEST_F(Network, OnePromptOneGrantAndOnceMeansOneConnection) {
  std::string port = serve("127.0.0.1");
  std::string curl = "curl -sS --noproxy '' -x http://127.0.0.1:3128 -o /dev/null -w '%{http_code}\\n' http://localhost:" +
                     port + "/hello.txt";
  hold_prompts();
  const std::string e = exchange_;
  auto agent = start_agent({}, "(" + curl + ") & (" + curl + ") & (" + curl + ") & wait; echo > " + e +
                                   "/first; while [ ! -e " + e + "/go ]; do sleep 0.05; done; " + curl);
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  EXPECT_EQ(wait_for_prompt(std::chrono::milliseconds(500)), "") << "three connections, several prompts";
  ASSERT_TRUE(answer(id, true, "once"));
  ASSERT_TRUE(wait_for_file(e + "/first"));
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty()) << "the once grant outlived its use";
  Scratch::write_file(e + "/go", "");
  std::string again = wait_for_prompt();
  EXPECT_FALSE(again.empty()) << "a later connection was let through on the old answer";
  if (!again.empty()) answer(again, false, "once");
  EXPECT_EQ(agent->wait(), 0);
  const std::string& out = agent->out();
  size_t ok = 0;
  for (size_t at = out.find("200"); at != std::string::npos; at = out.find("200", at + 1)) ++ok;
  EXPECT_EQ(ok, 3u) << out << agent->err();
  EXPECT_NE(out.find("403"), std::string::npos) << out;
}

TEST_F(Network, ADeniedHostAndATimedOutPromptFailCleanly) {
  std::string port = serve("127.0.0.1");
  write_policy("[Rule no]\nKind=host\nMatch=localhost:" + port + ";\nDecision=deny\n");
  Result denied = run_agent({}, "curl -sS --noproxy '' -x http://127.0.0.1:3128 -w '%{http_code}\\n' -o /dev/stderr "
                                "http://localhost:" + port + "/hello.txt");
  EXPECT_NE(denied.out.find("403"), std::string::npos) << denied.out << denied.err;
  EXPECT_NE(denied.err.find("denied by the policy"), std::string::npos) << denied.err;

  hold_prompts();
  std::string other = "http://airlock-test.invalid/";  // a name: the person is asked before any lookup
  auto agent = start_agent({}, "curl -sS -w '%{http_code}\\n' -o /dev/stderr " + other);
  ASSERT_FALSE(wait_for_prompt().empty()) << agent->err();
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_NE(agent->out().find("403"), std::string::npos) << agent->out() << agent->err();
  EXPECT_NE(agent->err().find("nobody answered"), std::string::npos) << agent->err();
}

TEST_F(Network, AConnectionThatGivesUpTakesItsPromptAlong) {
  hold_prompts();
  auto agent = start_agent({}, "curl -sS --max-time 0.5 -o /dev/null http://airlock-test.invalid/; echo rc=$?");
  ASSERT_FALSE(wait_for_prompt().empty()) << agent->err();
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_NE(agent->out().find("rc=28"), std::string::npos) << agent->out() << agent->err();  // curl's timeout
  // Withdrawn when the connection went, not left up until the portal's
  // timeout (3 s here) ran out.
  std::string outcome;
  for (int i = 0; i < 50 && outcome.empty(); ++i) {
    for (const auto& row : manager_list("AuditLog", g_variant_new("(a{sv})", nullptr)))
      if (row.at("event") == "decision" && row.at("resource") == "airlock-test.invalid:80") outcome = row.at("outcome");
    if (outcome.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(outcome, "cancelled");
  EXPECT_TRUE(manager_list("ListPending").empty());
}

TEST_F(Network, LoopbackAndPrivateAddressesNeedAGrantThatNamesThem) {
  std::string port = serve("127.0.0.2");
  // Every host allowed, but by a wildcard: no address of the host's own.
  write_policy("[Rule everything]\nKind=host\nMatch=*\nDecision=allow\n");
  Result result = run_agent({"--prompt=none"}, "curl -sS -w '%{http_code}\\n' -o /dev/stderr http://127.0.0.2:" + port +
                                                   "/hello.txt; curl -sS -w '%{http_code}\\n' -o /dev/stderr "
                                                   "-x socks5h://127.0.0.1:3128 http://localhost:" + port + "/");
  EXPECT_EQ(result.out.find("hello from the host"), std::string::npos);
  EXPECT_NE(result.err.find("loopback"), std::string::npos) << result.err;
}

TEST_F(Network, TheHostsLoopbackIsReachableOnlyThroughTheProxy) {
  std::string port = serve("127.0.0.1");
  grant_in_policy("127.0.0.1:" + port + ";");
  Result result = run_agent({"--prompt=none"}, "(exec 3<>/dev/tcp/127.0.0.1/" + port +
                                                   ") 2>/dev/null && echo direct-reached || echo direct-refused",
                            "/bin/bash");
  EXPECT_NE(result.out.find("direct-refused"), std::string::npos) << result.out << result.err;
}

// airlock-init hands each connection to the proxy and keeps none: many at
// once, all open together, each gets its own tunnel.
TEST_F(Network, ManyConnectionsAtOnceEachGetTheirTunnel) {
  server_ = std::make_unique<Child>(
      std::vector<std::string>{"/usr/bin/python3", "-u", "-c",
                               "import socket,time\n"
                               "s=socket.socket(); s.bind(('127.0.0.2',0)); s.listen(1024); print('port',s.getsockname()[1])\n"
                               "held=[]\n"
                               "while True: held.append(s.accept()[0])\n"},
      Options());
  ASSERT_TRUE(server_->wait_for_output("\n")) << server_->err();  // "port N\n", whole
  std::string port = server_->out().substr(5, server_->out().find('\n') - 5);
  grant_in_policy("127.0.0.2:" + port + ";");
  Result result = run_agent({"--prompt=none"},
                            "python3 -c \"import socket\n"
                            "n=300\n"
                            "socks=[socket.create_connection(('127.0.0.1',3128), timeout=30) for _ in range(n)]\n"
                            "for s in socks: s.sendall(b'CONNECT 127.0.0.2:" + port + " HTTP/1.1\\r\\n\\r\\n')\n"
                            "print(sum(s.recv(64).startswith(b'HTTP/1.1 200') for s in socks))\"");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "300\n") << result.err;
}

TEST_F(Network, RevokingAHostGrantCutsItsOpenConnection) {
  // A server that answers once and then holds the connection open.
  server_ = std::make_unique<Child>(
      std::vector<std::string>{"/usr/bin/python3", "-u", "-c",
                               "import socket,time\n"
                               "s=socket.socket(); s.bind(('127.0.0.2',0)); s.listen(); print('port',s.getsockname()[1])\n"
                               "c,_=s.accept(); c.sendall(b'hello\\n'); time.sleep(60)\n"},
      Options());
  ASSERT_TRUE(server_->wait_for_output("\n")) << server_->err();  // "port N\n", whole
  std::string port = server_->out().substr(5, server_->out().find('\n') - 5);
  grant_in_policy("127.0.0.2:" + port + ";");
  const std::string e = exchange_;
  auto agent = start_agent({"--prompt=none"},
                           "exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT 127.0.0.2:" + port +
                               " HTTP/1.1\\r\\n\\r\\n' >&3; read -r status <&3; read -r blank <&3; read -r line <&3;"
                               "echo \"$status $line\" > " + e + "/open; cat <&3 >/dev/null; echo closed > " + e + "/closed",
                           "/bin/bash");
  ASSERT_TRUE(wait_for_file(e + "/open")) << agent->err();
  EXPECT_NE(Scratch::read_file(e + "/open").find("200"), std::string::npos) << Scratch::read_file(e + "/open");
  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  std::string session, grant;
  for (auto& row : grants)
    if (row["kind"] == "host") session = row["session"], grant = row["id"];
  ASSERT_FALSE(grant.empty());
  Result revoke = airlock({"revoke", session, grant}, options());
  EXPECT_EQ(revoke.status, 0) << revoke.err;
  EXPECT_TRUE(wait_for_file(e + "/closed", std::chrono::seconds(10))) << "the tunnel stayed open after the revoke";
  agent->wait();
}

// The agent profiles allow the hosts their agent cannot work without, and
// no other profile gets them.
TEST_F(Network, AProfilePreGrantsItsApiHost) {
  Result claude = run_agent({"--profile", "claude", "--prompt=none"}, "airlock-request host api.anthropic.com");
  EXPECT_EQ(claude.status, 0) << claude.err;
  EXPECT_EQ(claude.out, "api.anthropic.com:443\n");
  Result shell = run_agent({"--profile", "shell", "--prompt=none"}, "airlock-request host api.anthropic.com");
  EXPECT_EQ(shell.status, 1) << shell.out << shell.err;
}

TEST_F(Network, NoNetMeansNoProxyAtAll) {
  Result result = run_agent({"--no-net"},
                            "env | grep -ci proxy; (exec 3<>/dev/tcp/127.0.0.1/3128) 2>/dev/null && echo bridge || echo none",
                            "/bin/bash");
  EXPECT_NE(result.out.find("0\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("none"), std::string::npos) << result.out;
}

// A session whose proxy cannot start (here the portal's certificate helper
// fails) has no proxy: the agent's connections are refused at once rather
// than left waiting for an accept that never comes, and `airlock run` says
// why.
class NetworkWithoutCertificates : public Network {
 protected:
  void SetUp() override {
    // A copy of the portal, with a failing airlock-session-ca beside it.
    const std::string dir = scratch_.path("portal-copy");
    mkdir(dir.c_str(), 0755);
    const char* portal = getenv("AIRLOCK_PORTAL_BIN");
    ASSERT_NE(portal, nullptr) << "AIRLOCK_PORTAL_BIN is not set (run through meson test)";
    saved_portal_ = portal;
    g_autofree char* binary = nullptr;
    gsize length = 0;
    ASSERT_TRUE(g_file_get_contents(portal, &binary, &length, nullptr));
    const std::string copy = dir + "/airlock-portal", helper = dir + "/airlock-session-ca";
    ASSERT_TRUE(g_file_set_contents(copy.c_str(), binary, static_cast<gssize>(length), nullptr));
    Scratch::write_file(helper, "#!/bin/sh\necho 'airlock-session-ca: made to fail by the test' >&2\nexit 1\n");
    ASSERT_EQ(chmod(copy.c_str(), 0755), 0);
    ASSERT_EQ(chmod(helper.c_str(), 0755), 0);
    setenv("AIRLOCK_PORTAL_BIN", copy.c_str(), 1);
    Network::SetUp();
  }
  void TearDown() override {
    Network::TearDown();
    if (!saved_portal_.empty()) setenv("AIRLOCK_PORTAL_BIN", saved_portal_.c_str(), 1);
  }
  std::string saved_portal_;
};

TEST_F(NetworkWithoutCertificates, ASessionWhoseProxyCannotStartRefusesConnectionsAtOnce) {
  std::string port = serve("127.0.0.2");
  grant_in_policy("127.0.0.2:" + port + ";");
  Result result = run_agent({"--prompt=none"}, "start=$(date +%s); curl -sS -m 20 http://127.0.0.2:" + port +
                                                   "/hello.txt; echo \"curl=$? seconds=$(( $(date +%s) - start ))\"");
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("made to fail by the test"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("hello from the host"), std::string::npos) << result.out;
  const size_t said = result.out.find("curl=");
  ASSERT_NE(said, std::string::npos) << result.out;
  int curl = -1, seconds = -1;
  ASSERT_EQ(sscanf(result.out.c_str() + said, "curl=%d seconds=%d", &curl, &seconds), 2) << result.out;
  EXPECT_NE(curl, 0);
  EXPECT_NE(curl, 28) << "curl timed out: the connection waited instead of being refused";
  EXPECT_LT(seconds, 10);
}

}  // namespace
}  // namespace airlock::test
