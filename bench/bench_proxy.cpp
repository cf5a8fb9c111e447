// The network proxy's numbers (issue 4, DESIGN.md "Performance budget"), in
// one run, against a loopback server this program starts on the host (its
// own process, on 127.0.0.2 so that NO_PROXY's 127.0.0.1 does not apply):
//   - connection setup: a connection opened and one byte echoed, SETUPS
//     times a round, through each route below;
//   - bulk throughput: BYTES sent to the server's sink and BYTES received
//     from its source, each through one tunnel, once a round.
// The routes, one after another in every round so that a busy machine
// weighs on all alike, all with the same client (bench-proxy-client):
//   - direct: the client on the host, TCP to the server: the baseline;
//   - minimal relay: the client on the host, TCP to a relay in this process
//     that does nothing but splice (two blocking threads a connection), TCP
//     to the server: the ceiling of any proxy that carries the bytes between
//     two TCP connections on this machine, which the airlock route does;
//   - airlock: the client in `airlock run`, an HTTP CONNECT tunnel through
//     127.0.0.1:3128 inside the sandbox (airlock-init's bridge hands the TCP
//     connection to the portal's proxy, TCP to the server): what an agent
//     gets;
//   - portal only: the client on the host, a CONNECT tunnel through a held
//     sandbox's proxy socket, reached as /proc/PID/root/run/airlock/proxy.sock
//     (the portal's proxy with a unix socket instead of the agent's TCP
//     connection), when reachable;
//   - srt: the client in Anthropic's sandbox-runtime (`srt`, installed from
//     the npm registry into the scratch folder), a CONNECT tunnel through its
//     localhost:3128 (its socat relays and its Node proxy), when it installs
//     and runs; otherwise one line says why.
// It builds a scratch HOME, XDG folders, a D-Bus service file naming the
// built portal and a user policy granting the server's address, then runs
// itself again under dbus-run-session. A benchmark, not a test: it reports,
// and fails only when it cannot measure Airlock. The scratch folder is
// removed in every case.
#include <fcntl.h>
#include <ftw.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"

namespace {

using namespace airlock::bench;

constexpr const char* kServerAddress = "127.0.0.2";
constexpr const char* kProxySocketInside = "/run/airlock/proxy.sock";  // launcher/sandbox_plan.h

struct Config {
  std::string build, scratch;
  int setups = 500, rounds = 3;
  long mib = 1024;
  int port = 0;
  std::string srt, srt_why;  // srt's path, or why there is none
};

// What the inner run started, ended by die() too.
pid_t g_agent = -1, g_hold = -1;
GDBusConnection* g_bus = nullptr;
void stop_started();

// The last line of TEXT that says something: what a failed program said.
std::string last_line(const std::string& text) {
  std::stringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last.empty() ? "(it said nothing)" : last;
}

// ---- the loopback server, in its own process ------------------------------------

struct Peer {
  int fd = -1;
  char op = 0;
  char header[8] = {};
  int have = 0;
  uint64_t left = 0;
  bool sending = false, acked = false;
};

uint64_t get_u64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<unsigned char>(in[i]);
  return value;
}

void close_peer(int epoll_fd, Peer* peer) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, peer->fd, nullptr);
  close(peer->fd);
  delete peer;
}

