// Resolving a host path that a person or the portal wants to grant: the
// canonical path, checked against the deny list, and an O_PATH descriptor of
// exactly the object the check was made on.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "unique_fd.h"

namespace airlock {

struct HostPath {
  std::string requested;  // absolute, as asked for
  std::string canonical;  // every symlink resolved
  UniqueFd fd;            // O_PATH of canonical, opened without following symlinks
  bool is_directory = false;
  dev_t dev = 0;
  ino_t ino = 0;
};

// Makes PATH absolute against the working directory and resolves it. Throws
// Error (exit 125) when it does not exist, cannot be resolved, or changed
// between resolution and opening.
HostPath resolve_host_path(const std::string& path);

// The entry of the built-in deny list that CANONICAL lies beneath or
// contains (so granting $HOME or / is refused as a whole), if any.
// HOME is the canonical home directory, RUNTIME_DIR $XDG_RUNTIME_DIR or "".
// Airlock's own folders under $XDG_CONFIG_HOME and $XDG_DATA_HOME, when
// those are set, are on the list too.
std::optional<std::string> deny_list_match(const std::string& canonical, const std::string& home,
                                           const std::string& runtime_dir);

// True when CHILD is PARENT or lies beneath it; both canonical.
bool path_is_within(const std::string& child, const std::string& parent);

// True for the read-only runtime every sandbox is built from (/usr, and
// /bin, /lib... of merged-/usr systems) and anything beneath it.
bool is_runtime_path(const std::string& canonical);

// Why CANONICAL can never be granted, whoever asks: "" when it can. It
// would cover or shadow what the sandbox is built from (the runtime, /etc,
// /proc, /sys, /dev, /run/airlock, /boot), or it is / itself.
std::string sandbox_overlap(const std::string& canonical);

// Replaces a leading HOME with "~" for messages.
std::string display_path(const std::string& path, const std::string& home);

}  // namespace airlock
