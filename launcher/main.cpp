// airlock: the command line. Each subcommand lives in its own file.
#include <glib.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <unistd.h>

#include "config.h"
#include "error.h"
#include "manage_command.h"
#include "policy_command.h"
#include "prompt_command.h"
#include "run_command.h"
#include "translate.h"

namespace {

void usage(FILE* out) {
  // TRANSLATORS: keep the commands and their arguments (run, --, COMMAND...)
  // as they are; they are typed as shown.
  fputs(_("Usage: airlock COMMAND [OPTION...]\n"
        "\n"
        "Run AI agents in a sandbox that shares nothing with the host, and grant\n"
        "them folders, hosts and secrets as they need them.\n"
        "\n"
        "Commands:\n"
        "  run [OPTION...] [--] COMMAND [ARG...]   Run COMMAND in a new sandbox\n"
        "  prompt [OPTION...]                      Answer the agents' requests in this terminal\n"
        "  ps                                      List the running sessions\n"
        "  grants [SESSION]                        List the grants of the sessions\n"
        "  revoke SESSION GRANT                    Take a grant away\n"
        "  forget ID                               Remove an always-grant\n"
        "  log [OPTION...]                         Show or verify the audit log\n"
        "  policy check KIND RESOURCE              Show what the policy answers, and why\n"
        "  secret add|list|rm|unlock [NAME]        Keep the secrets agents may ask for\n"
        "  version                                 Print the version\n"
        "\n"
        "'airlock COMMAND --help' describes each command; see also airlock(1).\n"),
        out);
}

}  // namespace

int main(int argc, char** argv) {
  airlock::init_i18n();
  if (argc < 2) {
    usage(stderr);
    return airlock::kExitAirlockFailed;
  }
  const char* command = argv[1];
  if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
    printf("airlock %s\n", AIRLOCK_VERSION);
    return 0;
  }
  try {
    if (strcmp(command, "run") == 0) return airlock::run_command(argc - 1, argv + 1);
    if (strcmp(command, "policy") == 0) return airlock::policy_command(argc - 1, argv + 1);
    if (strcmp(command, "secret") == 0) {
      // A program of its own (libsecret and GnuTLS stay out of `airlock run`).
      std::string helper = airlock::helper_path("airlock-secret");
      argv[1] = const_cast<char*>("airlock secret");
      execv(helper.c_str(), argv + 1);
      throw airlock::Error(airlock::errno_message(airlock::format(_("cannot run %s"), helper.c_str())));
    }
    if (strcmp(command, "prompt") == 0) return airlock::prompt_command(argc - 1, argv + 1);
    for (const char* manage : {"ps", "grants", "revoke", "forget", "log"})
      if (strcmp(command, manage) == 0) return airlock::manage_command(argc - 1, argv + 1);
    fprintf(stderr, _("airlock: unknown command '%s' (see 'airlock --help')\n"), command);
    return airlock::kExitAirlockFailed;
  } catch (const airlock::Error& error) {
    fprintf(stderr, "airlock: %s\n", error.what());
    return error.exit_status();
  }
}
