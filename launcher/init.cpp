// airlock-init: the first process inside the sandbox (pid 1 of its pid
// namespace). It closes what it inherited, starts the bridge to the portal's
// network proxy, applies Landlock to itself, starts the agent, forwards
// signals to it, reaps every child and exits with the agent's status. One
// epoll loop serves the signals and the bridge, so that relaying bytes never
// holds up reaping or signals.

#include <fcntl.h>
#include <glib.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "error.h"
#include "landlock.h"
#include "proxy_bridge.h"
#include "translate.h"
#include "unique_fd.h"

namespace {

using airlock::Error;

// Signals the agent receives through init. With a terminal, ^C and ^\ reach
// the agent from the terminal itself, since it shares the foreground group.
constexpr int kForwarded[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGCONT};
constexpr int kFromTerminal[] = {SIGINT, SIGQUIT};

[[noreturn]] void fail(const std::string& message, int status = airlock::kExitAirlockFailed) {
  std::fprintf(stderr, "airlock: %s\n", message.c_str());
  std::exit(status);
}

std::vector<std::string> to_vector(char** strv) {
  std::vector<std::string> out;
  for (char** p = strv; p != nullptr && *p != nullptr; ++p) out.emplace_back(*p);
  return out;
}

void close_inherited_fds() {
  if (close_range(3, UINT_MAX, 0) == 0) return;
  // Kernels before 5.9 lack close_range.
  const long max_fd = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < max_fd; ++fd) close(static_cast<int>(fd));
}

// Runs in the vforked child, which shares our memory until it execs: only
// system calls here. A clean signal state, then the command; on failure the
// errno goes to the parent through the close-on-exec pipe.
// --proxy PORT:PATH: the bridge from 127.0.0.1:PORT (and [::1]:PORT) to the
// unix socket PATH, listening before the agent starts.
std::unique_ptr<airlock::ProxyBridge> start_proxy_bridge(const char* option, int epoll_fd) {
  const char* colon = std::strchr(option, ':');
  char* end = nullptr;
  errno = 0;
  const long port = colon ? std::strtol(option, &end, 10) : 0;
  if (!colon || end != colon || errno != 0 || port <= 0 || port > 65535 || colon[1] != '/')
    // TRANSLATORS: keep --proxy; PORT:/PATH is the form of its value.
    fail(airlock::format(_("--proxy %s: expected PORT:/PATH"), option));
  try {
    return std::make_unique<airlock::ProxyBridge>(epoll_fd, static_cast<int>(port), colon + 1);
  } catch (const Error& e) {
    fail(e.what());
  }
}

[[noreturn]] void exec_agent(char** argv, int error_pipe) {
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);  // SIGKILL, SIGSTOP: EINVAL, harmless
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  execvp(argv[0], argv);
  const int saved_errno = errno;
  ssize_t ignored = write(error_pipe, &saved_errno, sizeof saved_errno);
  (void)ignored;
  _exit(airlock::kExitNotFound);
}

}  // namespace

