// Secrets (issue 5): an agent asks for a named secret, a person approves,
// and the value reaches one command without touching a log, an argv, or
// any other process. Real portal, real sandbox, the file store and a real
// Secret Service (gnome-keyring-daemon) on the private bus.
#include <dirent.h>
#include <string.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

// Distinctive, so that finding it anywhere means it leaked.
constexpr const char kValue[] = "airlock-test-value-7f3a9c2e51";
constexpr const char kPassphrase[] = "correct horse battery";

std::string sha256(const std::string& text) {
  g_autofree char* hex = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text.c_str(), -1);
  return hex;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class PortalSecrets : public PortalTest {
 protected:
  // `airlock secret add --store=STORE NAME`, the value on standard input.
  Result add_secret(const std::string& name, const std::string& value, const std::string& store = "file") {
    std::string passphrase_file = scratch_.path("passphrase");
    Scratch::write_file(passphrase_file, kPassphrase);
    Options with_input = options();
    with_input.input = value;
    return run({"/bin/sh", "-c",
                "exec \"$0\" secret add --store=" + store + " --passphrase-fd=3 " + name + " 3<" + passphrase_file,
                airlock_binary()},
               with_input);
  }

  // An agent that asks for NAME and runs a command with it in $VAR, which
  // records the value's hash (never the value) in the exchange folder.
  std::string exec_recording_hash(const std::string& name, const std::string& extra = "") {
    return "airlock-request secret " + name + " " + extra + " --exec -- sh -c 'printf %s \"$" +
           default_var(name) + "\" | sha256sum | cut -d\" \" -f1 > " + exchange_ + "/hash'; echo rc=$?";
  }
  static std::string default_var(const std::string& name) {
    std::string var;
    for (char c : name) var += g_ascii_isalnum(c) ? g_ascii_toupper(c) : '_';
    return var;
  }
  std::string recorded_hash() {
    std::string hash = Scratch::read_file(exchange_ + "/hash");
    while (!hash.empty() && hash.back() == '\n') hash.pop_back();
    return hash;
  }
};

TEST_F(PortalSecrets, AnApprovedSecretFromTheFileStoreReachesTheCommand) {
  Result added = add_secret("gh-token", kValue);
  ASSERT_EQ(added.status, 0) << added.err;
  auto prompt = prompter({"--answer=allow", "--kind=secret", "--resource=gh-token"});
  Result agent = run_agent({}, exec_recording_hash("gh-token", "--reason 'push the fix'"));
  EXPECT_NE(agent.out.find("rc=0"), std::string::npos) << agent.out << agent.err;
  EXPECT_EQ(recorded_hash(), sha256(kValue));
  // Once is one retrieval: nothing stays granted.
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
}

TEST_F(PortalSecrets, DeniedAndUnansweredRequestsRunNothing) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  {
    auto prompt = prompter({"--answer=deny", "--kind=secret"});
    Result agent = run_agent({}, exec_recording_hash("gh-token"));
    EXPECT_NE(agent.out.find("rc=1"), std::string::npos) << agent.out << agent.err;
    EXPECT_NE(agent.err.find("denied"), std::string::npos) << agent.err;
  }
  hold_prompts();  // and never answer: the portal's timeout (3 s here) denies
  Result agent = run_agent({}, exec_recording_hash("gh-token"));
  EXPECT_NE(agent.out.find("rc=1"), std::string::npos) << agent.out << agent.err;
  EXPECT_NE(agent.err.find("timed out"), std::string::npos) << agent.err;
  EXPECT_FALSE(g_file_test((exchange_ + "/hash").c_str(), G_FILE_TEST_EXISTS)) << "the command ran";
}

TEST_F(PortalSecrets, AGrantEndsAfterItsTtlAndTheNextRequestAsksAgain) {
  ASSERT_EQ(add_secret("api-key", kValue).status, 0);
  hold_prompts();
  auto agent = start_agent({}, exec_recording_hash("api-key") + "; sleep 3; airlock-request secret api-key --print "
                                                                "--timeout 20 >/dev/null; echo second=$?");
  std::string first = wait_for_prompt();
  ASSERT_FALSE(first.empty()) << agent->err();
  GVariantBuilder results;
  g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&results, "{sv}", "ttl", g_variant_new_uint32(2));
  ASSERT_TRUE(answer(first, true, "task", g_variant_builder_end(&results)));
  // Granted for two seconds: asked again after them.
  std::string second = wait_for_prompt();
  ASSERT_FALSE(second.empty()) << "the TTL did not end the grant";
  ASSERT_TRUE(answer(second, false, "once"));
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_NE(agent->out().find("rc=0"), std::string::npos) << agent->out() << agent->err();
  EXPECT_NE(agent->out().find("second=1"), std::string::npos) << agent->out() << agent->err();
  auto log = manager_list("AuditLog", g_variant_new("(a{sv})", nullptr));
  bool expired = false;
  for (const auto& row : log) expired |= row.at("event") == "expire" && row.at("resource") == "api-key";
  EXPECT_TRUE(expired) << "the TTL's end is in the audit log";
}

