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
#include "translate.h"

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
        // TRANSLATORS: %s is a path; the command is typed as shown.
        throw Error(format(_("%s is a file: check it with 'airlock policy check file'"), resource.c_str()));
      if (kind == RequestKind::kFile && path.is_directory)
        // TRANSLATORS: %s is a path; the command is typed as shown.
        throw Error(format(_("%s is a folder: check it with 'airlock policy check folder'"), resource.c_str()));
      return path.canonical;
    }
    case RequestKind::kHost: {
      g_autofree char* lowered = g_ascii_strdown(resource.c_str(), -1);
      std::string host(lowered);
      size_t colon = host.rfind(':');
      if (colon == std::string::npos || colon + 1 == host.size() || host.back() == ']')
        // TRANSLATORS: %s is the host given; HOST:PORT is how it is typed.
        throw Error(format(_("'%s' has no port: give HOST:PORT, e.g. pypi.org:443"), resource.c_str()));
      return host;
    }
    case RequestKind::kSecret:
    default:
      if (resource.empty()) throw Error(_("the secret's name is empty"));
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
      {"write", 'w', 0, G_OPTION_ARG_NONE, &write, N_("Ask about write access (default: read)"), nullptr},
      // TRANSLATORS: NAME is the placeholder for the profile's name, as in
      // the usage message.
      {"profile", 'p', 0, G_OPTION_ARG_STRING, &profile, N_("As a session of this agent profile would"), N_("NAME")},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, nullptr, nullptr},
      {},
  };
  // TRANSLATORS: "check" is the command, typed as shown; KIND and RESOURCE
  // are named in the summary that follows, and stay the same in both.
  g_autoptr(GOptionContext) context = g_option_context_new(N_("check KIND RESOURCE"));
  // TRANSLATORS: folder, file, host and secret are typed as shown.
  g_option_context_set_summary(context,
                               N_("Print what the policy answers a request for RESOURCE, and which rule decides.\n"
                                  "KIND is folder, file, host (HOST:PORT) or secret. Nobody is asked."));
  g_option_context_set_description(context,
                                   N_("The policy files and the rule format are described in airlock-policy(5)."));
  add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    // TRANSLATORS: %s is GLib's message about the options.
    throw Error(format(_("%s (see 'airlock policy --help')"), error->message));
  if (!rest || !rest[0] || strcmp(rest[0], "check") != 0 || !rest[1] || !rest[2] || rest[3])
    // TRANSLATORS: the command after "usage:" is typed as shown.
    throw Error(_("usage: airlock policy check [--write] [--profile NAME] KIND RESOURCE"));
  auto kind = parse_request_kind(rest[1]);
  if (!kind)
    // TRANSLATORS: %s is the kind given; folder, file, host and secret are
    // typed as shown.
    throw Error(format(_("unknown kind '%s': use folder, file, host or secret"), rest[1]));

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

  // "folder /home/me/src (write, profile NAME): allow": the kind, access
  // and decision are the policy's keywords, as its rules write them.
  const char* kind_name = request_kind_name(request.kind);
  const char* resource = request.resource.c_str();
  const char* decision = decision_name(result.decision);
  const char* profile_name = request.profile.c_str();
  bool path = request.kind == RequestKind::kFolder || request.kind == RequestKind::kFile;
  if (request.profile.empty() && path)
    printf("%s %s (%s): %s\n", kind_name, resource, access_name(request.access), decision);
  else if (request.profile.empty())
    printf("%s %s: %s\n", kind_name, resource, decision);
  else if (path)
    // TRANSLATORS: "folder /home/me/src (write, profile NAME): allow"; the
    // kind (folder), access (write) and decision (allow) are keywords of
    // the policy and stay as they are.
    printf(_("%s %s (%s, profile %s): %s\n"), kind_name, resource, access_name(request.access), profile_name,
           decision);
  else
    // TRANSLATORS: "host pypi.org:443 (profile NAME): allow"; the kind
    // (host) and decision (allow) are keywords of the policy.
    printf(_("%s %s (profile %s): %s\n"), kind_name, resource, profile_name, decision);
  printf("  %s\n", result.reason.c_str());
  if (result.dangerous)
    printf("  %s\n", _("warning: a place airlock never grants on its own; a person must confirm it separately"));
  return 0;
}

}  // namespace airlock