int main(int argc, char** argv) {
  close_inherited_fds();
  airlock::init_i18n();

  g_auto(GStrv) ro = nullptr;
  g_auto(GStrv) rw = nullptr;
  g_auto(GStrv) dev = nullptr;
  g_auto(GStrv) command = nullptr;
  gboolean tty = FALSE;
  gboolean verbose = FALSE;
  gboolean no_tcp = FALSE;
  g_autofree char* proxy = nullptr;
  const GOptionEntry entries[] = {
      // TRANSLATORS: PATH is the option's argument, named as in its
      // description (it is translated as well).
      {"ro", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ro, N_("Allow reading and executing beneath PATH"), N_("PATH")},
      {"rw", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rw, N_("Allow everything beneath PATH"), N_("PATH")},
      {"dev", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &dev, N_("Allow using the devices beneath PATH"), N_("PATH")},
      {"no-tcp", 0, 0, G_OPTION_ARG_NONE, &no_tcp, N_("Deny TCP bind and connect"), nullptr},
      // TRANSLATORS: PORT and PATH are the parts of the option's argument,
      // PORT:PATH (translated as well).
      {"proxy", 0, 0, G_OPTION_ARG_FILENAME, &proxy, N_("Bridge 127.0.0.1:PORT and [::1]:PORT to the unix socket PATH"),
       N_("PORT:PATH")},
      {"tty", 0, 0, G_OPTION_ARG_NONE, &tty, N_("The agent shares the terminal's foreground group"), nullptr},
      {"verbose", 0, 0, G_OPTION_ARG_NONE, &verbose, N_("Say which Landlock ABI was applied"), nullptr},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &command, nullptr, N_("COMMAND [ARG...]")},
      {}};
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_strict_posix(context, TRUE);
  airlock::add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) fail(error->message);
  if (command == nullptr || command[0] == nullptr)
    // TRANSLATORS: keep "airlock-init" and "--"; OPTION, COMMAND and ARG
    // may be translated as in the --help of airlock-init.
    fail(_("airlock-init needs a command: airlock-init [OPTION...] -- COMMAND [ARG...]"));

  airlock::UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) fail(airlock::errno_message(_("cannot create an epoll instance")));
  // Listening before Landlock: its TCP rules (--no-tcp) are for the agent.
  // Connecting to the proxy's unix socket later is no access Landlock
  // restricts.
  std::unique_ptr<airlock::ProxyBridge> bridge;
  if (proxy) {
    bridge = start_proxy_bridge(proxy, epoll.get());
    // TRANSLATORS: %s is where the bridge listens, such as "127.0.0.1:3128 and [::1]:3128".
    if (verbose) std::fprintf(stderr, _("airlock: proxy bridge on %s\n"), bridge->description().c_str());
  }

  try {
    airlock::LandlockRules rules;
    rules.read_only = to_vector(ro);
    rules.read_write = to_vector(rw);
    rules.devices = to_vector(dev);
    rules.deny_tcp = no_tcp;
    const airlock::LandlockResult landlock = airlock::apply_landlock(rules);
    if (landlock.abi == 0)
      std::fputs(_("airlock: Landlock is not available in this kernel; the sandbox runs without it\n"), stderr);
    else if (verbose)
      std::fprintf(stderr, "airlock: %s\n", landlock.description.c_str());
  } catch (const Error& e) {
    fail(e.what());
  }

  // Forwarded signals and SIGCHLD are blocked and read from a signalfd;
  // blocked, they reach init even as pid 1, which drops unhandled ones.
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (int sig : kForwarded) sigaddset(&handled, sig);
  for (int sig : kFromTerminal) {
    if (tty) signal(sig, SIG_IGN);
    else sigaddset(&handled, sig);
  }
  signal(SIGCHLD, SIG_DFL);  // an inherited SIG_IGN would reap children behind our back
  if (sigprocmask(SIG_BLOCK, &handled, nullptr) != 0) fail(airlock::errno_message(_("cannot block signals")));
  airlock::UniqueFd signals(signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signals) fail(airlock::errno_message(_("cannot create a signalfd")));
  epoll_event signal_event = {};
  signal_event.events = EPOLLIN;
  signal_event.data.ptr = nullptr;  // the bridge's events point to an EpollWatch
  if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, signals.get(), &signal_event) != 0)
    fail(airlock::errno_message(_("cannot watch the signalfd")));

  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) fail(airlock::errno_message(_("cannot create a pipe")));
  airlock::UniqueFd error_read(error_pipe[0]);
  airlock::UniqueFd error_write(error_pipe[1]);
  // vfork: the child only resets signals and execs (or reports why it
  // could not), so copying our page tables would be wasted.
  const pid_t agent = vfork();
  if (agent < 0) fail(airlock::errno_message(_("cannot fork")));
  if (agent == 0) exec_agent(command, error_write.get());
  error_write.reset();

  int exec_errno = 0;
  if (read(error_read.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
    waitpid(agent, nullptr, 0);
    if (exec_errno == ENOENT)
      fail(airlock::format(_("%s: command not found in the sandbox"), command[0]), airlock::kExitNotFound);
    // TRANSLATORS: a command, and the system's reason.
    fail(airlock::format(_("cannot run %s: %s"), command[0], std::strerror(exec_errno)), airlock::kExitCannotRun);
  }
  error_read.reset();

  for (;;) {
    epoll_event events[64];
    const int count = epoll_wait(epoll.get(), events, 64, bridge ? bridge->timeout_ms() : -1);
    if (count < 0) {
      if (errno == EINTR) continue;
      fail(airlock::errno_message(_("cannot wait for events")));
    }
    for (int i = 0; i < count; ++i) {
      if (events[i].data.ptr != nullptr) {
        static_cast<airlock::EpollWatch*>(events[i].data.ptr)->ready(events[i].events);
        continue;
      }
      signalfd_siginfo info;
      while (read(signals.get(), &info, sizeof info) == sizeof info) {
        const int sig = static_cast<int>(info.ssi_signo);
        if (sig != SIGCHLD) {
          kill(agent, sig);
          continue;
        }
        // One SIGCHLD may stand for several children: reap them all.
        int status = 0;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
          if (pid == agent) return airlock::exit_status_from_wait(status);
        }
      }
      if (errno != EAGAIN && errno != EINTR) fail(airlock::errno_message(_("cannot read the signalfd")));
    }
    if (bridge) bridge->run_timers();
  }
}