TEST_F(PortalSecrets, ATaskGrantEndsWithTheTaskAndIsNotAnotherSessions) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  hold_prompts();
  // The first session holds a task grant while the second tries its id.
  auto holder = start_agent({}, "airlock-request secret gh-token --print >/dev/null && echo granted && "
                                "airlock-request grants && sleep 8");
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << holder->err();
  ASSERT_TRUE(answer(id, true, "task"));
  ASSERT_TRUE(holder->wait_for_output("granted")) << holder->err();
  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  ASSERT_EQ(grants.size(), 1u);
  std::string grant = grants[0].at("id");
  EXPECT_EQ(grants[0].at("kind"), "secret");
  // A second session calls RetrieveSecret with the first one's grant id.
  std::string raw_request = env_or_die("AIRLOCK_RAW_REQUEST_BIN");
  Result thief = run_agent({"--ro", raw_request}, raw_request + " retrieve-secret " + grant);
  EXPECT_NE(thief.out.find("refused: no such secret grant in this session"), std::string::npos) << thief.out << thief.err;
  EXPECT_EQ(thief.out.find("retrieved"), std::string::npos);
  holder->kill(SIGTERM);
  holder->wait();
  // Ended with the task: a new session is asked again.
  auto again = start_agent({}, "airlock-request secret gh-token --print >/dev/null; echo rc=$?");
  std::string asked = wait_for_prompt();
  EXPECT_FALSE(asked.empty()) << "the task grant outlived its session";
  if (!asked.empty()) answer(asked, false, "once");
  again->wait();
}

TEST_F(PortalSecrets, AlwaysNeedsTheConfirmedSecondStep) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  hold_prompts();
  auto agent = start_agent({}, "airlock-request secret gh-token --print >/dev/null; airlock-request grants");
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  ASSERT_TRUE(answer(id, true, "always"));  // a quick click, not confirmed
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_NE(agent->out().find("task"), std::string::npos) << agent->out();
  EXPECT_TRUE(manager_list("ListAlways").empty()) << "an unconfirmed always was remembered";

  auto second = start_agent({}, "airlock-request secret gh-token --print >/dev/null; echo rc=$?");
  id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << second->err();
  GVariantBuilder results;
  g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&results, "{sv}", "confirm-always", g_variant_new_boolean(TRUE));
  ASSERT_TRUE(answer(id, true, "always", g_variant_builder_end(&results)));
  EXPECT_EQ(second->wait(), 0);
  auto always = manager_list("ListAlways");
  ASSERT_EQ(always.size(), 1u);
  EXPECT_EQ(always[0].at("kind"), "secret");
  EXPECT_EQ(always[0].at("resource"), "gh-token");
}

TEST_F(PortalSecrets, ASecretForTheProxyGivesTheAgentAPlaceholderOnly) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  hold_prompts();
  std::string raw_request = env_or_die("AIRLOCK_RAW_REQUEST_BIN");
  auto agent = start_agent({"--ro", raw_request},
                           "airlock-request secret gh-token --host api.github.test --print && echo && sleep 4");
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  auto pending = manager_list("ListPending");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].at("host"), "api.github.test:443") << "the person sees where the secret goes";
  EXPECT_EQ(pending[0].at("header"), "Authorization");
  ASSERT_TRUE(answer(id, true, "task"));
  ASSERT_TRUE(agent->wait_for_output("\n")) << agent->err();
  std::string placeholder = agent->out().substr(0, agent->out().find('\n'));
  EXPECT_TRUE(g_str_has_prefix(placeholder.c_str(), "airlock-placeholder-")) << placeholder;
  EXPECT_EQ(placeholder.size(), strlen("airlock-placeholder-") + 32);
  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].at("host"), "api.github.test:443");
  agent->kill(SIGTERM);
  agent->wait();
  for (const auto& row : manager_list("AuditLog", g_variant_new("(a{sv})", nullptr)))
    EXPECT_EQ(row.at("rule").find(kValue), std::string::npos);
}

