#include "session.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "control_protocol.h"
#include "error.h"
#include "supervisor.h"
#include "terminal_prompter.h"
#include "translate.h"

namespace airlock {

namespace {

UniqueFd memfd_with(const char* name, const std::string& content) {
  UniqueFd fd(memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw Error(errno_message("memfd_create"));
  if (write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
      lseek(fd.get(), 0, SEEK_SET) != 0)
    // TRANSLATORS: %s is passwd or group, the file of the sandbox's accounts.
    throw Error(errno_message(format(_("cannot write the sandbox's %s"), name)));
  fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

// Moves each descriptor in FDS to its target number in this (freshly
// forked) process: first out of the way, then into place, so that no move
// overwrites a descriptor still to be moved.
void place_descriptors(std::vector<std::pair<int, int>> fds) {
  for (auto& [source, target] : fds) {
    source = fcntl(source, F_DUPFD_CLOEXEC, 64);
    if (source < 0) _exit(kExitAirlockFailed);
  }
  for (const auto& [source, target] : fds)
    if (dup2(source, target) != target) _exit(kExitAirlockFailed);
}

// Runs the session once the plan exists: supervisor, grants, start, wait.
class Session {
 public:
  Session(const SandboxPlan& plan, const std::vector<ResolvedGrant>& grants, UniqueFd seccomp_bpf,
          const SessionDescription& description, bool verbose)
      : plan_(plan), grants_(grants), seccomp_(std::move(seccomp_bpf)), description_(description), verbose_(verbose) {}

  int run(const std::string& root_dir) {
    UniqueFd control, control_child, portal_control, portal_control_child, info_write;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw Error(errno_message("socketpair"));
    control.reset(pair[0]);
    control_child.reset(pair[1]);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw Error(errno_message("socketpair"));
    portal_control.reset(pair[0]);
    portal_control_child.reset(pair[1]);
    // Bound and listening in the sandbox root by the supervisor; the same
    // socket here goes to the portal.
    UniqueFd portal_socket(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!portal_socket) throw Error(errno_message("socket"));
    // The network proxy's, the same way, when the network is proxied.
    UniqueFd proxy_socket;
    if (plan_.proxy_socket) {
      proxy_socket.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (!proxy_socket) throw Error(errno_message("socket"));
    }
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error(errno_message("pipe"));
    info_fd_.reset(pipe_fds[0]);
    info_write.reset(pipe_fds[1]);
    UniqueFd passwd = memfd_with("passwd", plan_.passwd);
    UniqueFd group = memfd_with("group", plan_.group);

    SupervisorConfig config;
    config.control_fd = kControlFd;
    config.portal_control_fd = kPortalControlFd;
    config.portal_socket_fd = kPortalSocketFd;
    config.proxy_socket_fd = proxy_socket ? static_cast<int>(kProxySocketFd) : -1;
    config.launcher = getpid();
    config.root = root_dir;
    config.dirs = plan_.skeleton_dirs;
    config.sticky_dirs = plan_.sticky_dirs;
    config.home = plan_.home;
    config.bwrap_argv = plan_.bwrap_argv;
    config.environment = plan_.environment;
    config.verbose = verbose_;

    // Forked, not executed: nothing has started a thread yet, and the
    // supervisor is a few hundred lines of this program (DESIGN.md).
    supervisor_ = fork();
    if (supervisor_ < 0) throw Error(errno_message(_("cannot fork the supervisor")));
    if (supervisor_ == 0) {
      std::vector<std::pair<int, int>> fds = {
          {control_child.get(), kControlFd},   {seccomp_.get(), kSeccompFd},
          {info_write.get(), kInfoFd},         {passwd.get(), kPasswdFd},
          {group.get(), kGroupFd},             {portal_control_child.get(), kPortalControlFd},
          {portal_socket.get(), kPortalSocketFd}};
      if (proxy_socket) fds.emplace_back(proxy_socket.get(), kProxySocketFd);
      place_descriptors(std::move(fds));
      // bwrap gets the numbered descriptors but the sockets; nothing else
      // of ours survives.
      close_range(proxy_socket ? kProxySocketFd + 1 : kPortalSocketFd + 1, ~0U, 0);
      for (int fd : {kControlFd, kPortalControlFd, kPortalSocketFd}) fcntl(fd, F_SETFD, FD_CLOEXEC);
      if (proxy_socket) fcntl(kProxySocketFd, F_SETFD, FD_CLOEXEC);
      run_supervisor(config);
    }
    control_child.reset();
    portal_control_child.reset();
    info_write.reset();

    // The root and the portal's sockets exist.
    auto ready = receive_control_reply(control.get());
    if (!ready || ready->error != 0) return finish_early();

    for (const auto& resolved : grants_) {
      uint32_t flags = resolved.grant.read_only ? static_cast<uint32_t>(kGrantReadOnly) : 0u;
      if (!send_control_request(control.get(), ControlOp::kGrant, flags, resolved.grant.canonical,
                                resolved.host.fd.get()))
        return finish_early();
      auto reply = receive_control_reply(control.get());
      if (!reply) return finish_early();
      if (reply->error != 0) {
        kill(supervisor_, SIGKILL);
        finish_early();
        // TRANSLATORS: a path, and the reason.
        throw Error(format(_("cannot grant %s: %s"), resolved.grant.canonical.c_str(), reply->message));
      }
    }
    register_with_portal(portal_control.get(), portal_socket.get(), proxy_socket.get());
    // The portal holds its own copies; a session without one refuses the
    // sandbox's connections at once (and airlock-init closes the agent's
    // proxy connections).
    portal_control.reset();
    portal_socket.reset();
    proxy_socket.reset();
    if (!send_control_request(control.get(), ControlOp::kStart, 0, "", -1)) return finish_early();
    if (!receive_control_reply(control.get())) return finish_early();
    control_ = std::move(control);

    loop_ = g_main_loop_new(nullptr, FALSE);
    g_unix_fd_add(info_fd_.get(), static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), on_info, this);
    forward_signals();
    g_child_watch_add(supervisor_, on_supervisor_exit, this);
    g_main_loop_run(loop_);
    g_main_loop_unref(loop_);
    if (verbose_) {
      struct rusage usage {};
      getrusage(RUSAGE_SELF, &usage);
      // Not translated: bench/bench_launch.cpp reads it.
      fprintf(stderr, "airlock: launcher peak RSS %ld KiB\n", usage.ru_maxrss);
    }
    return exit_status_;
  }

 private:
  // Without a portal the sandbox still runs; it just cannot ask for more.
  // PROXY_SOCKET is the network proxy's listening socket, -1 when the
  // network is not proxied (--no-net, --share-net).
  void register_with_portal(int portal_control, int portal_socket, int proxy_socket) {
    std::string why;
    if (description_.prompt == "tty") {
      tty_.reset(open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
      // TRANSLATORS: keep --prompt=tty and /dev/tty as they are.
      if (!tty_) throw Error(errno_message(_("--prompt=tty needs a terminal, and /dev/tty cannot be opened")));
    }
    // The proxy's socket (when the network is proxied) goes along: the
    // portal serves the session's proxy on it.
    if (!portal_.register_session(portal_control, portal_socket, description_, &why, proxy_socket)) {
      // TRANSLATORS: %s says why the portal cannot be reached.
      fprintf(stderr, _("airlock: warning: no portal for this session (%s): the agent cannot ask for anything "
                        "at run time\n"),
              why.c_str());
      return;
    }
    // TRANSLATORS: %s is the session's id.
    if (verbose_) fprintf(stderr, _("airlock: session %s registered with the portal\n"), portal_.id().c_str());
    if (tty_) {
      prompter_ = std::make_unique<TerminalPrompter>(portal_.bus(), portal_.id(), tty_.get(), std::nullopt);
      prompter_->start();
    }
  }

  // The supervisor said why on stderr; its status is the answer.
  int finish_early() {
    int status = 0;
    while (waitpid(supervisor_, &status, 0) < 0 && errno == EINTR) {
    }
    int result = exit_status_from_wait(status);
    return result == 0 ? static_cast<int>(kExitAirlockFailed) : result;
  }

  static void on_supervisor_exit(GPid, gint status, gpointer data) {
    auto* self = static_cast<Session*>(data);
    self->exit_status_ = exit_status_from_wait(status);
    g_main_loop_quit(self->loop_);
  }

  // bwrap reports the sandbox's pid 1 (airlock-init) on --info-fd as
  // {"child-pid": N, ...}; signals for the agent go there, and airlock-init
  // passes them on. One known key of one known writer: a lookup, not a
  // JSON parser.
  static gboolean on_info(int fd, GIOCondition, gpointer data) {
    auto* self = static_cast<Session*>(data);
    char buffer[4096];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      self->info_fd_.reset();
      return G_SOURCE_REMOVE;
    }
    self->info_.append(buffer, static_cast<size_t>(n));
    size_t key = self->info_.find("\"child-pid\"");
    size_t colon = key == std::string::npos ? key : self->info_.find(':', key);
    if (self->sandbox_pid_ == 0 && colon != std::string::npos &&
        self->info_.find_first_of(",}", colon) != std::string::npos)
      self->sandbox_pid_ = static_cast<pid_t>(strtol(self->info_.c_str() + colon + 1, nullptr, 10));
    return G_SOURCE_CONTINUE;
  }

  void forward_signals() {
    // With a terminal the agent gets ^C and ^\ from it directly.
    bool tty = isatty(STDIN_FILENO);
    signal(SIGQUIT, tty ? SIG_IGN : SIG_DFL);
    for (int signo : {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT}) {
      if (signo == SIGINT && tty) {
        g_unix_signal_add(signo, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr);
        continue;
      }
      auto* forward = new Forward{this, signo};
      g_unix_signal_add_full(G_PRIORITY_DEFAULT, signo, on_signal, forward,
                             [](gpointer p) { delete static_cast<Forward*>(p); });
    }
  }

  struct Forward {
    Session* session;
    int signo;
  };

  static gboolean on_signal(gpointer data) {
    auto* forward = static_cast<Forward*>(data);
    Session* self = forward->session;
    // Not started yet: end it all.
    kill(self->sandbox_pid_ > 0 ? self->sandbox_pid_ : self->supervisor_,
         self->sandbox_pid_ > 0 ? forward->signo : SIGKILL);
    return G_SOURCE_CONTINUE;
  }

  const SandboxPlan& plan_;
  const std::vector<ResolvedGrant>& grants_;
  UniqueFd seccomp_;
  const SessionDescription& description_;
  bool verbose_;
  PortalLink portal_;
  UniqueFd tty_;
  std::unique_ptr<TerminalPrompter> prompter_;
  pid_t supervisor_ = -1;
  GMainLoop* loop_ = nullptr;
  UniqueFd control_;
  UniqueFd info_fd_;
  std::string info_;
  pid_t sandbox_pid_ = 0;
  int exit_status_ = kExitAirlockFailed;
};

}  // namespace

int run_session(const SandboxPlan& plan, const std::vector<ResolvedGrant>& grants, UniqueFd seccomp_bpf,
                const std::string& root_dir, const SessionDescription& description, bool verbose) {
  Session session(plan, grants, std::move(seccomp_bpf), description, verbose);
  return session.run(root_dir);
}

}  // namespace airlock
