// airlock-secret: `airlock secret add|list|rm|unlock`, the person's side of
// the secret stores (portal/secret_store.h). A program of its own, which
// `airlock secret` runs, so that `airlock run` does not load libsecret and
// GnuTLS at every start.
//
// A value is read from standard input or typed at a hidden prompt, never
// taken from the command line (argv is visible to every process).
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "error.h"
#include "secret_store.h"
#include "terminal_text.h"
#include "translate.h"
#include "unique_fd.h"

namespace airlock {

namespace {

constexpr const char kUsage[] =
    // TRANSLATORS: keep the commands, options and values (add, --store=auto,
    // keyring, file...) as they are; they are typed as shown. "Secret
    // Service" is the name of a standard.
    N_("Usage:\n"
       "  airlock secret add NAME [--store=auto|keyring|file] [--passphrase-fd=N]\n"
       "  airlock secret list\n"
       "  airlock secret rm NAME\n"
       "  airlock secret unlock [--passphrase-fd=N]\n"
       "\n"
       "Keep the secrets agents may ask for: in the Secret Service (GNOME Keyring,\n"
       "KWallet, KeePassXC) when the session has one, else in an encrypted file store\n"
       "under ~/.local/share/airlock/secrets. 'add' reads the value from standard\n"
       "input, or asks for it when that is a terminal; never give it as an argument.\n"
       "See airlock-secret(1).\n");

// Reads FD to its end; one trailing newline (as `echo` adds) is dropped.
// TOO_LONG is the message for more than 64 KiB, CANNOT_READ the one for a
// failed read.
SecretBytes read_all(int fd, const char* too_long, const char* cannot_read) {
  SecretBytes value;
  if (!SecretBytes::read_fd(fd, kMaxSecretBytes, &value))
    throw Error(errno == EFBIG ? std::string(too_long) : errno_message(cannot_read));
  size_t size = value.size();
  if (size > 0 && value.data()[size - 1] == '\n') --size;
  if (size > 0 && value.data()[size - 1] == '\r') --size;
  value.shrink(size);
  return value;
}

// Asks on the controlling terminal with echo off.
SecretBytes ask_hidden(const std::string& question) {
  UniqueFd tty(open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!tty) return SecretBytes();
  struct termios saved{};
  bool restore = tcgetattr(tty.get(), &saved) == 0;
  if (restore) {
    struct termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(tty.get(), TCSAFLUSH, &quiet);
  }
  (void)!write(tty.get(), question.data(), question.size());
  SecretBytes line(kMaxSecretBytes);
  size_t used = 0;
  char c = 0;
  while (used < line.size() && read(tty.get(), &c, 1) == 1 && c != '\n') line.data()[used++] = c;
  c = 0;
  if (restore) tcsetattr(tty.get(), TCSAFLUSH, &saved);
  line.shrink(used);
  return line;
}

SecretBytes passphrase(int fd, bool twice) {
  if (fd >= 0)
    return read_all(
        fd, _("the passphrase (--passphrase-fd) is longer than 64 KiB: a secret is a token or a key, not a file"),
        _("cannot read the passphrase (--passphrase-fd)"));
  if (!isatty(STDIN_FILENO) && access("/dev/tty", R_OK) != 0)
    throw Error(_("there is no terminal to ask the passphrase on: give it with --passphrase-fd=N"));
  SecretBytes first = ask_hidden(_("Passphrase of the secret store: "));
  if (first.empty()) throw Error(_("no passphrase given: nothing was changed"));
  if (twice) {
    SecretBytes again = ask_hidden(_("The same passphrase again: "));
    if (again.view() != first.view()) throw Error(_("the two passphrases differ: nothing was changed"));
  }
  return first;
}

// Hands the file store's KEY to the portal, so that granted requests can
// read it until the person logs out. False when no portal is reachable.
bool unlock_portal(const SecretBytes& key, std::string* why) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(AirlockManager) manager = airlock_manager_proxy_new_for_bus_sync(
      G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, kPortalBusName, kManagerPath, nullptr, &error);
  if (!manager) {
    *why = error->message;
    return false;
  }
  UniqueFd memfd(key.to_sealed_memfd());
  if (!memfd) {
    *why = errno_message(_("cannot make a memfd"));
    return false;
  }
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
  if (g_unix_fd_list_append(fds, memfd.get(), &error) < 0 ||
      !airlock_manager_call_unlock_secrets_sync(manager, g_variant_new_handle(0), fds, nullptr, nullptr, &error)) {
    g_dbus_error_strip_remote_error(error);
    *why = error->message;
    return false;
  }
  return true;
}

// The file store's key: from the Secret Service when the store keeps it
// there (a new store does, when there is one), else from the passphrase.
SecretBytes file_store_key(SecretFileStore& store, int passphrase_fd, bool create_if_missing) {
  SecretBytes key;
  std::string error;
  if (!store.exists()) {
    if (!create_if_missing)
      throw Error(format(_("there is no file store of secrets in %s yet: add a secret first"), store.dir().c_str()));
    if (passphrase_fd < 0 && secret_service::available()) {
      if (!store.create_with_keyring(&key, &error)) throw Error(error);
      fprintf(stderr, _("Created the secret store in %s; its key is in the Secret Service.\n"), store.dir().c_str());
      return key;
    }
    fprintf(stderr, _("Creating the secret store in %s: choose its passphrase (8 characters at least).\n"),
            store.dir().c_str());
    if (!store.create(passphrase(passphrase_fd, true), &key, &error)) throw Error(error);
  } else if (store.key_in_keyring()) {
    if (secret_service::lookup_key_sync(store.dir(), &key, &error) != SecretLookup::kFound ||
        !store.check_key(key, &error)) {
      if (error.empty())
        throw Error(
            format(_("the key of the secret store in %s is not in the Secret Service: is the keyring unlocked?"),
                   store.dir().c_str()));
      // TRANSLATORS: the second %s is the Secret Service's error.
      throw Error(format(_("the key of the secret store in %s is not in the Secret Service (%s): is the keyring "
                           "unlocked?"),
                         store.dir().c_str(), error.c_str()));
    }
  } else if (!store.unlock(passphrase(passphrase_fd, false), &key, &error)) {
    throw Error(error);
  }
  return key;
}

int add(const std::string& name, const std::string& where, int passphrase_fd) {
  std::string store_name = where;
  if (store_name == "auto") store_name = secret_service::available() ? "keyring" : "file";
  SecretBytes value =
      isatty(STDIN_FILENO)
          ? ask_hidden(format(_("Value of %s (not shown): "), name.c_str()))
          : read_all(STDIN_FILENO,
                     _("the value (standard input) is longer than 64 KiB: a secret is a token or a key, not a file"),
                     _("cannot read the value (standard input)"));
  if (value.empty()) throw Error(_("the value is empty: nothing was stored"));
  std::string error;
  if (store_name == "keyring") {
    // TRANSLATORS: %s is the secret store's error.
    if (!secret_service::store(name, value, &error)) throw Error(format(_("%s: nothing was stored"), error.c_str()));
    printf(_("Stored %s in the Secret Service.\n"), name.c_str());
    return 0;
  }
  SecretFileStore store(SecretFileStore::default_dir());
  SecretBytes key = file_store_key(store, passphrase_fd, true);
  if (!store.put(key, name, value, &error)) throw Error(format(_("%s: nothing was stored"), error.c_str()));
  // TRANSLATORS: the first %s is the secret's name, the second a folder.
  printf(_("Stored %s in %s.\n"), name.c_str(), store.dir().c_str());
  std::string why;
  if (store.key_in_keyring()) return 0;  // the portal reads the key from the Secret Service itself
  if (!unlock_portal(key, &why))
    fprintf(stderr, "airlock secret: %s\n",
            format(_("the portal was not told the store's key (%s); run 'airlock secret unlock' later"), why.c_str())
                .c_str());
  return 0;
}

int list() {
  std::string error;
  std::vector<std::string> keyring = secret_service::available() ? secret_service::list(&error) : std::vector<std::string>{};
  if (!error.empty()) fprintf(stderr, "airlock secret: %s\n", error.c_str());
  std::vector<std::string> files = SecretFileStore(SecretFileStore::default_dir()).list();
  if (keyring.empty() && files.empty()) {
    fputs(_("No secrets. Add one with 'airlock secret add NAME'.\n"), stdout);
    return 0;
  }
  // TRANSLATORS: the headings of the table of secrets; its rows show the
  // stores as --store names them (keyring, file).
  printf("%-40s %s\n", _("NAME"), _("STORE"));
  for (const auto& name : keyring) printf("%-40s %s\n", terminal_safe(name).c_str(), "keyring");
  for (const auto& name : files) printf("%-40s %s\n", name.c_str(), "file");
  return 0;
}

int remove_secret(const std::string& name) {
  std::string error;
  bool in_keyring = false, in_file = false;
  if (secret_service::available() && !secret_service::remove(name, &in_keyring, &error)) throw Error(error);
  SecretFileStore store(SecretFileStore::default_dir());
  if (!store.remove(name, &in_file, &error)) throw Error(error);
  if (!in_keyring && !in_file) {
    fprintf(stderr, "airlock secret: %s\n",
            format(_("there is no secret named %s (see 'airlock secret list')"), name.c_str()).c_str());
    return 1;
  }
  printf(_("Removed %s.\n"), name.c_str());
  return 0;
}

int unlock(int passphrase_fd) {
  SecretFileStore store(SecretFileStore::default_dir());
  if (store.key_in_keyring()) {
    fputs(_("The key of the secret store is in the Secret Service, where the portal reads it: nothing to unlock.\n"),
          stdout);
    return 0;
  }
  SecretBytes key = file_store_key(store, passphrase_fd, false);
  std::string why;
  if (!unlock_portal(key, &why)) throw Error(format(_("cannot hand the key to the airlock portal: %s"), why.c_str()));
  fputs(_("The portal can read the file store until it exits (at the end of the login session).\n"), stdout);
  return 0;
}

int secret_main(int argc, char** argv) {
  gchar* store = nullptr;
  gint passphrase_fd = -1;
  g_auto(GStrv) rest = nullptr;
  GOptionEntry entries[] = {
      {"store", 0, 0, G_OPTION_ARG_STRING, &store,
       // TRANSLATORS: keep add, auto, keyring and file as they are; they are
       // typed as shown.
       N_("Where 'add' keeps the value: auto (default), keyring, file"), N_("WHERE")},
      {"passphrase-fd", 0, 0, G_OPTION_ARG_INT, &passphrase_fd,
       N_("Read the file store's passphrase from descriptor N"), N_("N")},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, nullptr, nullptr},
      {},
  };
  // TRANSLATORS: keep add, list, rm and unlock as they are; they are typed
  // as shown.
  g_autoptr(GOptionContext) context = g_option_context_new(N_("add|list|rm|unlock [NAME]"));
  g_option_context_set_help_enabled(context, TRUE);
  g_option_context_set_description(context, kUsage);
  add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    g_free(store);
    // TRANSLATORS: %s is GLib's message about the command line.
    throw Error(format(_("%s (see 'airlock secret --help')"), error->message));
  }
  std::string where = store ? store : "auto";
  g_free(store);
  std::vector<std::string> args;
  for (size_t i = 0; rest && rest[i]; i++) args.emplace_back(rest[i]);
  if (args.empty()) {
    fputs(_(kUsage), stderr);
    return kExitAirlockFailed;
  }
  const std::string& verb = args[0];
  auto one_name = [&]() -> std::string {
    // TRANSLATORS: %s is add or rm.
    if (args.size() != 2) throw Error(format(_("usage: airlock secret %s NAME"), verb.c_str()));
    if (std::string problem = secret_name_problem(args[1]); !problem.empty()) throw Error(problem);
    return args[1];
  };
  if (where != "auto" && where != "keyring" && where != "file")
    throw Error(format(_("--store is auto, keyring or file, not '%s'"), terminal_safe(where).c_str()));
  if (verb == "add") return add(one_name(), where, passphrase_fd);
  if (verb == "rm") return remove_secret(one_name());
  // TRANSLATORS: %s is list or unlock, or another word the person typed.
  if (args.size() != 1) throw Error(format(_("usage: airlock secret %s (no NAME)"), verb.c_str()));
  if (verb == "list") return list();
  if (verb == "unlock") return unlock(passphrase_fd);
  throw Error(format(_("unknown verb '%s': add, list, rm or unlock (see 'airlock secret --help')"),
                     terminal_safe(verb).c_str()));
}

}  // namespace
}  // namespace airlock

int main(int argc, char** argv) {
  airlock::init_i18n();
  // It holds values and passphrases: no core dump, no ptrace by the user's
  // other processes.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  try {
    return airlock::secret_main(argc, argv);
  } catch (const airlock::Error& error) {
    fprintf(stderr, "airlock secret: %s\n", error.what());
    return error.exit_status();
  }
}
