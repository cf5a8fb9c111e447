// The supervisor; see supervisor.h.
#include "supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control_protocol.h"
#include "dbus_names.h"
#include "error.h"
#include "grant_mount.h"
#include "host_path.h"
#include "sandbox_plan.h"
#include "translate.h"
#include "unique_fd.h"

namespace airlock {
namespace {

[[noreturn]] __attribute__((format(printf, 1, 2))) void die(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs("airlock: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  _exit(kExitAirlockFailed);
}

void write_file(const char* path, const std::string& content) {
  UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
  if (!fd || write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
    die(_("cannot write %s: %s"), path, strerror(errno));
}

void enter_namespaces() {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
    int saved = errno;
    // TRANSLATORS: %s is the system's reason; keep the commands and the
    // sysctl names as they are.
    die(_("cannot create a user namespace (%s). User namespaces are disabled on this machine: "
          "enable them with 'sudo sysctl -w kernel.unprivileged_userns_clone=1' (Debian) or "
          "'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0' (Ubuntu), and check "
          "that user.max_user_namespaces is not 0"),
        strerror(saved));
  }
  write_file("/proc/self/setgroups", "deny");
  write_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
  write_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
  // Nothing mounted here may leak back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
    die(_("cannot make the supervisor's mounts private: %s"), strerror(errno));
}

UniqueFd mount_root(const SupervisorConfig& config) {
  const char* root = config.root.c_str();
  if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
    die(_("cannot mount the sandbox root on %s: %s"), root, strerror(errno));
  // Shared: what is mounted beneath it later propagates into bwrap's copy,
  // which bwrap makes a slave, so nothing propagates back out.
  if (mount(nullptr, root, nullptr, MS_SHARED, nullptr) != 0)
    die(_("cannot make the sandbox root shared: %s"), strerror(errno));
  UniqueFd root_fd(open(root, O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) die(_("cannot open the sandbox root: %s"), strerror(errno));

  // The skeleton, made before anything runs in the sandbox: mkdir -p with
  // the relative part of each absolute path.
  auto make = [&](const std::string& relative, mode_t mode) {
    const char* path = relative.c_str();
    if (relative.empty() || relative[0] != '/') die(_("skeleton path %s is not absolute"), path);
    for (size_t pos = 1; pos <= relative.size(); ++pos) {
      if (pos != relative.size() && relative[pos] != '/') continue;
      std::string prefix = relative.substr(1, pos - 1);
      if (prefix.empty()) continue;
      bool last = pos == relative.size();
      if (mkdirat(root_fd.get(), prefix.c_str(), last ? mode : 0755) != 0 && errno != EEXIST)
        die(_("cannot create %s in the sandbox root: %s"), path, strerror(errno));
    }
    // mkdirat() applies the umask; the final mode must be exact.
    if (fchmodat(root_fd.get(), relative.c_str() + 1, mode, 0) != 0)
      die(_("cannot set the mode of %s: %s"), path, strerror(errno));
  };
  for (const auto& dir : config.dirs) make(dir, 0755);
  for (const auto& dir : config.sticky_dirs) make(dir, 01777);
  if (!config.home.empty()) make(config.home, 0700);
  return root_fd;
}

// Binds a listening socket of the portal's where the sandbox will find it
// (INSIDE), before anything runs there; the launcher's copy of the
// descriptor goes to the portal. False with errno on failure.
bool bind_listener(int root_fd, int socket_fd, const char* inside, int backlog) {
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  int n = snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d%s", root_fd, inside);
  if (n < 0 || static_cast<size_t>(n) >= sizeof address.sun_path) {
    errno = ENAMETOOLONG;
    return false;
  }
  if (bind(socket_fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0 ||
      listen(socket_fd, backlog) != 0)
    return false;
  close(socket_fd);
  return true;
}

// What the portal's socket has mounted, in order, for kRevokeAll.
std::vector<std::string> portal_grants;

void forget_portal_grants_within(const std::string& path) {
  std::erase_if(portal_grants, [&](const std::string& granted) { return path_is_within(granted, path); });
}

// The session's certificate authority (PEM, in the memfd FD) and a bundle
// of it with the host's roots, written where the sandbox's TLS clients are
// told to look. 0 or an errno value, with *MESSAGE.
int write_trust(int root_fd, int fd, std::string* message) {
  constexpr size_t kMaxCa = 16 * 1024, kMaxBundle = 8 * 1024 * 1024;
  std::string ca(kMaxCa + 1, '\0');
  ssize_t n = pread(fd, ca.data(), ca.size(), 0);
  if (n <= 0 || static_cast<size_t>(n) > kMaxCa) {
    *message = _("the certificate authority is empty, unreadable or too long");
    return EINVAL;
  }
  ca.resize(static_cast<size_t>(n));
  if (ca.rfind("-----BEGIN CERTIFICATE-----", 0) != 0 || ca.find('\0') != std::string::npos) {
    *message = _("the certificate authority is not a PEM certificate");
    return EINVAL;
  }
  if (ca.back() != '\n') ca += '\n';
  std::string bundle;
  UniqueFd roots(open("/etc/ssl/certs/ca-certificates.crt", O_RDONLY | O_CLOEXEC));
  char buffer[65536];
  while (roots && bundle.size() < kMaxBundle && (n = read(roots.get(), buffer, sizeof buffer)) > 0)
    bundle.append(buffer, static_cast<size_t>(n));
  if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  bundle += ca;
  for (const auto& [inside, content] : {std::pair<const char*, const std::string&>{kCaCertInside, ca},
                                        std::pair<const char*, const std::string&>{kCaBundleInside, bundle}}) {
    std::string path = std::string(inside + 1), temporary = path + ".new";
    UniqueFd out(openat(root_fd, temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0444));
    bool written = out && write(out.get(), content.data(), content.size()) == static_cast<ssize_t>(content.size());
    if (!written || renameat(root_fd, temporary.c_str(), root_fd, path.c_str()) != 0) {
      int saved = errno ? errno : EIO;
      *message = format(_("cannot write %s: %s"), inside, strerror(saved));
      return saved;
    }
  }
  return 0;
}

// Answers one request on SOCK, where only the launcher may start bwrap.
// Returns true for a start request, which the caller answers.
bool handle_request(int sock, bool from_launcher, int root_fd, const ControlRequest& request, UniqueFd passed) {
  std::string message;
  int error = 0;
  switch (request.op) {
    case ControlOp::kGrant:
      if (!passed) {
        error = EBADF;
        message = _("a grant needs a descriptor");
        break;
      }
      error = mount_grant(root_fd, request.path, passed.get(), (request.flags & kGrantReadOnly) != 0, &message);
      if (error == 0 && !from_launcher) portal_grants.emplace_back(request.path);
      break;
    case ControlOp::kRevoke:
      error = unmount_grant(root_fd, request.path, &message);
      // The detached mount took what was mounted beneath it along.
      if (error == 0) forget_portal_grants_within(request.path);
      break;
    case ControlOp::kRevokeAll:
      if (from_launcher) {
        error = EPERM;
        message = _("only the portal revokes its grants");
        break;
      }
      while (!portal_grants.empty()) {
        std::string path = portal_grants.back();
        std::string ignored;
        unmount_grant(root_fd, path, &ignored);  // gone already when beneath one detached before
        forget_portal_grants_within(path);
      }
      break;
    case ControlOp::kTrust:
      if (from_launcher || !passed) {
        error = from_launcher ? EPERM : EBADF;
        message = from_launcher ? _("only the portal names the session's certificate authority") : _("no certificate");
        break;
      }
      error = write_trust(root_fd, passed.get(), &message);
      break;
    case ControlOp::kStart:
      if (from_launcher) return true;
      error = EPERM;
      // TRANSLATORS: "airlock run" is a command.
      message = _("only airlock run starts the sandbox");
      break;
    default:
      error = EINVAL;
      message = _("unexpected request");
      break;
  }
  send_control_reply(sock, error, message, request.seq);
  return false;
}

// Serves one message on the control socket SOCK: false once it is closed.
// A malformed message is answered; *START says the launcher asked to start.
bool serve_control(int sock, bool from_launcher, int root_fd, bool* start) {
  UniqueFd passed;
  auto request = receive_control_request(sock, &passed);
  if (!request) {
    if (errno != EBADMSG) return false;
    send_control_reply(sock, EBADMSG, _("malformed request"));
    return true;
  }
  *start = handle_request(sock, from_launcher, root_fd, *request, std::move(passed));
  return true;
}

// vfork: the child only unblocks signals and execs, so it need not copy
// our page tables as fork would (~2 ms here, bench/). Not posix_spawn:
// glibc's leaves its internal signals ignored in the child, and they
// would reach the agent. Everything the child touches is made first. A
// function of its own, so that no local of the caller lives across vfork.
__attribute__((noinline)) pid_t start_bwrap(const SupervisorConfig& config, const sigset_t& mask) {
  std::vector<char*> argv, envp;
  for (const auto& arg : config.bwrap_argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  for (const auto& entry : config.environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  // Translated before vfork: the child may not call gettext.
  const char* message = _("airlock: cannot run bwrap\n");
  pid_t bwrap = vfork();
  if (bwrap == 0) {
    sigprocmask(SIG_UNBLOCK, &mask, nullptr);
    execve(argv[0], argv.data(), envp.data());
    // A vfork child may only write(2) and _exit; the launcher found bwrap
    // moments ago, so this is rare.
    if (write(STDERR_FILENO, message, strlen(message)) < 0) _exit(kExitAirlockFailed);
    _exit(kExitAirlockFailed);
  }
  if (bwrap < 0) die(_("cannot fork: %s"), strerror(errno));
  return bwrap;
}

}  // namespace

void run_supervisor(const SupervisorConfig& config) {
  int control_fd = config.control_fd;
  // If the launcher dies, so does the supervisor, and with it bwrap
  // (--die-with-parent) and the whole sandbox.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != config.launcher) _exit(kExitAirlockFailed);

  // A terminal's ^C and ^\ go to the agent, which shares the terminal; the
  // supervisor and bwrap ignore them (bwrap inherits the ignoring), so they
  // cannot tear the sandbox down under an agent that handles them.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);

  enter_namespaces();
  UniqueFd root_fd = mount_root(config);

  if (!bind_listener(root_fd.get(), config.portal_socket_fd, kPortalSocketInside, 64))
    die(_("cannot create the portal socket in the sandbox root: %s"), strerror(errno));
  // A burst of the agent's connections waits in the backlog (the kernel caps
  // it at net.core.somaxconn) for the proxy to accept them.
  if (config.proxy_socket_fd >= 0 && !bind_listener(root_fd.get(), config.proxy_socket_fd, kProxySocketInside, 4096))
    die(_("cannot create the proxy socket in the sandbox root: %s"), strerror(errno));
  if (!send_control_reply(control_fd, 0, "ready")) _exit(kExitAirlockFailed);

  // Launch grants (the launcher's) and always-grants (the portal's, while
  // the launcher registers the session), until the launcher says start.
  bool portal_open = true;
  for (bool start = false; !start;) {
    struct pollfd fds[2] = {{control_fd, POLLIN, 0}, {config.portal_control_fd, POLLIN, 0}};
    if (poll(fds, portal_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll: %s", strerror(errno));
    }
    if (fds[0].revents && !serve_control(control_fd, true, root_fd.get(), &start))
      _exit(kExitAirlockFailed);  // the launcher has reported why
    if (portal_open && fds[1].revents)
      portal_open = serve_control(config.portal_control_fd, false, root_fd.get(), &start);
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) die("sigprocmask: %s", strerror(errno));
  UniqueFd signal_fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) die("signalfd: %s", strerror(errno));

  pid_t bwrap = start_bwrap(config, mask);
  // Failure to announce the start leaves the launcher waiting for nothing.
  send_control_reply(control_fd, 0, "started");

  // Run-time grants, until the sandbox ends. A grant maker that goes away
  // leaves its grants in place: they last as long as the sandbox.
  bool control_open = true;
  for (;;) {
    struct pollfd fds[3] = {{signal_fd.get(), POLLIN, 0},
                            {control_open ? control_fd : -1, POLLIN, 0},
                            {portal_open ? config.portal_control_fd : -1, POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll: %s", strerror(errno));
    }
    if (fds[0].revents) {
      struct signalfd_siginfo info;
      while (read(signal_fd.get(), &info, sizeof info) == sizeof info) {
      }
      int status = 0;
      pid_t done = waitpid(bwrap, &status, WNOHANG);
      if (done == bwrap) {
        if (config.verbose) {
          struct rusage usage {};
          getrusage(RUSAGE_SELF, &usage);
          // Not translated: bench/bench_launch.cpp reads it.
          fprintf(stderr, "airlock: supervisor peak RSS %ld KiB\n", usage.ru_maxrss);
        }
        _exit(exit_status_from_wait(status));
      }
    }
    bool start = false;
    if (fds[1].revents) control_open = serve_control(control_fd, true, root_fd.get(), &start);
    if (start) send_control_reply(control_fd, EALREADY, _("the sandbox has started"));
    if (fds[2].revents) portal_open = serve_control(config.portal_control_fd, false, root_fd.get(), &start);
  }
}

}  // namespace airlock
