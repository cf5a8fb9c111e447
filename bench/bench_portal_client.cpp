// bench-portal-client: the half of bench-portal that runs inside the
// sandbox (and, for the file-tree baseline, on the host). It writes its
// measurements as "key value" lines; bench-portal prints the table.
//   tree DIR RUNS OUT             the file-tree workload RUNS times in DIR/run-K
//   sandbox EXCHANGE SCRATCH N RUNS SECONDS
//                                 everything measured inside the sandbox:
//                                 grant latency over N folders, the file tree
//                                 in a folder granted at run time, and the
//                                 policy-only request rate; results in
//                                 EXCHANGE/results, progress in EXCHANGE/*
// A benchmark helper, not a test: it reports, it never judges.
#include <dirent.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int kTreeDirs = 50;
constexpr int kFilesPerDir = 100;  // 5,000 files in all
constexpr size_t kFileBytes = 1024;
// The portal's flood control (portal/sandbox_session.h): a burst of 1000
// requests, then 500 a second. The rate phase stops short of the burst so
// that it measures the portal, and reports the limiter if it was reached.
constexpr int kRateWindow = 32;

double now_ms() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

[[noreturn]] void die(const std::string& what) {
  fprintf(stderr, "bench-portal-client: %s\n", what.c_str());
  exit(1);
}

[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + strerror(errno)); }

void write_file(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die_errno("cannot create " + path);
  if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) die_errno("cannot write " + path);
  close(fd);
}

void wait_for_file(const std::string& path) {
  double deadline = now_ms() + 120e3;
  struct stat st {};
  while (stat(path.c_str(), &st) != 0) {
    if (now_ms() > deadline) die("bench-portal did not answer (no " + path + " after 120 s)");
    usleep(5000);
  }
}

// ---- the file-tree workload ----------------------------------------------

struct TreeTimes {
  double create = 0, walk = 0, stat = 0, read = 0, remove = 0;
};

std::string file_name(const std::string& root, int d, int f) {
  char name[64];
  snprintf(name, sizeof name, "/d%02d/f%03d", d, f);
  return root + name;
}

// Like find(1): every entry, recursively, by readdir; returns the files seen.
long walk(int dirfd) {
  DIR* dir = fdopendir(dirfd);
  if (!dir) die_errno("fdopendir");
  long files = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    if (entry->d_type == DT_DIR) {
      int sub = openat(dirfd, entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (sub < 0) die_errno(std::string("cannot open ") + entry->d_name);
      files += walk(sub);
    } else {
      ++files;
    }
  }
  closedir(dir);
  return files;
}

TreeTimes tree_once(const std::string& root) {
  TreeTimes t;
  std::string data(kFileBytes, 'x');
  std::vector<char> buffer(kFileBytes * 2);
  constexpr long kFiles = static_cast<long>(kTreeDirs) * kFilesPerDir;

  double start = now_ms();
  if (mkdir(root.c_str(), 0755) != 0) die_errno("cannot create " + root);
  for (int d = 0; d < kTreeDirs; ++d) {
    std::string dir = file_name(root, d, 0);
    dir.resize(dir.rfind('/'));
    if (mkdir(dir.c_str(), 0755) != 0) die_errno("cannot create " + dir);
    for (int f = 0; f < kFilesPerDir; ++f) {
      std::string path = file_name(root, d, f);
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) die_errno("cannot create " + path);
      if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) die_errno("cannot write " + path);
      close(fd);
    }
  }
  t.create = now_ms() - start;

  start = now_ms();
  int top = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (top < 0) die_errno("cannot open " + root);
  long seen = walk(top);
  t.walk = now_ms() - start;
  if (seen != kFiles) die("the walk of " + root + " found " + std::to_string(seen) + " files, not 5000");

  start = now_ms();
  for (int d = 0; d < kTreeDirs; ++d)
    for (int f = 0; f < kFilesPerDir; ++f) {
      struct stat st {};
      std::string path = file_name(root, d, f);
      if (stat(path.c_str(), &st) != 0 || st.st_size != static_cast<off_t>(kFileBytes)) die_errno("cannot stat " + path);
    }
  t.stat = now_ms() - start;

  start = now_ms();
  for (int d = 0; d < kTreeDirs; ++d)
    for (int f = 0; f < kFilesPerDir; ++f) {
      std::string path = file_name(root, d, f);
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) die_errno("cannot open " + path);
      if (read(fd, buffer.data(), buffer.size()) != static_cast<ssize_t>(kFileBytes)) die_errno("cannot read " + path);
      close(fd);
    }
  t.read = now_ms() - start;

  start = now_ms();
  for (int d = 0; d < kTreeDirs; ++d) {
    for (int f = 0; f < kFilesPerDir; ++f) {
      std::string path = file_name(root, d, f);
      if (unlink(path.c_str()) != 0) die_errno("cannot remove " + path);
    }
    std::string dir = file_name(root, d, 0);
    dir.resize(dir.rfind('/'));
    if (rmdir(dir.c_str()) != 0) die_errno("cannot remove " + dir);
  }
  if (rmdir(root.c_str()) != 0) die_errno("cannot remove " + root);
  t.remove = now_ms() - start;
  return t;
}

