// Secret grants (DESIGN.md, "Secrets"): org.airlock.portal.Secret for the
// sandbox. A request goes through decide() like every other; a grant
// records the secret's name only, and each RetrieveSecret reads the value
// from its store again and hands it over as a sealed memfd, so the portal
// holds no value between uses. A grant ends with the task, after the TTL
// the person chose, or, for "once", with its first retrieval.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string>
#include <vector>

#include "secret_bytes.h"
#include "secret_store.h"

namespace airlock {

class Portal;
class SandboxSession;

class SecretAccess {
 public:
  explicit SecretAccess(Portal* portal);
  ~SecretAccess();
  SecretAccess(const SecretAccess&) = delete;
  SecretAccess& operator=(const SecretAccess&) = delete;

  // Serves org.airlock.portal.Secret for SESSION's sandbox on CONNECTION.
  void export_on(GDBusConnection* connection, SandboxSession* session);
  // Manager.UnlockSecrets: KEY, if it is the file store's, is kept until
  // the portal exits.
  bool unlock(SecretBytes key, std::string* error);

  // NAME's value, from the Secret Service or else the file store. DONE runs
  // once, from the main loop; its message never holds the value.
  void lookup(const std::string& name, std::function<void(SecretLookup, SecretBytes, const std::string&)> done);

 private:
  static gboolean handle_request_secret(GObject* skeleton, GDBusMethodInvocation* invocation, const char* name,
                                        GVariant* options, gpointer data);
  static gboolean handle_retrieve_secret(GObject* skeleton, GDBusMethodInvocation* invocation, GUnixFDList* fds,
                                         const char* grant, gpointer data);
  void read_file_store(const std::string& name,
                       const std::function<void(SecretLookup, SecretBytes, const std::string&)>& done);
  // Ends grant ID of SESSION after SECONDS.
  void expire_after(const std::string& session, const std::string& id, unsigned seconds);

  Portal* portal_;
  SecretFileStore files_;
  SecretBytes file_key_;
  std::vector<guint> timers_;
};

}  // namespace airlock