// Bytes from a peer: the op, its 8-byte count, then echo or sink. False
// when the peer is to be closed.
bool take(int epoll_fd, Peer* peer, const char* data, size_t size) {
  size_t at = 0;
  while (at < size) {
    if (peer->op == 0) {
      peer->op = data[at];
      if (peer->op != 'e') ++at;  // the echo's first byte is echoed too
      continue;
    }
    if (peer->op == 'e') {
      // A byte at a time: the socket's buffer never fills.
      return write(peer->fd, data + at, size - at) == static_cast<ssize_t>(size - at);
    }
    if (peer->have < 8) {
      size_t n = std::min(size - at, static_cast<size_t>(8 - peer->have));
      memcpy(peer->header + peer->have, data + at, n);
      peer->have += static_cast<int>(n);
      at += n;
      if (peer->have < 8) return true;
      peer->left = get_u64(peer->header);
      if (peer->op == 'd') {
        peer->sending = true;
        struct epoll_event event {};
        event.events = EPOLLOUT;
        event.data.ptr = peer;
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, peer->fd, &event);
        return true;
      }
    }
    if (peer->op == 'u' && !peer->acked) {
      uint64_t n = std::min<uint64_t>(peer->left, size - at);
      peer->left -= n;
      at += static_cast<size_t>(n);
      if (peer->left == 0) {
        char ack[8];
        uint64_t count = get_u64(peer->header);
        for (int i = 7; i >= 0; --i, count >>= 8) ack[i] = static_cast<char>(count & 0xff);
        if (write(peer->fd, ack, sizeof ack) != sizeof ack) return false;
        peer->acked = true;
      }
      continue;
    }
    return true;  // anything after the work is ignored
  }
  return true;
}

[[noreturn]] void serve(int listener) {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) _exit(1);
  struct epoll_event event {};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event);
  static char buffer[256 * 1024];
  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(epoll_fd, events, 64, -1);
    for (int i = 0; i < n; ++i) {
      auto* peer = static_cast<Peer*>(events[i].data.ptr);
      if (!peer) {
        int fd;
        while ((fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          auto* fresh = new Peer;
          fresh->fd = fd;
          struct epoll_event in {};
          in.events = EPOLLIN;
          in.data.ptr = fresh;
          epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &in);
        }
        continue;
      }
      if (peer->sending) {
        while (peer->left > 0) {
          ssize_t sent = send(peer->fd, buffer, static_cast<size_t>(std::min<uint64_t>(peer->left, sizeof buffer)),
                              MSG_NOSIGNAL);
          if (sent < 0 && errno == EAGAIN) break;
          if (sent <= 0) {
            peer->left = 0;
            break;
          }
          peer->left -= static_cast<uint64_t>(sent);
        }
        if (peer->left == 0) {
          peer->sending = false;  // then wait for the client to close
          struct epoll_event in {};
          in.events = EPOLLIN;
          in.data.ptr = peer;
          epoll_ctl(epoll_fd, EPOLL_CTL_MOD, peer->fd, &in);
        }
        continue;
      }
      for (;;) {
        ssize_t got = read(peer->fd, buffer, sizeof buffer);
        if (got < 0 && errno == EAGAIN) break;
        if (got <= 0) {
          close_peer(epoll_fd, peer);
          break;
        }
        if (!take(epoll_fd, peer, buffer, static_cast<size_t>(got))) {
          close_peer(epoll_fd, peer);
          break;
        }
        if (peer->sending) break;
      }
    }
  }
}

// Forks the server on 127.0.0.2 and returns its port; it dies with this
// process.
int start_server(pid_t* server) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) die_errno("socket");
  struct sockaddr_in address {};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, kServerAddress, &address.sin_addr);
  if (bind(listener, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0)
    die_errno(std::string("cannot bind the server on ") + kServerAddress);
  if (listen(listener, 4096) != 0) die_errno("listen");
  socklen_t length = sizeof address;
  getsockname(listener, reinterpret_cast<struct sockaddr*>(&address), &length);
  pid_t parent = getpid();
  *server = fork();
  if (*server < 0) die_errno("fork");
  if (*server == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    signal(SIGPIPE, SIG_IGN);
    serve(listener);
  }
  close(listener);
  return ntohs(address.sin_port);
}

// ---- the ceiling: a minimal relay, in this process --------------------------------

