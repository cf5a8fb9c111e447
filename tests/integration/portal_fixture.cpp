#include "portal_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace airlock::test {

Child::Child(const std::vector<std::string>& argv, const Options& options) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry; ++entry) {
    std::string item(*entry);
    std::string name = item.substr(0, item.find('='));
    if (options.env.count(name)) continue;
    bool unset = false;
    for (const auto& gone : options.unset_env) unset = unset || gone == name;
    if (!unset) env_strings.push_back(item);
  }
  for (const auto& [name, value] : options.env) env_strings.push_back(name + "=" + value);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args, envp;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    for (auto& entry : env_strings) envp.push_back(entry.data());
    envp.push_back(nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

Child::~Child() {
  if (status_ < 0 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Child::drain(int timeout_ms) {
  struct pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0) return;
  char buffer[4096];
  for (int i = 0; i < 2; ++i) {
    if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
    ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
    if (n > 0) (i == 0 ? out_ : err_).append(buffer, static_cast<size_t>(n));
    else if (n == 0) {
      close(fds[i].fd);
      (i == 0 ? out_fd_ : err_fd_) = -1;
    }
  }
}

bool Child::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline || (out_fd_ < 0 && err_fd_ < 0)) return false;
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    drain(100);
  }
  return true;
}

int Child::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (status_ < 0) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    drain(50);
  }
  while (out_fd_ >= 0 || err_fd_ >= 0) drain(1000);
  return status_;
}

void Child::kill(int signo) { ::kill(pid_, signo); }
const std::string& Child::out() {
  drain(0);
  return out_;
}
const std::string& Child::err() {
  drain(0);
  return err_;
}

void PortalTest::SetUp() {
  SKIP_IF_ROOT();
  exchange_ = scratch_.path("exchange");
  project_ = scratch_.path("project");
  mkdir(exchange_.c_str(), 0755);
  mkdir(project_.c_str(), 0755);
  Scratch::write_file(project_ + "/README", "project readme\n");

  // The bus starts the portal with the environment the bus has: the
  // scratch's home, store and policy.
  std::string services = scratch_.path("services");
  mkdir(services.c_str(), 0755);
  // Everything the portal says, its debug messages too, goes to portal_log().
  Scratch::write_file(services + "/org.airlock.Portal.service",
                      "[D-BUS Service]\nName=org.airlock.Portal\nExec=/bin/sh -c \"G_MESSAGES_DEBUG=all exec '" +
                          env_or_die("AIRLOCK_PORTAL_BIN") + "' >>'" + portal_log() + "' 2>&1\"\n");
  std::map<std::string, std::string> env = {
      {"HOME", scratch_.home()},
      {"XDG_RUNTIME_DIR", scratch_.path("run")},
      {"XDG_DATA_HOME", scratch_.path("data")},
      {"XDG_CONFIG_HOME", scratch_.path("config")},
      {"AIRLOCK_PROMPT_TIMEOUT", "3"},
  };
  for (const auto& [name, value] : env) {
    const char* old = getenv(name.c_str());
    saved_env_[name] = old ? old : std::string("\x01unset");
    setenv(name.c_str(), value.c_str(), 1);
  }
  bus_ = g_test_dbus_new(G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir(bus_, services.c_str());
  g_test_dbus_up(bus_);
  g_autoptr(GError) error = nullptr;
  connection_ = g_dbus_connection_new_for_address_sync(
      g_test_dbus_get_bus_address(bus_),
      static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
      nullptr, nullptr, &error);
  ASSERT_NE(connection_, nullptr) << error->message;
}

void PortalTest::TearDown() {
  for (GDBusMethodInvocation* invocation : held_)
    g_dbus_method_invocation_return_value(invocation, g_variant_new("(u@a{sv})", 2u, g_variant_new("a{sv}", nullptr)));
  held_.clear();
  if (prompter_registration_) g_dbus_connection_unregister_object(connection_, prompter_registration_);
  if (connection_) {
    g_dbus_connection_close_sync(connection_, nullptr, nullptr);
    g_object_unref(connection_);
  }
  if (bus_) {
    g_test_dbus_down(bus_);
    g_object_unref(bus_);
  }
  for (const auto& [name, value] : saved_env_) {
    if (value == "\x01unset") unsetenv(name.c_str());
    else setenv(name.c_str(), value.c_str(), 1);
  }
}

Options PortalTest::options() const {
  Options options = scratch_.options();
  return options;  // the rest is in the environment the bus was started with
}

std::unique_ptr<Child> PortalTest::start_agent(const std::vector<std::string>& run_args, const std::string& script,
                                               const std::string& shell) {
  std::vector<std::string> argv = {airlock_binary(), "run", "--rw", exchange_};
  argv.insert(argv.end(), run_args.begin(), run_args.end());
  argv.insert(argv.end(), {"--", shell, "-c", script});
  return std::make_unique<Child>(argv, options());
}

Result PortalTest::run_agent(const std::vector<std::string>& run_args, const std::string& script,
                             const std::string& shell) {
  std::vector<std::string> args = {"run", "--rw", exchange_};
  args.insert(args.end(), run_args.begin(), run_args.end());
  args.insert(args.end(), {"--", shell, "-c", script});
  return airlock(args, options());
}

std::unique_ptr<Child> PortalTest::prompter(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {airlock_binary(), "prompt"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = std::make_unique<Child>(argv, options());
  EXPECT_TRUE(child->wait_for_output("airlock prompt: ready")) << child->err();
  return child;
}

void PortalTest::write_policy(const std::string& text) {
  std::string dir = scratch_.path("config/airlock");
  g_mkdir_with_parents(dir.c_str(), 0700);
  Scratch::write_file(dir + "/airlock.policy", text);
}

bool PortalTest::wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Scratch::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

GVariant* PortalTest::manager_call(const char* method, GVariant* args, GError** error) {
  return g_dbus_connection_call_sync(connection_, "org.airlock.Portal", "/org/airlock/Manager", "org.airlock.Manager",
                                     method, args, nullptr, G_DBUS_CALL_FLAGS_NONE, 20000, nullptr, error);
}

std::vector<Row> PortalTest::manager_list(const char* method, GVariant* args) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = manager_call(method, args, &error);
  std::vector<Row> rows;
  if (!reply) {
    ADD_FAILURE() << method << ": " << error->message;
    return rows;
  }
  g_autoptr(GVariant) list = g_variant_get_child_value(reply, 0);
  for (gsize i = 0; i < g_variant_n_children(list); ++i) {
    g_autoptr(GVariant) dict = g_variant_get_child_value(list, i);
    Row row;
    GVariantIter iter;
    const char* key = nullptr;
    GVariant* value = nullptr;
    g_variant_iter_init(&iter, dict);
    while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
      if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) row[key] = g_variant_get_string(value, nullptr);
      else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) row[key] = std::to_string(g_variant_get_int64(value));
      else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) row[key] = std::to_string(g_variant_get_uint32(value));
      else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) row[key] = g_variant_get_boolean(value) ? "true" : "false";
    }
    rows.push_back(row);
  }
  return rows;
}