// RUNS rounds in DIR/run-K; one "tree.PHASE.ms T1,T2,..." line per phase.
// With a TURNS folder, each round waits for its turn (TURNS/tree-go-K)
// after saying it is ready (TURNS/tree-ready-K): the host's rounds
// alternate with these, so that a busy machine weighs on both alike.
std::string tree_workload(const std::string& dir, int runs, const std::string& tag, const std::string& turns = "") {
  std::map<std::string, std::string> lines;
  for (int k = 0; k < runs; ++k) {
    if (!turns.empty()) {
      write_file(turns + "/tree-ready-" + std::to_string(k), "");
      wait_for_file(turns + "/tree-go-" + std::to_string(k));
    }
    TreeTimes t = tree_once(dir + "/run-" + tag + std::to_string(k));
    const std::pair<const char*, double> phases[] = {
        {"create", t.create}, {"walk", t.walk}, {"stat", t.stat}, {"read", t.read}, {"remove", t.remove}};
    for (const auto& [phase, ms] : phases) {
      std::string& line = lines[phase];
      char value[32];
      snprintf(value, sizeof value, "%s%.3f", line.empty() ? "" : ",", ms);
      line += value;
    }
  }
  std::string out;
  for (const auto& [phase, values] : lines) out += "tree." + phase + ".ms " + values + "\n";
  return out;
}

// ---- the portal ------------------------------------------------------------

// Every Response on the connection, by request handle: it may arrive
// before the method reply that names the handle.
struct Portal {
  GDBusConnection* connection = nullptr;
  std::map<std::string, std::pair<guint32, std::string>> answers;  // handle -> code, outcome
};

void on_response(GDBusConnection*, const char*, const char* path, const char*, const char*, GVariant* parameters,
                 gpointer data) {
  auto* portal = static_cast<Portal*>(data);
  guint32 code = 0;
  g_autoptr(GVariant) results = nullptr;
  g_variant_get(parameters, "(u@a{sv})", &code, &results);
  const char* outcome = nullptr;
  const char* message = nullptr;
  g_variant_lookup(results, "outcome", "&s", &outcome);
  g_variant_lookup(results, "message", "&s", &message);
  std::string text = outcome ? outcome : "?";
  if (message) text += std::string(": ") + message;
  portal->answers[path] = {code, text};
}

GVariant* request_args(const std::string& path, bool writable) {
  GVariant* bytes = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, path.data(), path.size(), 1);
  GVariantBuilder options;
  g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&options, "{sv}", "writable", g_variant_new_boolean(writable));
  return g_variant_new("(@ay@a{sv})", bytes, g_variant_builder_end(&options));
}

