#include "profile.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "config.h"
#include "error.h"
#include "policy.h"

namespace airlock {

namespace {

constexpr const char* kSuffix = ".profile";

struct KeySpec {
  const char* group;
  const char* key;
};

// Every key a profile may hold; anything else is a mistake worth reporting.
constexpr KeySpec kKnownKeys[] = {
    {"Profile", "Description"}, {"Profile", "Command"},
    {"Environment", "Pass"},    {"Environment", "Set"},
    {"Filesystem", "State"},    {"Filesystem", "Runtime"},
    {"Sandbox", "Ptrace"},
};

std::string expand_home(const std::string& value, const std::string& home) {
  if (value == "~") return home;
  if (value.rfind("~/", 0) == 0) return home + value.substr(1);
  return value;
}

std::vector<std::string> string_list(GKeyFile* keyfile, const char* group, const char* key) {
  std::vector<std::string> result;
  g_auto(GStrv) values = g_key_file_get_string_list(keyfile, group, key, nullptr, nullptr);
  for (char** value = values; value && *value; ++value) {
    std::string item = g_strstrip(*value);
    if (!item.empty()) result.push_back(item);
  }
  return result;
}

}  // namespace

bool is_variable_name(const std::string& name) {
  if (name.empty() || g_ascii_isdigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return g_ascii_isalnum(c) || c == '_'; });
}

Profile parse_profile(const std::string& data, const std::string& file, const std::string& name,
                      const std::string& home) {
  g_autoptr(GKeyFile) keyfile = g_key_file_new();
  g_autoptr(GError) error = nullptr;
  if (!g_key_file_load_from_data(keyfile, data.data(), data.size(), G_KEY_FILE_NONE, &error))
    throw Error("profile " + file + " is malformed: " + error->message);

  auto where = [&](const char* group, const char* key) {
    return "profile " + file + ", [" + group + "] " + key;
  };

  // [Rule NAME] groups are the profile's policy layer (airlock-policy(5)):
  // copied aside here and checked by the policy's own parser below.
  g_autoptr(GKeyFile) rules = g_key_file_new();
  bool has_rules = false;
  g_auto(GStrv) groups = g_key_file_get_groups(keyfile, nullptr);
  for (char** group = groups; *group; ++group) {
    g_auto(GStrv) keys = g_key_file_get_keys(keyfile, *group, nullptr, nullptr);
    if (g_str_has_prefix(*group, "Rule ")) {
      has_rules = true;
      for (char** key = keys; key && *key; ++key) {
        g_autofree char* value = g_key_file_get_value(keyfile, *group, *key, nullptr);
        g_key_file_set_value(rules, *group, *key, value ? value : "");
      }
      continue;
    }
    for (char** key = keys; key && *key; ++key) {
      bool known = std::any_of(std::begin(kKnownKeys), std::end(kKnownKeys), [&](const KeySpec& spec) {
        return g_str_equal(spec.group, *group) && g_str_equal(spec.key, *key);
      });
      if (!known) throw Error(where(*group, *key) + ": unknown key (see airlock-profile(5))");
    }
  }
  if (!g_key_file_has_group(keyfile, "Profile"))
    throw Error("profile " + file + " has no [Profile] group (see airlock-profile(5))");

  Profile profile;
  profile.name = name;
  profile.file = file;
  if (has_rules) {
    g_autofree char* text = g_key_file_to_data(rules, nullptr, nullptr);
    profile.policy_rules = text;
    PolicyContext context;
    context.home = home;
    Policy validated({{"profile " + file, profile.policy_rules}}, context);  // throws Error when malformed
  }
  g_autofree char* description = g_key_file_get_string(keyfile, "Profile", "Description", nullptr);
  if (description) profile.description = description;
  g_autofree char* command = g_key_file_get_string(keyfile, "Profile", "Command", nullptr);
  if (command) profile.command = g_strstrip(command);

  for (const auto& variable : string_list(keyfile, "Environment", "Pass")) {
    if (!is_variable_name(variable))
      throw Error(where("Environment", "Pass") + ": '" + variable + "' is not a variable name");
    profile.pass_env.push_back(variable);
  }
  for (const auto& assignment : string_list(keyfile, "Environment", "Set")) {
    size_t eq = assignment.find('=');
    std::string variable = assignment.substr(0, eq);
    if (eq == std::string::npos || !is_variable_name(variable))
      throw Error(where("Environment", "Set") + ": '" + assignment + "' is not NAME=VALUE");
    profile.set_env.emplace_back(variable, expand_home(assignment.substr(eq + 1), home));
  }
  for (const auto& entry : string_list(keyfile, "Filesystem", "State")) {
    bool directory = entry.back() == '/';
    std::string path = expand_home(directory ? entry.substr(0, entry.size() - 1) : entry, home);
    if (path.empty() || path[0] != '/' || path == home)
      throw Error(where("Filesystem", "State") + ": '" + entry +
                  "' must be a path beneath ~ or an absolute path, and not ~ itself");
    profile.state.push_back({path, directory});
  }
  for (const auto& entry : string_list(keyfile, "Filesystem", "Runtime")) {
    if (entry[0] != '/')
      throw Error(where("Filesystem", "Runtime") + ": '" + entry + "' must be an absolute path");
    profile.runtime.push_back(entry);
  }
  if (g_key_file_has_key(keyfile, "Sandbox", "Ptrace", nullptr)) {
    profile.allow_ptrace = g_key_file_get_boolean(keyfile, "Sandbox", "Ptrace", &error);
    if (error) throw Error(where("Sandbox", "Ptrace") + ": must be true or false");
  }
  return profile;
}

