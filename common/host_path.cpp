#include "host_path.h"

#include <fcntl.h>
#include <glib.h>
#include <linux/openat2.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

#include "error.h"
#include "syscalls.h"
#include "translate.h"

namespace airlock {

namespace {

// Beneath $HOME: what an agent must never get without an explicit,
// separately confirmed override (the portal's policy; the launcher has none).
constexpr std::array kHomeDenyList = {
    ".ssh",
    ".gnupg",
    ".password-store",
    ".local/share/keyrings",
    ".local/share/kwalletd",
    ".pki",
    ".mozilla",
    ".thunderbird",
    ".config/google-chrome",
    ".config/chromium",
    ".config/BraveSoftware",
    ".config/microsoft-edge",
    ".config/vivaldi",
    ".config/opera",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    ".kube",
    ".docker/config.json",
    ".netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".config/airlock",
    ".local/share/airlock",
};

std::string make_absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  std::unique_ptr<char, decltype(&free)> cwd(getcwd(nullptr, 0), free);
  if (!cwd) throw Error(errno_message(_("cannot read the working directory")));
  return std::string(cwd.get()) + "/" + path;
}

constexpr std::array kRuntimeRoots = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

}  // namespace

bool is_runtime_path(const std::string& canonical) {
  return std::any_of(kRuntimeRoots.begin(), kRuntimeRoots.end(),
                     [&](const char* root) { return path_is_within(canonical, root); });
}

std::string sandbox_overlap(const std::string& canonical) {
  // The runtime roots are top-level, so only / contains one.
  if (canonical == "/" || is_runtime_path(canonical))
    // TRANSLATORS: a reason, after "cannot grant PATH: ".
    return _("it overlaps the read-only runtime (/usr and its links), which the sandbox is built from");
  static constexpr const char* kBuiltFrom[] = {"/etc", "/proc", "/sys", "/dev", "/run/airlock", "/boot"};
  for (const char* place : kBuiltFrom)
    if (path_is_within(canonical, place) || path_is_within(place, canonical))
      // TRANSLATORS: a reason, after "cannot grant PATH: "; %s is a folder
      // such as /etc.
      return format(_("it overlaps %s, which the sandbox is built from"), place);
  return "";
}

bool path_is_within(const std::string& child, const std::string& parent) {
  if (parent == "/") return !child.empty() && child[0] == '/';
  if (child.size() < parent.size() || child.compare(0, parent.size(), parent) != 0) return false;
  return child.size() == parent.size() || child[parent.size()] == '/';
}

std::string display_path(const std::string& path, const std::string& home) {
  if (!home.empty() && home != "/" && path_is_within(path, home))
    return "~" + path.substr(home.size());
  return path;
}

std::optional<std::string> deny_list_match(const std::string& canonical, const std::string& home,
                                           const std::string& runtime_dir) {
  auto check = [&](const std::string& denied) -> bool {
    return path_is_within(canonical, denied) || path_is_within(denied, canonical);
  };
  if (!home.empty()) {
    for (const char* entry : kHomeDenyList) {
      std::string denied = home + "/" + entry;
      if (check(denied)) return denied;
    }
    if (canonical == home) return home;
  }
  if (!runtime_dir.empty() && check(runtime_dir)) return runtime_dir;
  // Airlock's own policy, always-grants and audit log, wherever the XDG
  // variables put them: an agent that could write them could grant itself
  // anything.
  for (const char* variable : {"XDG_CONFIG_HOME", "XDG_DATA_HOME"}) {
    const char* base = g_getenv(variable);
    if (!base || base[0] != '/') continue;
    std::unique_ptr<char, decltype(&free)> real(realpath(base, nullptr), free);
    std::string own = std::string(real ? real.get() : base) + "/airlock";
    if (check(own)) return own;
  }
  if (canonical == "/") return std::string("/");
  return std::nullopt;
}

HostPath resolve_host_path(const std::string& path) {
  if (path.empty()) throw Error(_("an empty path cannot be granted"));
  // TRANSLATORS: PATH_MAX is the system's limit, named as it is.
  if (path.size() >= PATH_MAX) throw Error(format(_("a path of %zu bytes is longer than PATH_MAX"), path.size()));

  HostPath result;
  result.requested = make_absolute(path);

  std::unique_ptr<char, decltype(&free)> real(realpath(result.requested.c_str(), nullptr), free);
  if (!real) {
    int saved = errno;
    if (saved == ENOENT)
      throw Error(format(_("%s does not exist: create it first, or check the spelling"), result.requested.c_str()));
    throw Error(errno_message(format(_("cannot resolve %s"), result.requested.c_str()), saved));
  }
  result.canonical = real.get();

  // Open the canonical path refusing every symlink: if anything was swapped
  // in between realpath() and here, this fails instead of following it.
  result.fd.reset(sys_openat2(AT_FDCWD, result.canonical.c_str(), O_PATH | O_CLOEXEC,
                              RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
  if (!result.fd) {
    int saved = errno;
    if (saved == ELOOP)
      throw Error(format(_("%s changed while it was being resolved (a symlink appeared): try again"),
                         result.requested.c_str()));
    throw Error(errno_message(format(_("cannot open %s"), result.canonical.c_str()), saved));
  }
  struct stat st {};
  if (fstat(result.fd.get(), &st) != 0)
    throw Error(errno_message(format(_("cannot stat %s"), result.canonical.c_str())));
  if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
    throw Error(format(_("%s is neither a folder nor a regular file; only those can be granted"),
                       result.canonical.c_str()));
  result.is_directory = S_ISDIR(st.st_mode);
  result.dev = st.st_dev;
  result.ino = st.st_ino;
  return result;
}

}  // namespace airlock