// RequestFolder and its Response, synchronously: the code and the outcome.
std::pair<guint32, std::string> request_folder(Portal* portal, const std::string& path, bool writable) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      portal->connection, nullptr, "/org/airlock/portal", "org.airlock.portal.FileAccess", "RequestFolder",
      request_args(path, writable), G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 30000, nullptr, &error);
  if (!reply) die("RequestFolder " + path + " failed: " + error->message);
  const char* handle = nullptr;
  g_variant_get(reply, "(&o)", &handle);
  std::string key = handle;
  double deadline = now_ms() + 30e3;
  while (!portal->answers.count(key)) {
    if (now_ms() > deadline) die("no Response to the request for " + path + " within 30 s");
    g_main_context_iteration(nullptr, TRUE);
  }
  auto answer = portal->answers[key];
  portal->answers.erase(key);
  return answer;
}

std::string join(const std::vector<double>& values) {
  std::string out;
  for (double v : values) {
    char text[32];
    snprintf(text, sizeof text, "%s%.4f", out.empty() ? "" : ",", v);
    out += text;
  }
  return out;
}

// Grant latency: from the call to a file inside the folder being visible.
std::string grant_latency(Portal* portal, const std::string& scratch, int count) {
  std::vector<double> to_response, to_visible, deny_round_trip;
  long extra_polls = 0;
  for (int i = 0; i < count; ++i) {
    std::string folder = scratch + "/grants/lat/" + std::to_string(i);
    std::string marker = folder + "/marker";
    struct stat st {};
    if (stat(marker.c_str(), &st) == 0) die(marker + " is visible before it was granted");
    double start = now_ms();
    auto [code, outcome] = request_folder(portal, folder, false);
    double answered = now_ms();
    if (code != 0) die("the policy-allowed request for " + folder + " was not granted: " + outcome);
    while (stat(marker.c_str(), &st) != 0) {
      ++extra_polls;
      if (now_ms() - start > 10e3) die(folder + " was granted but is not visible inside after 10 s");
    }
    double visible = now_ms();
    to_response.push_back(answered - start);
    to_visible.push_back(visible - start);
  }
  // The baseline: the same round trip when the policy denies, so nothing
  // is mounted.
  std::string denied = scratch + "/denied";
  for (int i = 0; i < count; ++i) {
    double start = now_ms();
    auto [code, outcome] = request_folder(portal, denied, false);
    if (code == 0) die("the request for " + denied + " was granted; the bench's deny rule did not apply");
    deny_round_trip.push_back(now_ms() - start);
  }
  // And the D-Bus round trip alone: Peer.Ping, which GDBus answers by itself.
  std::vector<double> ping;
  for (int i = 0; i < count; ++i) {
    g_autoptr(GError) error = nullptr;
    double start = now_ms();
    g_autoptr(GVariant) reply =
        g_dbus_connection_call_sync(portal->connection, nullptr, "/org/airlock/portal", "org.freedesktop.DBus.Peer",
                                    "Ping", nullptr, nullptr, G_DBUS_CALL_FLAGS_NONE, 30000, nullptr, &error);
    if (!reply) die(std::string("Peer.Ping failed: ") + error->message);
    ping.push_back(now_ms() - start);
  }
  return "latency.ping.ms " + join(ping) + "\nlatency.response.ms " + join(to_response) + "\nlatency.visible.ms " + join(to_visible) +
         "\nlatency.deny.ms " + join(deny_round_trip) + "\nlatency.extra_polls " + std::to_string(extra_polls) + "\n";
}

struct Rate {
  Portal* portal = nullptr;
  std::string path;
  guint32 expect_code = 0;
  std::map<std::string, bool> pending;  // handles replied, Response awaited
  int in_flight = 0;                    // calls not replied yet
  long sent = 0, answered = 0, throttled = 0, unexpected = 0;
  std::string first_unexpected;
  double first_throttle_ms = -1, start = 0;
  long answered_at_throttle = -1;  // answers before the first throttled reply
};