// One way of a minimal relay: blocking splice through a pipe until the end
// of stream, which is passed on.
void splice_one_way(int from, int to) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  fcntl(fds[0], F_SETPIPE_SZ, 256 * 1024);
  for (bool open = true; open;) {
    ssize_t n = splice(from, nullptr, fds[1], nullptr, 256 * 1024, SPLICE_F_MOVE);
    open = n > 0;
    while (open && n > 0) {
      ssize_t moved = splice(fds[0], nullptr, to, nullptr, static_cast<size_t>(n), SPLICE_F_MOVE);
      open = moved > 0;
      n -= moved;
    }
  }
  shutdown(to, SHUT_WR);
  close(fds[0]);
  close(fds[1]);
}

// What any proxy that carries bytes between two TCP connections costs on
// this machine: a relay that does nothing else (two blocking threads a
// connection, splice only), from 127.0.0.1 to the server. The airlock route's
// bytes make the same two loopback TCP hops. Returns its port; it serves
// until the process ends.
int start_minimal_relay(int server_port) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 4096) != 0 || getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    die_errno("cannot listen for the minimal relay");
  std::thread([listener, server_port] {
    for (;;) {
      int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in to = {};
      to.sin_family = AF_INET;
      to.sin_port = htons(static_cast<uint16_t>(server_port));
      inet_pton(AF_INET, kServerAddress, &to.sin_addr);
      if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
        close(client);
        if (server >= 0) close(server);
        continue;
      }
      int one = 1;
      setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::thread([client, server] {
        std::thread down(splice_one_way, server, client);
        splice_one_way(client, server);
        down.join();
        close(client);
        close(server);
      }).detach();
    }
  }).detach();
  return ntohs(address.sin_port);
}

// ---- statistics --------------------------------------------------------------

using Samples = std::map<std::string, std::vector<double>>;

void add_results(Samples& samples, const std::string& text) {
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    std::stringstream values(line.substr(space + 1));
    std::string item;
    auto& list = samples[line.substr(0, space)];
    while (std::getline(values, item, ',')) list.push_back(atof(item.c_str()));
  }
}

// ---- the outer run: scratch, server, srt, bus, cleanup --------------------------

// sandbox-runtime: AIRLOCK_BENCH_SRT names an srt to use (or "none");
// otherwise the newest from the npm registry, into the scratch folder.
void find_srt(Config& config) {
  const char* chosen = g_getenv("AIRLOCK_BENCH_SRT");
  if (chosen && strcmp(chosen, "none") == 0) {
    config.srt_why = "not measured: AIRLOCK_BENCH_SRT=none";
    return;
  }
  if (chosen && *chosen) {
    if (access(chosen, X_OK) != 0) config.srt_why = std::string("AIRLOCK_BENCH_SRT=") + chosen + " is not a program";
    else config.srt = chosen;
    return;
  }
  g_autofree char* npm = g_find_program_in_path("npm");
  if (!npm) {
    config.srt_why = "not measured: npm is not installed (Debian: apt install npm)";
    return;
  }
  std::string prefix = config.scratch + "/srt";
  make_dir(prefix);
  fprintf(stderr, "bench-proxy: installing @anthropic-ai/sandbox-runtime from the npm registry into %s\n",
          prefix.c_str());
  int status = wait_for(start({npm, "install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-update-notifier",
                               "--loglevel=error", "@anthropic-ai/sandbox-runtime"},
                              config.scratch + "/npm.out", config.scratch + "/npm.err"),
                        300);
  std::string srt = prefix + "/node_modules/.bin/srt";
  if (status != 0 || access(srt.c_str(), X_OK) != 0) {
    config.srt_why = "not measured: npm install @anthropic-ai/sandbox-runtime failed (" +
                     (status < 0 ? std::string("timed out after 300 s") : last_line(read_file(config.scratch + "/npm.err"))) +
                     ")";
    return;
  }
  config.srt = srt;
}

std::string policy_text(int port) {
  return "# bench-proxy: its loopback server, by address, so that the proxy may reach it.\n"
         "[Rule bench-proxy-server]\nKind=host\nMatch=" + std::string(kServerAddress) + ":" + std::to_string(port) +
         ";\nDecision=allow\n";
}