TEST_F(PortalSecrets, TheProxysGrantIsNeverRetrievedAndItsHeaderIsARequestHeader) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  auto prompt = prompter({"--answer=allow", "--kind=secret", "--scope=task", "--count=0"});
  std::string raw_request = env_or_die("AIRLOCK_RAW_REQUEST_BIN");
  Result agent = run_agent({"--ro", raw_request},
                           "airlock-request secret gh-token --host api.github.test --print >/dev/null && " + raw_request +
                               " retrieve-secret 1; airlock-request secret gh-token --host x.test --header Host "
                               "--print; echo host=$?; airlock-request secret gh-token --header X-Token --print; "
                               "echo alone=$?");
  EXPECT_NE(agent.out.find("refused: this grant is for the proxy"), std::string::npos) << agent.out << agent.err;
  EXPECT_EQ(agent.out.find("retrieved"), std::string::npos);
  EXPECT_NE(agent.out.find("host=2"), std::string::npos) << agent.out;
  EXPECT_NE(agent.err.find("not into Host"), std::string::npos) << agent.err;
  EXPECT_NE(agent.out.find("alone=2"), std::string::npos) << agent.out;
  EXPECT_NE(agent.err.find("--header goes with --host"), std::string::npos) << agent.err;
}

TEST_F(PortalSecrets, BadNamesAreRefusedWithAClearError) {
  for (const std::string& name : {std::string("a/b"), std::string(".."), std::string(10 * 1024, 'x')}) {
    Result agent = run_agent({}, "airlock-request secret '" + name + "' --print; echo rc=$?");
    EXPECT_NE(agent.out.find("rc=2"), std::string::npos) << name.substr(0, 20) << agent.out << agent.err;
    EXPECT_NE(agent.err.find("secret's name"), std::string::npos) << agent.err;
    Result add = add_secret("'" + name + "'", kValue);
    EXPECT_NE(add.status, 0);
    EXPECT_NE(add.err.find("secret's name"), std::string::npos) << add.err;
  }
  EXPECT_FALSE(g_file_test((scratch_.path("data") + "/airlock/secrets").c_str(), G_FILE_TEST_EXISTS));
}

TEST_F(PortalSecrets, ALockedFileStoreFailsClosed) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  // A portal that never got the key (it restarted): nothing to hand over.
  pid_t portal = portal_pid();
  ASSERT_GT(portal, 0);
  kill(portal, SIGKILL);
  auto prompt = prompter({"--answer=allow", "--kind=secret"});
  Result agent = run_agent({}, exec_recording_hash("gh-token"));
  EXPECT_NE(agent.out.find("rc=2"), std::string::npos) << agent.out << agent.err;
  EXPECT_NE(agent.err.find("airlock secret unlock"), std::string::npos) << agent.err;
  std::string passphrase_file = scratch_.path("passphrase");
  Result unlock = run({"/bin/sh", "-c", "exec \"$0\" secret unlock --passphrase-fd=3 3<" + passphrase_file,
                       airlock_binary()},
                      options());
  ASSERT_EQ(unlock.status, 0) << unlock.err;
  Result retry = run_agent({}, exec_recording_hash("gh-token"));
  EXPECT_NE(retry.out.find("rc=0"), std::string::npos) << retry.out << retry.err;
  EXPECT_EQ(recorded_hash(), sha256(kValue));
}