void send_one(Rate* rate);

void on_rate_reply(GObject* source, GAsyncResult* result, gpointer data) {
  auto* rate = static_cast<Rate*>(data);
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
  --rate->in_flight;
  if (reply) {
    const char* handle = nullptr;
    g_variant_get(reply, "(&o)", &handle);
    rate->pending[handle] = true;
    return;
  }
  g_autofree char* remote = g_dbus_error_get_remote_error(error);
  if (g_strcmp0(remote, "org.airlock.Error.Throttled") == 0) {
    ++rate->throttled;
    if (rate->first_throttle_ms < 0) {
      rate->first_throttle_ms = now_ms() - rate->start;
      rate->answered_at_throttle = rate->answered;
    }
  } else {
    ++rate->unexpected;
    if (rate->first_unexpected.empty()) rate->first_unexpected = error->message;
  }
}

void send_one(Rate* rate) {
  ++rate->sent;
  ++rate->in_flight;
  g_dbus_connection_call(rate->portal->connection, nullptr, "/org/airlock/portal", "org.airlock.portal.FileAccess",
                         "RequestFolder", request_args(rate->path, false), G_VARIANT_TYPE("(o)"),
                         G_DBUS_CALL_FLAGS_NONE, 30000, nullptr, on_rate_reply, rate);
}

// Requests the policy decides without mounting anything, KEPT in flight at
// once, for SECONDS: answers (Responses with the expected code) a second.
std::string policy_rate(Portal* portal, const std::string& name, const std::string& path, guint32 expect_code,
                        double seconds) {
  Rate rate;
  rate.portal = portal;
  rate.path = path;
  rate.expect_code = expect_code;
  rate.start = now_ms();
  double end = rate.start + seconds * 1e3;
  while (true) {
    // Collect the Responses of replied requests.
    for (auto it = rate.pending.begin(); it != rate.pending.end();) {
      auto found = portal->answers.find(it->first);
      if (found == portal->answers.end()) {
        ++it;
        continue;
      }
      if (found->second.first == expect_code) ++rate.answered;
      else if (++rate.unexpected == 1) rate.first_unexpected = found->second.second;
      portal->answers.erase(found);
      it = rate.pending.erase(it);
    }
    bool sending = now_ms() < end && rate.unexpected == 0;
    while (sending && rate.in_flight + static_cast<int>(rate.pending.size()) < kRateWindow) send_one(&rate);
    if (!sending && rate.in_flight == 0 && rate.pending.empty()) break;
    if (now_ms() > end + 30e3) die("the portal left requests unanswered 30 s after the rate phase");
    g_main_context_iteration(nullptr, TRUE);
  }
  double elapsed = now_ms() - rate.start;
  if (rate.unexpected) die(name + ": an unexpected answer: " + rate.first_unexpected);
  char out[640];
  snprintf(out, sizeof out,
           "rate.%s.sent %ld\nrate.%s.answered %ld\nrate.%s.throttled %ld\nrate.%s.ms %.3f\n"
           "rate.%s.first_throttle_ms %.3f\nrate.%s.answered_at_throttle %ld\n",
           name.c_str(), rate.sent, name.c_str(), rate.answered, name.c_str(), rate.throttled, name.c_str(), elapsed,
           name.c_str(), rate.first_throttle_ms, name.c_str(), rate.answered_at_throttle);
  return out;
}

struct Ping {
  int in_flight = 0;
  long answered = 0, failed = 0;
  std::string first_error;
};

