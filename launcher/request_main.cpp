// airlock-request: inside the sandbox, ask the portal for a host folder or
// file, and show what this session holds. Each command lives in its own file.
#include <glib.h>

#include <cstdio>
#include <cstring>

#include "error.h"
#include "request_access_command.h"
#include "request_portal.h"
#include "request_secret_command.h"
#include "request_session_command.h"
#include "translate.h"

namespace {

void usage(FILE* out) {
  // TRANSLATORS: keep the commands and their arguments as they are; they are
  // typed as shown.
  fputs(_("Usage: airlock-request COMMAND [OPTION...]\n"
        "\n"
        "Ask the person at the host, through the Airlock portal, for a host folder, a\n"
        "file, a network host or a secret, and show what this sandbox session holds.\n"
        "\n"
        "Commands:\n"
        "  folder PATH [--rw] [--reason TEXT]   Ask for a folder; print where it is visible\n"
        "  file PATH [--rw] [--reason TEXT]     Ask for one file; print where it is visible\n"
        "  host HOST[:PORT] [--reason TEXT]     Ask ahead of time to reach a host (port 443)\n"
        "  secret NAME --exec -- COMMAND...     Ask for a secret; run COMMAND with it in $NAME\n"
        "  secret NAME --print                  Ask for a secret; print its value\n"
        "  grants [--json]                      List this session's grants\n"
        "  info [--json]                        Show this session's id, profile, task, workspace\n"
        "\n"
        "Exit status: 0 granted (or done), 1 denied or timed out, 2 any other failure.\n"
        "'airlock-request COMMAND --help' describes each command; see also airlock-request(1).\n"),
        out);
}

}  // namespace

int main(int argc, char** argv) {
  airlock::init_i18n();
  if (argc < 2) {
    usage(stderr);
    return airlock::kRequestFailed;
  }
  const char* command = argv[1];
  if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
    usage(stdout);
    return 0;
  }
  try {
    if (strcmp(command, "folder") == 0 || strcmp(command, "file") == 0 || strcmp(command, "host") == 0)
      return airlock::request_access_command(argc - 1, argv + 1);
    if (strcmp(command, "secret") == 0) return airlock::request_secret_command(argc - 1, argv + 1);
    if (strcmp(command, "grants") == 0 || strcmp(command, "info") == 0)
      return airlock::request_session_command(argc - 1, argv + 1);
    fprintf(stderr, _("airlock-request: unknown command '%s'\n\n"), command);
    usage(stderr);
    return airlock::kRequestFailed;
  } catch (const airlock::Error& error) {
    fprintf(stderr, "airlock-request: %s\n", error.what());
    return error.exit_status();
  }
}