pid_t PortalTest::portal_pid() {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new("(s)", "org.airlock.Portal"), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, &error);
  if (!reply) return -1;
  guint32 pid = 0;
  g_variant_get(reply, "(u)", &pid);
  return static_cast<pid_t>(pid);
}

namespace {

const char kPrompterXml[] =
    "<node><interface name='org.airlock.impl.Prompter'>"
    "<method name='Prompt'><arg type='s' direction='in'/><arg type='a{sv}' direction='in'/>"
    "<arg type='u' direction='out'/><arg type='a{sv}' direction='out'/></method>"
    "<method name='Close'><arg type='s' direction='in'/></method>"
    "</interface></node>";

}  // namespace

void PortalTest::hold_prompts() {
  // A test double of the prompter: the real interface is the XML in data/,
  // which this must match.
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(kPrompterXml, nullptr);
  static const GDBusInterfaceVTable vtable = {
      +[](GDBusConnection*, const char*, const char*, const char*, const char* method, GVariant* parameters,
          GDBusMethodInvocation* invocation, gpointer data) {
        auto* self = static_cast<PortalTest*>(data);
        if (g_strcmp0(method, "Close") == 0) {
          g_dbus_method_invocation_return_value(invocation, nullptr);
          return;
        }
        const char* id = nullptr;
        g_variant_get_child(parameters, 0, "&s", &id);
        self->prompts_.emplace_back(id);
        self->held_.push_back(invocation);
      },
      nullptr, nullptr, {}};
  g_autoptr(GError) error = nullptr;
  prompter_registration_ = g_dbus_connection_register_object(connection_, "/org/airlock/Prompter", node->interfaces[0],
                                                             &vtable, this, nullptr, &error);
  ASSERT_NE(prompter_registration_, 0u) << error->message;
  g_autoptr(GVariant) reply = manager_call("RegisterPrompter", g_variant_new("(a{sv})", nullptr), &error);
  ASSERT_NE(reply, nullptr) << error->message;
}

std::string PortalTest::wait_for_prompt(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (prompts_.empty()) {
    if (std::chrono::steady_clock::now() > deadline) return "";
    g_main_context_iteration(nullptr, FALSE);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string id = prompts_.front();
  prompts_.erase(prompts_.begin());
  return id;
}

bool PortalTest::answer(const std::string& id, bool allow, const std::string& scope, GVariant* results) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply =
      manager_call("Answer",
                   g_variant_new("(sus@a{sv})", id.c_str(), allow ? 0u : 1u, scope.c_str(),
                                 results ? results : g_variant_new("a{sv}", nullptr)),
                   &error);
  if (!reply) ADD_FAILURE() << "Answer: " << error->message;
  return reply != nullptr;
}

}  // namespace airlock::test
