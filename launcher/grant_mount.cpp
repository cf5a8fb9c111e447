#include "grant_mount.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "syscalls.h"
#include "translate.h"
#include "unique_fd.h"

namespace airlock {

namespace {

constexpr unsigned long long kNoLinks = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int fail(std::string* message, int error, const std::string& text) {
  // TRANSLATORS: what failed, and the system's reason.
  *message = format(_("%s: %s"), text.c_str(), strerror(error));
  return error;
}

// Creates (if missing) and opens the mount point for CANONICAL under the
// root, one component at a time, never following a symlink and never
// leaving the root: the sandbox can write to parts of the root ($HOME,
// /tmp) and may have planted links there.
int open_mountpoint(int root_fd, const std::string& canonical, bool directory, UniqueFd* out,
                    std::string* message) {
  UniqueFd dir(fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
  if (!dir) return fail(message, errno, _("cannot duplicate the root descriptor"));
  size_t pos = 1;
  while (pos <= canonical.size()) {
    size_t end = canonical.find('/', pos);
    if (end == std::string::npos) end = canonical.size();
    std::string name = canonical.substr(pos, end - pos);
    pos = end + 1;
    if (name.empty()) continue;
    bool last = pos > canonical.size();
    if (last && !directory) {
      int created = openat(dir.get(), name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (created >= 0) close(created);
      else if (errno != EEXIST)
        return fail(message, errno, format(_("cannot create the mount point %s"), canonical.c_str()));
    } else if (mkdirat(dir.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return fail(message, errno, format(_("cannot create the mount point %s"), canonical.c_str()));
    }
    UniqueFd next(sys_openat2(dir.get(), name.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW,
                              kNoLinks | RESOLVE_BENEATH));
    if (!next) return fail(message, errno, format(_("cannot open the mount point %s"), canonical.c_str()));
    struct stat st {};
    if (fstat(next.get(), &st) != 0)
      return fail(message, errno, format(_("cannot stat the mount point %s"), canonical.c_str()));
    bool want_dir = !last || directory;
    if (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
      return fail(message, ENOTDIR,
                  format(_("the sandbox has something else at %s (the agent may have created it)"), canonical.c_str()));
    dir = std::move(next);
  }
  *out = std::move(dir);
  return 0;
}

}  // namespace

int mount_grant(int root_fd, const std::string& canonical, int sender_fd, bool read_only,
                std::string* message) {
  if (canonical.empty() || canonical[0] != '/' || canonical == "/")
    return fail(message, EINVAL, format(_("not an absolute path below /: %s"), canonical.c_str()));

  // The sender's descriptor lives in the host's mount namespace, which
  // open_tree() refuses; look the path up again here and make sure it is
  // the very object the sender checked.
  UniqueFd own(sys_openat2(AT_FDCWD, canonical.c_str(), O_PATH | O_CLOEXEC, kNoLinks));
  if (!own) return fail(message, errno, format(_("cannot open %s"), canonical.c_str()));
  struct stat theirs {}, ours {};
  if (fstat(sender_fd, &theirs) != 0 || fstat(own.get(), &ours) != 0)
    return fail(message, errno, format(_("cannot stat %s"), canonical.c_str()));
  if (theirs.st_dev != ours.st_dev || theirs.st_ino != ours.st_ino)
    return fail(message, ESTALE, format(_("%s changed on the host while it was being granted"), canonical.c_str()));
  bool directory = S_ISDIR(ours.st_mode);
  if (!directory && !S_ISREG(ours.st_mode))
    return fail(message, EINVAL, format(_("%s is neither a folder nor a regular file"), canonical.c_str()));

  UniqueFd tree(static_cast<int>(open_tree(own.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                              AT_EMPTY_PATH | AT_RECURSIVE)));
  if (!tree) return fail(message, errno, format(_("cannot clone %s"), canonical.c_str()));

  // Restrict the detached tree: a remount after attaching would not
  // propagate into the sandbox.
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0);
  if (mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    return fail(message, errno, format(_("cannot restrict the mount of %s"), canonical.c_str()));

  UniqueFd target;
  if (int error = open_mountpoint(root_fd, canonical, directory, &target, message)) return error;
  if (move_mount(tree.get(), "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return fail(message, errno, format(_("cannot attach the grant of %s"), canonical.c_str()));
  return 0;
}

int unmount_grant(int root_fd, const std::string& canonical, std::string* message) {
  if (canonical.empty() || canonical[0] != '/' || canonical == "/")
    return fail(message, EINVAL, format(_("not an absolute path below /: %s"), canonical.c_str()));
  UniqueFd target(sys_openat2(root_fd, canonical.c_str() + 1, O_PATH | O_CLOEXEC | O_NOFOLLOW,
                              kNoLinks | RESOLVE_BENEATH));
  if (!target) return fail(message, errno, format(_("no grant at %s"), canonical.c_str()));
  std::string proc_path = "/proc/self/fd/" + std::to_string(target.get());
  if (umount2(proc_path.c_str(), MNT_DETACH) != 0)
    return fail(message, errno, format(_("cannot revoke the grant of %s"), canonical.c_str()));
  return 0;
}

}  // namespace airlock