int outer_main(Config config, const char* self) {
  if (geteuid() == 0)
    die("run it as an unprivileged user, as setup.sh does: airlock's sandboxes are measured as a person runs them "
        "(as root: runuser -u USER -- bench/run.sh BUILD_DIR)");
  std::string airlock = config.build + "/launcher/airlock";
  std::string portal = config.build + "/portal/airlock-portal";
  std::string client = config.build + "/bench/bench-proxy-client";
  require_executable(airlock, "airlock");
  require_executable(portal, "airlock-portal");
  require_executable(client, "bench-proxy-client");
  g_autofree char* dbus_run_session = g_find_program_in_path("dbus-run-session");
  if (!dbus_run_session) die("dbus-run-session is not installed (Debian: apt install dbus-daemon or dbus)");

  const char* tmp = g_getenv("TMPDIR");
  std::string base = std::string(tmp && *tmp ? tmp : "/tmp") + "/airlock-bench-proxy-XXXXXX";
  if (!mkdtemp(base.data())) die_errno("cannot create a scratch folder like " + base);
  g_autofree char* real = realpath(base.c_str(), nullptr);
  config.scratch = real ? real : base;
  const std::string& s = config.scratch;

  // From here on the scratch folder is removed whatever happens.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  pid_t server = -1;
  config.port = start_server(&server);
  // npm with the person's own HOME and proxy settings, before they change.
  find_srt(config);

  make_dir(s + "/home");
  make_dir(s + "/config/airlock", 0700);
  make_dir(s + "/data", 0700);
  make_dir(s + "/run", 0700);
  make_dir(s + "/share/dbus-1/services");
  write_file(s + "/share/dbus-1/services/org.airlock.Portal.service",
             "[D-BUS Service]\nName=org.airlock.Portal\nExec=" + portal + "\n");
  write_file(s + "/config/airlock/airlock.policy", policy_text(config.port));
  write_file(s + "/srt-settings.json",
             "{\"network\": {\"allowedDomains\": [\"" + std::string(kServerAddress) + ":" +
                 std::to_string(config.port) +
                 "\"], \"deniedDomains\": []},\n"
                 " \"filesystem\": {\"denyRead\": [], \"allowRead\": [], \"allowWrite\": [], \"denyWrite\": []}}\n");

  g_setenv("HOME", (s + "/home").c_str(), TRUE);
  g_setenv("XDG_CONFIG_HOME", (s + "/config").c_str(), TRUE);
  g_setenv("XDG_DATA_HOME", (s + "/data").c_str(), TRUE);
  g_setenv("XDG_RUNTIME_DIR", (s + "/run").c_str(), TRUE);
  g_setenv("XDG_DATA_DIRS", (s + "/share").c_str(), TRUE);  // only the bench's service file
  std::string source = AIRLOCK_BENCH_SOURCE_DIR;
  if (!g_getenv("AIRLOCK_DEFAULT_POLICY") && exists(source + "/policies/default.policy"))
    g_setenv("AIRLOCK_DEFAULT_POLICY", (source + "/policies/default.policy").c_str(), TRUE);
  if (!g_getenv("AIRLOCK_PROFILE_PATH") && exists(source + "/policies/profiles"))
    g_setenv("AIRLOCK_PROFILE_PATH", (source + "/policies/profiles").c_str(), TRUE);
  g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
  g_unsetenv("AIRLOCK_PORTAL_ADDRESS");
  // A proxy of the host's own would sit behind srt's (its parentProxy) and
  // not behind the others.
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                           "all_proxy", "no_proxy"})
    g_unsetenv(name);

  pid_t inner = start({dbus_run_session, "--", self, "--inner", config.build, s, std::to_string(config.setups),
                       std::to_string(config.mib), std::to_string(config.rounds), std::to_string(config.port),
                       config.srt.empty() ? "-" : config.srt, config.srt_why});
  int status = wait_for(inner);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  remove_tree(s);
  if (exists(s)) fprintf(stderr, "bench-proxy: %s could not be removed completely\n", s.c_str());
  if (status != 0) fprintf(stderr, "bench-proxy: failed (exit status %d)\n", status);
  return status;
}

