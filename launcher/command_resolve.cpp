#include "command_resolve.h"

#include <glib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "error.h"
#include "host_path.h"
#include "translate.h"

namespace airlock {

namespace {

std::string canonical_or_throw(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> real(realpath(path.c_str(), nullptr), free);
  if (!real) throw Error(errno_message(format(_("cannot resolve %s"), path.c_str())), kExitCannotRun);
  return real.get();
}

std::string dirname_of(const std::string& path) {
  g_autofree char* dir = g_path_get_dirname(path.c_str());
  return dir;
}

std::string find_on_path(const std::string& command, const std::string& search_path) {
  if (command.find('/') != std::string::npos) {
    if (access(command.c_str(), F_OK) != 0)
      throw Error(format(_("%s: no such file"), command.c_str()), kExitNotFound);
    return command[0] == '/' ? command : canonical_or_throw(command);
  }
  g_auto(GStrv) dirs = g_strsplit(search_path.c_str(), ":", -1);
  std::string not_executable;
  for (char** dir = dirs; *dir; ++dir) {
    std::string candidate = std::string(**dir ? *dir : ".") + "/" + command;
    if (g_file_test(candidate.c_str(), G_FILE_TEST_IS_DIR) || access(candidate.c_str(), F_OK) != 0) continue;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (not_executable.empty()) not_executable = candidate;
  }
  if (!not_executable.empty())
    throw Error(format(_("cannot run %s: it is not executable"), not_executable.c_str()), kExitCannotRun);
  // TRANSLATORS: keep PATH: it names the environment variable.
  throw Error(format(_("%s: command not found on the host's PATH"), command.c_str()), kExitNotFound);
}

// The installed unit that a file outside the runtime belongs to.
std::string installation_of(const std::string& real) {
  // An npm package (global installs nest their dependencies inside it).
  size_t modules = real.rfind("/node_modules/");
  if (modules != std::string::npos) {
    size_t start = modules + strlen("/node_modules/");
    size_t end = real.find('/', start);
    if (end != std::string::npos && real[start] == '@') end = real.find('/', end + 1);
    if (end != std::string::npos) return real.substr(0, end);
  }
  // A Python virtual environment (pipx, uv tool, a plain venv).
  std::string bin = dirname_of(real);
  std::string venv = dirname_of(bin);
  if (g_str_has_suffix(bin.c_str(), "/bin") && g_file_test((venv + "/pyvenv.cfg").c_str(), G_FILE_TEST_EXISTS))
    return venv;
  return real;
}

// "#!/usr/bin/env node" -> "node"; "#!/opt/x/bin/python3 -u" -> "/opt/x/bin/python3".
std::string interpreter_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("#!", 0) != 0) return {};
  g_auto(GStrv) words = g_strsplit_set(line.c_str() + 2, " \t\r", -1);
  std::vector<std::string> parts;
  for (char** word = words; *word; ++word)
    if (**word) parts.emplace_back(*word);
  if (parts.empty()) return {};
  if (g_str_has_suffix(parts[0].c_str(), "/env")) {
    for (size_t i = 1; i < parts.size(); ++i)
      if (parts[i][0] != '-' && parts[i].find('=') == std::string::npos) return parts[i];
    return {};
  }
  return parts[0];
}

void add_unique(std::vector<std::string>* list, const std::string& item) {
  if (std::find(list->begin(), list->end(), item) == list->end()) list->push_back(item);
}

}  // namespace

ResolvedCommand resolve_command(const std::string& command, const std::string& search_path) {
  // TRANSLATORS: keep -- and "airlock run -- bash": they are typed as shown.
  if (command.empty()) throw Error(_("the command is empty: give one after --, e.g. airlock run -- bash"));
  ResolvedCommand result;
  std::string found = find_on_path(command, search_path);
  if (access(found.c_str(), X_OK) != 0)
    throw Error(format(_("cannot run %s: it is not executable"), found.c_str()), kExitCannotRun);
  std::string real = canonical_or_throw(found);
  if (is_runtime_path(found) || is_runtime_path(real)) {
    result.path = is_runtime_path(found) ? found : real;
  } else {
    result.path = real;
    add_unique(&result.installation, installation_of(real));
  }

  // One level of interpreter: a script run by a node or python that lives
  // outside the runtime needs that interpreter too, and on the PATH when it
  // is named through env(1).
  std::string interpreter = interpreter_of(real);
  if (!interpreter.empty()) {
    std::string interpreter_found;
    try {
      interpreter_found = find_on_path(interpreter, search_path);
    } catch (const Error&) {
      return result;  // the exec inside reports it, as it would outside
    }
    std::string interpreter_real = canonical_or_throw(interpreter_found);
    if (!is_runtime_path(interpreter_found) && !is_runtime_path(interpreter_real)) {
      add_unique(&result.installation, installation_of(interpreter_real));
      add_unique(&result.path_dirs, dirname_of(interpreter_real));
    }
  }
  return result;
}

}  // namespace airlock