// The baseline of the rate phases: org.freedesktop.DBus.Peer.Ping on the
// same connection, KEPT in flight the same way, which GDBus answers by
// itself in the portal: what D-Bus alone costs a request.
std::string ping_rate(Portal* portal, double seconds) {
  Ping ping;
  double start = now_ms(), end = start + seconds * 1e3;
  long sent = 0;
  while (true) {
    bool sending = now_ms() < end && ping.failed == 0;
    while (sending && ping.in_flight < kRateWindow) {
      ++sent;
      ++ping.in_flight;
      g_dbus_connection_call(
          portal->connection, nullptr, "/org/airlock/portal", "org.freedesktop.DBus.Peer", "Ping", nullptr, nullptr,
          G_DBUS_CALL_FLAGS_NONE, 30000, nullptr,
          +[](GObject* source, GAsyncResult* result, gpointer data) {
            auto* p = static_cast<Ping*>(data);
            g_autoptr(GError) error = nullptr;
            g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
            --p->in_flight;
            if (reply) ++p->answered;
            else if (++p->failed == 1) p->first_error = error->message;
          },
          &ping);
    }
    if (!sending && ping.in_flight == 0) break;
    if (now_ms() > end + 30e3) die("the portal left pings unanswered 30 s after the ping phase");
    g_main_context_iteration(nullptr, TRUE);
  }
  if (ping.failed) die("Peer.Ping failed: " + ping.first_error);
  char out[256];
  snprintf(out, sizeof out, "rate.ping.sent %ld\nrate.ping.answered %ld\nrate.ping.throttled 0\nrate.ping.ms %.3f\n"
           "rate.ping.first_throttle_ms -1\nrate.ping.answered_at_throttle -1\n", sent, ping.answered, now_ms() - start);
  return out;
}

int sandbox_main(const std::string& exchange, const std::string& scratch, int count, int runs, double seconds) {
  const char* address = g_getenv("AIRLOCK_PORTAL_ADDRESS");
  if (!address || !*address) die("AIRLOCK_PORTAL_ADDRESS is not set: the session did not register with the portal");
  Portal portal;
  g_autoptr(GError) error = nullptr;
  portal.connection = g_dbus_connection_new_for_address_sync(address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                             nullptr, nullptr, &error);
  if (!portal.connection) die(std::string("cannot connect to the portal at ") + address + ": " + error->message);
  g_dbus_connection_signal_subscribe(portal.connection, nullptr, "org.airlock.portal.Request", "Response", nullptr,
                                     nullptr, G_DBUS_SIGNAL_FLAGS_NONE, on_response, &portal, nullptr);
  std::string results;

  // 1. The portal idles with this session registered: the host reads its RSS.
  write_file(exchange + "/idle", "");
  wait_for_file(exchange + "/go");

  // 2. Grant latency.
  results += grant_latency(&portal, scratch, count);

  // 3. The file tree in a folder granted now, read-write.
  std::string tree = scratch + "/grants/tree";
  auto [code, outcome] = request_folder(&portal, tree, true);
  if (code != 0) die("the read-write request for " + tree + " was not granted: " + outcome);
  results += tree_workload(tree, runs, "sandbox-", exchange);

  // 4. Policy-only requests: denied by a rule, and allowed because a grant
  // of this session already covers them. The bucket refills between.
  results += ping_rate(&portal, seconds);
  g_usleep(2500 * 1000);
  results += policy_rate(&portal, "deny", scratch + "/denied", 2, seconds);
  g_usleep(2500 * 1000);
  results += policy_rate(&portal, "granted", scratch + "/grants/lat/0", 0, seconds);

  write_file(exchange + "/results", results);
  // 5. Idle again, after the work: the host reads the RSS once more.
  write_file(exchange + "/done", "");
  wait_for_file(exchange + "/exit");
  g_object_unref(portal.connection);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "tree" && argc == 5) {
    std::string out = tree_workload(argv[2], atoi(argv[3]), "host-");
    write_file(argv[4], out);
    return 0;
  }
  if (mode == "sandbox" && argc == 7)
    return sandbox_main(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atof(argv[6]));
  fprintf(stderr,
          "usage: %s tree DIR RUNS OUT\n"
          "       %s sandbox EXCHANGE SCRATCH FOLDERS RUNS SECONDS\n"
          "(run by bench-portal)\n",
          argv[0], argv[0]);
  return 2;
}
