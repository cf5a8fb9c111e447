#include "policy_command.h"

#include <glib.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "error.h"
#include "host_path.h"
#include "policy.h"
#include "profile.h"

namespace airlock {

namespace {

// The policy speaks of canonical resources only, as the portal will ask it:
// paths resolved on the host, HOST:PORT in lower case.
std::string canonical_resource(RequestKind kind, const std::string& resource) {
  switch (kind) {
    case RequestKind::kFolder:
    case RequestKind::kFile: {
      HostPath path = resolve_host_path(resource);
      if (kind == RequestKind::kFolder && !path.is_directory)
        throw Error(resource + " is a file: check it with 'airlock policy check file'");
      if (kind == RequestKind::kFile && path.is_directory)
        throw Error(resource + " is a folder: check it with 'airlock policy check folder'");
      return path.canonical;
    }
    case RequestKind::kHost: {
      g_autofree char* lowered = g_ascii_strdown(resource.c_str(), -1);
      std::string host(lowered);
      size_t colon = host.rfind(':');
      if (colon == std::string::npos || colon + 1 == host.size() || host.back() == ']')
        throw Error("'" + resource + "' has no port: give HOST:PORT, e.g. pypi.org:443");
      return host;
    }
    case RequestKind::kSecret:
    default:
      if (resource.empty()) throw Error("the secret's name is empty");
      return resource;
  }
}

}  // namespace

int policy_command(int argc, char** argv) {
  g_set_prgname("airlock policy");
  gboolean write = FALSE;
  g_autofree char* profile = nullptr;
  g_auto(GStrv) rest = nullptr;
  GOptionEntry entries[] = {
      {"write", 'w', 0, G_OPTION_ARG_NONE, &write, "Ask about write access (default: read)", nullptr},
      {"profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "As a session of this agent profile would", "NAME"},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, nullptr, nullptr},
      {},
  };
  g_autoptr(GOptionContext) context = g_option_context_new("check KIND RESOURCE");
  g_option_context_set_summary(context,
                               "Print what the policy answers a request for RESOURCE, and which rule decides.\n"
                               "KIND is folder, file, host (HOST:PORT) or secret. Nobody is asked.");
  g_option_context_set_description(context, "The policy files and the rule format are described in airlock-policy(5).");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    throw Error(std::string(error->message) + " (see 'airlock policy --help')");
  if (!rest || !rest[0] || strcmp(rest[0], "check") != 0 || !rest[1] || !rest[2] || rest[3])
    throw Error("usage: airlock policy check [--write] [--profile NAME] KIND RESOURCE");
  auto kind = parse_request_kind(rest[1]);
  if (!kind) throw Error(std::string("unknown kind '") + rest[1] + "': use folder, file, host or secret");

  PolicyRequest request;
  request.kind = *kind;
  request.resource = canonical_resource(*kind, rest[2]);
  request.access = write ? Access::kWrite : Access::kRead;

  std::unique_ptr<char, decltype(&free)> home(realpath(g_get_home_dir(), nullptr), free);
  PolicyContext policy_context;
  policy_context.home = home ? home.get() : g_get_home_dir();
  if (const char* runtime = g_getenv("XDG_RUNTIME_DIR")) policy_context.runtime_dir = runtime;
  // A session of this profile has the profile's rules as the last layer.
  std::vector<PolicyLayer> profile_layer;
  if (profile) {
    Profile loaded = load_profile(profile, policy_context.home);
    request.profile = loaded.name;
    if (!loaded.policy_rules.empty()) profile_layer.push_back({"profile " + loaded.file, loaded.policy_rules});
  }
  Policy policy = load_policy(policy_search_files(policy_context.home), policy_context, profile_layer);
  PolicyResult result = policy.evaluate(request);

  std::string qualifiers;
  if (request.kind == RequestKind::kFolder || request.kind == RequestKind::kFile) qualifiers = access_name(request.access);
  if (!request.profile.empty()) qualifiers += (qualifiers.empty() ? "profile " : ", profile ") + request.profile;
  printf("%s %s%s: %s\n", request_kind_name(request.kind), request.resource.c_str(),
         qualifiers.empty() ? "" : (" (" + qualifiers + ")").c_str(), decision_name(result.decision));
  printf("  %s\n", result.reason.c_str());
  if (result.dangerous)
    printf("  warning: a place airlock never grants on its own; a person must confirm it separately\n");
  return 0;
}

}  // namespace airlock