std::vector<std::string> profile_search_path(const std::string& home) {
  std::vector<std::string> dirs;
  if (const char* env = g_getenv("AIRLOCK_PROFILE_PATH")) {
    g_auto(GStrv) parts = g_strsplit(env, ":", -1);
    for (char** part = parts; *part; ++part)
      if (**part) dirs.emplace_back(*part);
  }
  const char* config = g_getenv("XDG_CONFIG_HOME");
  dirs.push_back((config && *config ? std::string(config) : home + "/.config") + "/airlock/profiles");
  dirs.emplace_back("/etc/airlock/profiles");
  dirs.emplace_back(AIRLOCK_PROFILEDIR);
  return dirs;
}

std::vector<std::string> available_profiles(const std::string& home) {
  std::set<std::string> names;
  for (const auto& dir : profile_search_path(home)) {
    g_autoptr(GDir) handle = g_dir_open(dir.c_str(), 0, nullptr);
    if (!handle) continue;
    while (const char* entry = g_dir_read_name(handle))
      if (g_str_has_suffix(entry, kSuffix))
        names.insert(std::string(entry, strlen(entry) - strlen(kSuffix)));
  }
  return {names.begin(), names.end()};
}

Profile load_profile(const std::string& name_or_file, const std::string& home) {
  std::string file;
  std::string name = name_or_file;
  if (name_or_file.find('/') != std::string::npos) {
    file = name_or_file;
    g_autofree char* base = g_path_get_basename(file.c_str());
    name = base;
    if (g_str_has_suffix(base, kSuffix)) name.resize(name.size() - strlen(kSuffix));
  } else {
    for (const auto& dir : profile_search_path(home)) {
      std::string candidate = dir + "/" + name_or_file + kSuffix;
      if (g_file_test(candidate.c_str(), G_FILE_TEST_IS_REGULAR)) {
        file = candidate;
        break;
      }
    }
    if (file.empty()) {
      std::string known;
      for (const auto& available : available_profiles(home)) known += (known.empty() ? "" : ", ") + available;
      throw Error("unknown profile '" + name_or_file + "': available profiles are " +
                  (known.empty() ? std::string("(none installed)") : known) +
                  "; or give a profile file with --profile ./FILE.profile");
    }
  }
  g_autofree char* contents = nullptr;
  gsize length = 0;
  g_autoptr(GError) error = nullptr;
  if (!g_file_get_contents(file.c_str(), &contents, &length, &error))
    throw Error("cannot read profile " + file + ": " + error->message);
  return parse_profile(std::string(contents, length), file, name, home);
}

}  // namespace airlock