// ---- the inner run, on the private bus ------------------------------------------

void stop_started() {
  for (pid_t* pid : {&g_agent, &g_hold}) {
    if (*pid <= 0) continue;
    pid_t agent = *pid;
    *pid = -1;
    kill(agent, SIGTERM);
    waitpid(agent, nullptr, 0);
  }
  if (!g_bus) return;
  GDBusConnection* bus = g_bus;
  g_bus = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new("(s)", "org.airlock.Portal"), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
  if (!reply) return;  // never started
  guint32 pid = 0;
  g_variant_get(reply, "(u)", &pid);
  if (pid == 0 || kill(static_cast<pid_t>(pid), SIGTERM) != 0) return;
  double deadline = now_ms() + 5000;
  while (kill(static_cast<pid_t>(pid), 0) == 0 && now_ms() < deadline) usleep(10000);
}

// The host's pid of the process whose command line is exactly ARGV.
pid_t find_process(const std::vector<std::string>& argv) {
  std::string wanted;
  for (const auto& arg : argv) wanted += arg + '\0';
  g_autoptr(GDir) dir = g_dir_open("/proc", 0, nullptr);
  if (!dir) return -1;
  while (const char* name = g_dir_read_name(dir)) {
    if (!g_ascii_isdigit(name[0])) continue;
    if (read_file(std::string("/proc/") + name + "/cmdline") == wanted) return atoi(name);
  }
  return -1;
}

// Starts the held sandbox and returns the path of its proxy socket as the
// host sees it, or "" with WHY.
std::string hold_sandbox(const Config& config, std::string* why) {
  std::string client = config.build + "/bench/bench-proxy-client";
  std::string token = config.scratch + "/hold";
  std::string err = config.scratch + "/hold.err";
  g_hold = start({config.build + "/launcher/airlock", "run", "--prompt=none", "--task", "bench-proxy-hold", "--",
                  client, "hold", token},
                 config.scratch + "/hold.out", err);
  double deadline = now_ms() + 60e3;
  pid_t pid = -1;
  while ((pid = find_process({client, "hold", token})) < 0) {
    int status = 0;
    if (waitpid(g_hold, &status, WNOHANG) == g_hold) {
      g_hold = -1;
      die("airlock run ended (exit status " + std::to_string(exit_status(status)) + ") before its agent started:\n" +
          read_file(err));
    }
    if (now_ms() > deadline) die("timed out waiting for the held sandbox's agent:\n" + read_file(err));
    usleep(10000);
  }
  std::string path = "/proc/" + std::to_string(pid) + "/root" + kProxySocketInside;
  // Reachable, and served: the portal has the session once a connection is
  // answered, which the client's first CONNECT shows anyway.
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  int connected = -1;
  for (int attempt = 0; attempt < 500; ++attempt) {
    connected = connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address);
    if (connected == 0 || errno != ENOENT) break;
    usleep(10000);
  }
  if (connected != 0) *why = "not measured: cannot reach the held sandbox's proxy socket from the host (" + path +
                             ": " + strerror(errno) + ")";
  close(fd);
  return connected == 0 ? path : "";
}

struct RouteResult {
  std::string name, what;
  Samples samples;
  std::string why;  // why it has no numbers
};

// One run of the client; its results added to ROUTE, or why not.
bool run_client(RouteResult& route, const std::vector<std::string>& argv, const std::string& scratch, bool must) {
  std::string out = scratch + "/client.out", err = scratch + "/client.err";
  g_agent = start(argv, out, err);
  int status = wait_for(g_agent, 900);
  g_agent = -1;
  std::string results = read_file(out);
  if (status == 0 && results.find("done 1") != std::string::npos) {
    add_results(route.samples, results);
    return true;
  }
  std::string said = status < 0 ? "timed out after 900 s" : "exit status " + std::to_string(status) + ": " +
                                                               last_line(read_file(err));
  if (must) die("the " + route.name + " round failed (" + said + "):\n" + read_file(err));
  route.why = "failed, " + said;
  return false;
}