// Every place a value could leak to, searched for it while the command
// holding it runs, and after.
TEST_F(PortalSecrets, TheValueIsInNoLogNoArgvAndNoOtherProcess) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  auto prompt = prompter({"--answer=allow", "--kind=secret", "--scope=task"});
  auto agent = start_agent({"--verbose"}, "airlock-request secret gh-token --exec -- sh -c 'touch " + exchange_ +
                                              "/ready; exec sleep 30.5'");
  ASSERT_TRUE(wait_for_file(exchange_ + "/ready")) << agent->err();
  // The command is `sleep 30.5` once its shell has exec'd: until then, the
  // shell (the same process) holds it.
  const std::string command("sleep\0" "30.5\0", 11);
  int holders = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    holders = 0;
    bool command_seen = false;
    std::vector<std::string> leaks;
    DIR* proc = opendir("/proc");
    ASSERT_NE(proc, nullptr);
    while (dirent* entry = readdir(proc)) {
      if (!g_ascii_isdigit(entry->d_name[0])) continue;
      std::string dir = std::string("/proc/") + entry->d_name;
      std::string cmdline = file_bytes(dir + "/cmdline");
      std::string environ = file_bytes(dir + "/environ");
      if (cmdline.find(kValue) != std::string::npos) leaks.push_back("the argv of " + dir);
      if (environ.find(kValue) == std::string::npos) continue;
      ++holders;
      if (cmdline == command) command_seen = true;
      else if (cmdline.find("exec sleep 30.5") == std::string::npos) leaks.push_back("the environment of " + dir + ": " + cmdline);
    }
    closedir(proc);
    EXPECT_TRUE(leaks.empty()) << leaks[0];
    if (command_seen || !leaks.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(holders, 1) << "the command holds the value in its environment";
  // The portal, which reads values, is undumpable: the user's own processes
  // (an agent's among them) cannot read its memory or environment.
  pid_t portal = portal_pid();
  ASSERT_GT(portal, 0);
  std::string portal_environ = "/proc/" + std::to_string(portal) + "/environ";
  EXPECT_NE(access(portal_environ.c_str(), R_OK), 0) << "the portal is dumpable";
  agent->kill(SIGTERM);
  agent->wait();

  EXPECT_EQ(agent->err().find(kValue), std::string::npos) << "in airlock run --verbose";
  EXPECT_EQ(agent->out().find(kValue), std::string::npos);
  EXPECT_EQ(prompt->out().find(kValue), std::string::npos);
  EXPECT_EQ(prompt->err().find(kValue), std::string::npos);
  std::string log = file_bytes(portal_log());
  EXPECT_NE(log.find("airlock"), std::string::npos) << "the portal's stderr was captured (debug messages on)";
  EXPECT_EQ(log.find(kValue), std::string::npos) << "in the portal's stderr";
  std::string data = scratch_.path("data") + "/airlock";
  for (const char* file : {"audit.db", "audit.db-wal", "permissions.db", "permissions.db-wal", "secrets/gh-token.secret"})
    EXPECT_EQ(file_bytes(data + "/" + file).find(kValue), std::string::npos) << "in " << file;
  auto rows = manager_list("AuditLog", g_variant_new("(a{sv})", nullptr));
  bool used = false;
  for (const auto& row : rows) used |= row.at("event") == "use" && row.at("kind") == "secret";
  EXPECT_TRUE(used) << "each retrieval is in the audit log (by name)";
}

