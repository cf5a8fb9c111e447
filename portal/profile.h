// Agent profiles: short keyfiles in the spirit of Flatpak's metadata that say
// what an agent needs beyond the empty sandbox. See airlock-profile(5).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace airlock {

struct StatePath {
  std::string path;     // absolute, "~" expanded
  bool directory;       // written with a trailing "/": created when missing
};

struct Profile {
  std::string name;         // the file's base name, e.g. "claude"
  std::string file;         // where it was read from
  std::string description;
  std::string command;      // default command when none is given
  std::vector<std::string> pass_env;                         // copied from the host when set
  std::vector<std::pair<std::string, std::string>> set_env;  // set inside, "~" expanded
  std::vector<StatePath> state;     // granted read-write at launch
  std::vector<std::string> runtime; // extra read-only host paths (beneath /etc, /opt...)
  bool allow_ptrace = false;
  std::string policy_rules;  // its [Rule NAME] groups: the policy's last layer
};

// A name an environment variable may have: letters, digits and '_', not
// starting with a digit.
bool is_variable_name(const std::string& name);

// Parses the keyfile DATA read from FILE. HOME expands "~". Throws Error
// naming the file, the group and the key on any malformed or unknown entry.
Profile parse_profile(const std::string& data, const std::string& file, const std::string& name,
                      const std::string& home);

// The directories searched for NAME.profile, most specific first:
// $AIRLOCK_PROFILE_PATH (colon separated), ~/.config/airlock/profiles,
// /etc/airlock/profiles, the installed profiles.
std::vector<std::string> profile_search_path(const std::string& home);

// NAME_OR_FILE is a profile name or, when it contains a '/', a file.
// Throws Error listing the available profiles when NAME is unknown.
Profile load_profile(const std::string& name_or_file, const std::string& home);

// Profile names found on the search path, sorted, without duplicates.
std::vector<std::string> available_profiles(const std::string& home);

}  // namespace airlock