void print_latency(const RouteResult& route, double direct_median) {
  if (!route.why.empty()) {
    printf("  %-14s %s\n", route.name.c_str(), route.why.c_str());
    return;
  }
  const auto& setup = route.samples.at("setup.ms");
  const auto& first = route.samples.at("first_byte.ms");
  double m = median(first);
  printf("  %-14s %9.3f %9.3f %9.3f %9.3f", route.name.c_str(), median(setup), m, quantile(first, 0.99),
         quantile(first, 1.0));
  if (direct_median > 0) printf("  %+8.3f ms  x%.1f", m - direct_median, m / direct_median);
  printf("\n");
}

double mib_per_s(const RouteResult& route, const char* key, long mib) {
  auto it = route.samples.find(key);
  if (it == route.samples.end() || it->second.empty()) return NAN;
  return static_cast<double>(mib) / (median(it->second) / 1e3);
}

int inner_main(const Config& config) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus) die(std::string("cannot reach the private bus dbus-run-session started: ") + error->message);
  g_bus = bus;
  const std::string& s = config.scratch;
  std::string client = config.build + "/bench/bench-proxy-client";
  std::string airlock = config.build + "/launcher/airlock";
  std::string port = std::to_string(config.port);
  std::string setups = std::to_string(config.setups);
  std::string bytes = std::to_string(static_cast<uint64_t>(config.mib) * 1024 * 1024);
  std::vector<std::string> work = {kServerAddress, port, setups, bytes};
  auto with = [&](std::vector<std::string> head) {
    head.insert(head.end(), work.begin(), work.end());
    return head;
  };

  RouteResult direct{"direct", "host client, TCP to the server", {}, ""};
  RouteResult sandbox{"airlock", "sandboxed client, CONNECT via 127.0.0.1:3128 (handed to the portal by airlock-init)", {}, ""};
  RouteResult portal_only{"portal only", "host client, CONNECT via the sandbox's proxy socket (unix, no bridge)", {}, ""};
  RouteResult srt{"srt", "client in srt, CONNECT via its localhost:3128 (socat, socat, its Node proxy)", {}, ""};
  RouteResult minimal{"minimal relay", "host client, TCP to a relay that only splices, TCP to the server: the ceiling", {},
                      ""};
  const std::string relay_port = std::to_string(start_minimal_relay(config.port));
  std::string srt_version;
  if (config.srt.empty()) {
    srt.why = config.srt_why;
  } else {
    std::string out = s + "/srt-version";
    if (wait_for(start({config.srt, "--version"}, out, s + "/srt-version.err"), 60) == 0)
      srt_version = last_line(read_file(out));
  }

  std::string socket_path = hold_sandbox(config, &portal_only.why);

  for (int round = 0; round < config.rounds; ++round) {
    fprintf(stderr, "bench-proxy: round %d of %d\n", round + 1, config.rounds);
    run_client(direct, with({client, "direct"}), s, true);
    run_client(minimal, {client, "direct", "127.0.0.1", relay_port, setups, bytes}, s, true);
    run_client(sandbox, with({airlock, "run", "--prompt=none", "--task", "bench-proxy", "--", client, "env"}), s, true);
    if (!socket_path.empty()) run_client(portal_only, with({client, "unix:" + socket_path}), s, true);
    if (!config.srt.empty() && srt.why.empty())
      run_client(srt, with({config.srt, "--settings", s + "/srt-settings.json", "--", client, "env"}), s, false);
  }
  stop_started();

  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  printf("proxy: a loopback server on %s:%d (its own process), %d rounds, %ld CPUs, the portal's audit log on %s;"
         " routes:\n", kServerAddress, config.port, config.rounds, cpus, fs_type(s + "/data").c_str());
  for (const RouteResult* route : {&direct, &minimal, &sandbox, &portal_only, &srt})
    printf("  %-14s %s%s\n", route->name.c_str(), route->what.c_str(),
           route == &srt && !srt_version.empty() ? (" (srt " + srt_version + ")").c_str() : "");

  printf("connection setup: socket() to the first byte echoed back, %d connections a round, %d in all, ms\n",
         config.setups, config.setups * config.rounds);
  printf("  %-14s %9s %9s %9s %9s  %11s\n", "route", "tunnel up", "median", "p99", "max", "added at median");
  double direct_median = median(direct.samples.at("first_byte.ms"));
  print_latency(direct, 0);
  print_latency(minimal, direct_median);
  print_latency(sandbox, direct_median);
  print_latency(portal_only, direct_median);
  print_latency(srt, direct_median);
  printf("  (tunnel up: the median until the CONNECT's 200, or the TCP connect when direct; goal: under 1 ms added)\n");

  printf("bulk throughput: %ld MiB through one connection each way, median of %d rounds, MiB/s\n", config.mib,
         config.rounds);
  printf("  %-14s %10s %7s %10s %7s\n", "route", "upload", "ratio", "download", "ratio");
  double up = mib_per_s(direct, "upload.ms", config.mib), down = mib_per_s(direct, "download.ms", config.mib);
  for (const RouteResult* route : {&direct, &minimal, &sandbox, &portal_only, &srt}) {
    if (!route->why.empty()) {
      printf("  %-14s %s\n", route->name.c_str(), route->why.c_str());
      continue;
    }
    double u = mib_per_s(*route, "upload.ms", config.mib), d = mib_per_s(*route, "download.ms", config.mib);
    printf("  %-14s %10.0f %7.2f %10.0f %7.2f\n", route->name.c_str(), u, u / up, d, d / down);
  }
  printf("  (upload: the client's bytes to the server's sink until its count comes back; download: the server's\n"
         "  source to the client; goal: ratio at least 0.80)\n");
  printf("  airlock against the minimal relay: %.2f upload, %.2f download\n",
         mib_per_s(sandbox, "upload.ms", config.mib) / mib_per_s(minimal, "upload.ms", config.mib),
         mib_per_s(sandbox, "download.ms", config.mib) / mib_per_s(minimal, "download.ms", config.mib));
  fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  set_program("bench-proxy", stop_started);
  Config config;
  if (argc == 10 && strcmp(argv[1], "--inner") == 0) {
    config.build = argv[2];
    config.scratch = argv[3];
    config.setups = atoi(argv[4]);
    config.mib = atol(argv[5]);
    config.rounds = atoi(argv[6]);
    config.port = atoi(argv[7]);
    if (strcmp(argv[8], "-") != 0) config.srt = argv[8];
    config.srt_why = argv[9];
    return inner_main(config);
  }
  if (argc < 2 || argc > 5 || argv[1][0] == '-') {
    fprintf(stderr,
            "usage: %s BUILD_DIR [SETUPS [MIB [ROUNDS]]]\n(defaults: 500 connections, 1024 MiB each way, 3 rounds;\n"
            "AIRLOCK_BENCH_SRT=PATH uses that srt, =none measures no srt)\n",
            argv[0]);
    return 2;
  }
  g_autofree char* build = realpath(argv[1], nullptr);
  if (!build) die_errno(std::string("cannot find the build folder ") + argv[1]);
  config.build = build;
  if (argc > 2) config.setups = atoi(argv[2]);
  if (argc > 3) config.mib = atol(argv[3]);
  if (argc > 4) config.rounds = atoi(argv[4]);
  if (config.setups < 1 || config.mib < 1 || config.rounds < 1) die("SETUPS, MIB and ROUNDS must be positive");
  g_autofree char* self = realpath("/proc/self/exe", nullptr);
  if (!self) die_errno("cannot find this program");
  return outer_main(config, self);
}