TEST_F(PortalSecrets, TheSecretServiceServesItsValues) {
  g_autofree char* daemon = g_find_program_in_path("gnome-keyring-daemon");
  if (!daemon) GTEST_SKIP() << "gnome-keyring-daemon is not installed (setup.sh installs it for CI)";
  // A real Secret Service on the private bus, its login keyring unlocked.
  Options keyring = options();
  keyring.input = "keyring-password";
  Result started = run({daemon, "--unlock", "--components=secrets", "--daemonize"}, keyring);
  ASSERT_EQ(started.status, 0) << started.err;
  // It forks before it is on the bus.
  bool on_bus = false;
  for (int i = 0; i < 200 && !on_bus; ++i) {
    g_autoptr(GVariant) owner = g_dbus_connection_call_sync(
        connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
        g_variant_new("(s)", "org.freedesktop.secrets"), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, nullptr,
        nullptr);
    gboolean has = FALSE;
    if (owner) g_variant_get(owner, "(b)", &has);
    on_bus = has;
    if (!on_bus) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(on_bus) << "gnome-keyring-daemon did not come onto the bus";
  Result added = add_secret("registry-token", kValue, "keyring");
  ASSERT_EQ(added.status, 0) << added.err;
  EXPECT_NE(added.out.find("Secret Service"), std::string::npos) << added.out;
  EXPECT_FALSE(g_file_test((scratch_.path("data") + "/airlock/secrets").c_str(), G_FILE_TEST_EXISTS))
      << "a keyring secret went to the file store";
  Result listed = airlock({"secret", "list"}, options());
  EXPECT_NE(listed.out.find("registry-token"), std::string::npos) << listed.out << listed.err;
  auto prompt = prompter({"--answer=allow", "--kind=secret"});
  Result agent = run_agent({}, exec_recording_hash("registry-token"));
  EXPECT_NE(agent.out.find("rc=0"), std::string::npos) << agent.out << agent.err;
  EXPECT_EQ(recorded_hash(), sha256(kValue));
  // With a Secret Service, the file store keeps its key there: no
  // passphrase, and a portal that restarted reads it by itself.
  Options value = options();
  value.input = "file-value-with-keyring-key";
  Result file_added = airlock({"secret", "add", "--store=file", "file-token"}, value);
  ASSERT_EQ(file_added.status, 0) << file_added.err;
  EXPECT_NE(Scratch::read_file(scratch_.path("data") + "/airlock/secrets/store.key").find("kdf=keyring"),
            std::string::npos);
  kill(portal_pid(), SIGKILL);
  auto third = prompter({"--answer=allow", "--kind=secret"});
  Result from_file = run_agent({}, "airlock-request secret file-token --print; echo; echo rc=$?");
  EXPECT_NE(from_file.out.find("file-value-with-keyring-key\n"), std::string::npos) << from_file.out << from_file.err;
  Result removed = airlock({"secret", "rm", "registry-token"}, options());
  EXPECT_EQ(removed.status, 0) << removed.err;
  auto again = prompter({"--answer=allow", "--kind=secret"});
  Result missing = run_agent({}, "airlock-request secret registry-token --print; echo rc=$?");
  EXPECT_NE(missing.out.find("rc=2"), std::string::npos) << missing.out << missing.err;
  EXPECT_NE(missing.err.find("no secret named registry-token"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace airlock::test

namespace airlock::test {
namespace {

// An HTTPS origin on the host's loopback whose certificate a test root
// signed; it records the Authorization header it got and echoes it back.
constexpr const char kEchoServer[] = R"(import http.server, ssl, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        got = self.headers.get('Authorization', '')
        with open(sys.argv[3], 'a') as seen:
            seen.write(got + '\n')
        body = ('you sent: ' + got + '\n').encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer((sys.argv[1], 0), Echo)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2])
server.socket = context.wrap_socket(server.socket, server_side=True)
print('port', server.server_address[1], flush=True)
server.serve_forever()
)";

class PortalInjection : public PortalSecrets {
 protected:
  void SetUp() override {
    // The portal verifies intercepted origins against the test root, which
    // must exist before the bus starts it.
    make_certificates();
    setenv("AIRLOCK_INTERCEPT_ROOTS", (pki_ + "/root.pem").c_str(), 1);
    PortalSecrets::SetUp();
  }
  void TearDown() override {
    servers_.clear();
    PortalSecrets::TearDown();
    unsetenv("AIRLOCK_INTERCEPT_ROOTS");
  }

  void make_certificates() {
    pki_ = scratch_.path("pki");
    mkdir(pki_.c_str(), 0755);
    Result made = run({"/bin/bash", "-c",
                       "set -e; cd \"$0\"; "
                       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key "
                       "-out root.pem -days 2 -subj '/CN=Airlock test root' "
                       "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null; "
                       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
                       "-out server.csr -subj /CN=127.0.0.2 2>/dev/null; "
                       "printf 'subjectAltName=IP:127.0.0.2\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' "
                       "> server.ext; "
                       "openssl x509 -req -in server.csr -CA root.pem -CAkey root.key -CAcreateserial -days 2 "
                       "-extfile server.ext -out server.pem 2>/dev/null; cat server.pem server.key > server-key.pem; "
                       "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key "
                       "-out rogue.pem -days 2 -subj /CN=127.0.0.2 -addext subjectAltName=IP:127.0.0.2 2>/dev/null; "
                       "cat rogue.pem rogue.key > rogue-key.pem",
                       pki_});
    ASSERT_EQ(made.status, 0) << made.err;
  }

  // Starts an HTTPS echo origin on 127.0.0.2; its port.
  std::string serve_https(const std::string& seen_file, const std::string& key = "server-key.pem") {
    Scratch::write_file(pki_ + "/echo.py", kEchoServer);
    servers_.push_back(std::make_unique<Child>(
        std::vector<std::string>{"/usr/bin/python3", "-u", pki_ + "/echo.py", "127.0.0.2", pki_ + "/" + key,
                                 seen_file},
        Options{}));
    Child& server = *servers_.back();
    EXPECT_TRUE(server.wait_for_output("\n")) << server.err();
    std::string out = server.out();
    return out.substr(5, out.find('\n') - 5);
  }

  std::string pki_;
  std::vector<std::unique_ptr<Child>> servers_;
};

TEST_F(PortalInjection, TheProxyPutsTheValueIntoHttpsRequestsAndTheAgentSeesOnlyThePlaceholder) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  std::string seen = scratch_.path("seen");
  std::string port = serve_https(seen);
  std::string origin = "127.0.0.2:" + port;
  write_policy("[Rule test-origin]\nKind=host\nMatch=" + origin + ";\nDecision=allow\n");
  auto prompt = prompter({"--answer=allow", "--kind=secret", "--scope=task"});
  Result agent = run_agent(
      {}, "airlock-request secret gh-token --host " + origin +
              " --exec -- sh -c 'echo \"agent holds: $GH_TOKEN\"; curl -sS --noproxy \"\" -x http://127.0.0.1:3128 "
              "-H \"Authorization: Bearer $GH_TOKEN\" https://" + origin + "/'");
  EXPECT_EQ(agent.status, 0) << agent.out << agent.err;
  // The origin got the value...
  EXPECT_EQ(Scratch::read_file(seen), std::string("Bearer ") + kValue + "\n");
  // ...the agent held a placeholder, and the echo came back scrubbed.
  EXPECT_NE(agent.out.find("agent holds: airlock-placeholder-"), std::string::npos) << agent.out;
  EXPECT_NE(agent.out.find("you sent: Bearer " + std::string(strlen(kValue), '*')), std::string::npos)
      << agent.out << agent.err;
  EXPECT_EQ(agent.out.find(kValue), std::string::npos);
  EXPECT_EQ(agent.err.find(kValue), std::string::npos);
  bool used = false;
  for (const auto& row : manager_list("AuditLog", g_variant_new("(a{sv})", nullptr))) {
    used |= row.at("event") == "use" && row.at("kind") == "secret" && row.at("outcome") == "allow";
    EXPECT_EQ(row.at("rule").find(kValue), std::string::npos);
  }
  EXPECT_TRUE(used) << "the injection is in the audit log";
}

TEST_F(PortalInjection, AHostWithoutSuchAGrantIsTunnelledUntouched) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  std::string injected_port = serve_https(scratch_.path("seen-injected"));
  std::string plain_port = serve_https(scratch_.path("seen-plain"));
  write_policy("[Rule test-origins]\nKind=host\nMatch=127.0.0.2:" + injected_port + ";127.0.0.2:" + plain_port +
               ";\nDecision=allow\n");
  ASSERT_EQ(run({"/bin/cp", pki_ + "/root.pem", exchange_ + "/root.pem"}).status, 0);
  auto prompt = prompter({"--answer=allow", "--kind=secret", "--scope=task"});
  // Trusting only the test root: the untouched host verifies (its own
  // certificate came through); the intercepted one does not (the session's
  // did).
  std::string curl = "curl -sS -o /dev/null -w '%{http_code}\\n' --noproxy '' -x http://127.0.0.1:3128 --cacert " +
                     exchange_ + "/root.pem https://127.0.0.2:";
  Result agent = run_agent({}, "airlock-request secret gh-token --host 127.0.0.2:" + injected_port +
                                   " --print >/dev/null; " + curl + plain_port + "/; echo plain=$?; " + curl +
                                   injected_port + "/; echo injected=$?");
  EXPECT_NE(agent.out.find("200\nplain=0"), std::string::npos) << agent.out << agent.err;
  EXPECT_EQ(agent.out.find("injected=0"), std::string::npos) << agent.out << agent.err;
}

TEST_F(PortalInjection, AnOriginThatDoesNotVerifyGetsNothing) {
  ASSERT_EQ(add_secret("gh-token", kValue).status, 0);
  // Its certificate is its own, signed by no root the portal trusts.
  std::string seen = scratch_.path("seen");
  std::string port = serve_https(seen, "rogue-key.pem");
  std::string origin = "127.0.0.2:" + port;
  write_policy("[Rule test-origin]\nKind=host\nMatch=" + origin + ";\nDecision=allow\n");
  auto prompt = prompter({"--answer=allow", "--kind=secret", "--scope=task"});
  Result agent = run_agent({}, "airlock-request secret gh-token --host " + origin +
                                   " --exec -- sh -c 'curl -sS --noproxy \"\" -x http://127.0.0.1:3128 "
                                   "-H \"Authorization: Bearer $GH_TOKEN\" https://" + origin + "/; echo rc=$?'");
  EXPECT_EQ(agent.out.find("rc=0"), std::string::npos) << agent.out << agent.err;
  EXPECT_EQ(agent.out.find("you sent"), std::string::npos) << agent.out;
  EXPECT_FALSE(g_file_test(seen.c_str(), G_FILE_TEST_EXISTS)) << "the origin got a request";
}

}  // namespace
}  // namespace airlock::test
