// airlock-portal's state: the sessions, the prompts, the store and the
// audit log, and org.airlock.Manager on the session bus. The in-sandbox API
// is in file_access.h.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "audit_log.h"
#include "permission_store.h"
#include "prompt_broker.h"
#include "sandbox_session.h"

typedef struct _AirlockManager AirlockManager;

namespace airlock {

class FileAccess;
class NetworkAccess;
class SecretAccess;

struct PortalConfig {
  std::string home;         // canonical
  std::string runtime_dir;  // $XDG_RUNTIME_DIR, or ""
  std::string data_dir;     // the store and the audit log: ~/.local/share/airlock
  unsigned prompt_timeout = 120;  // seconds an unanswered prompt waits
};

class Portal {
 public:
  // Exports org.airlock.Manager on BUS (borrowed). Throws Error when the
  // store cannot be opened.
  Portal(GDBusConnection* bus, PortalConfig config);
  ~Portal();
  Portal(const Portal&) = delete;
  Portal& operator=(const Portal&) = delete;

  const PortalConfig& config() const { return config_; }
  PermissionStore& store() { return store_; }
  PromptBroker& prompts() { return *prompts_; }
  SecretAccess& secrets() { return *secrets_; }
  SandboxSession* session(const std::string& id);

  // Queues EVENT, with SESSION's fields filled in, for the audit log,
  // written in one transaction with everything else queued (a group commit:
  // one write to disk however many events came in at once). Nothing waiting
  // for it, it is written within a fifth of a second; reading the log (AuditLog,
  // VerifyLog) and after_audit() write the queue first. False when EVENT is
  // invalid.
  bool audit(AuditEvent event, const SandboxSession* session);
  // Runs THEN once every event queued so far is on disk (in the main loop's
  // next turn), with false when the write failed: what is reported or
  // granted must be on record first.
  void after_audit(std::function<void(bool written)> then);
  // Writes the queue now.
  bool flush_audit();

  // Records GRANT as SESSION's and announces it.
  void add_grant(SandboxSession* session, const GrantRecord& grant);
  // Unmounts GRANT_ID of SESSION, and with it every grant beneath it (the
  // detached mount takes them along); a host grant's connections close.
  // False with *MESSAGE when it stays. EVENT "revoke" is a person's, and
  // sticks for the session; "expire" is a grant that has run its course.
  bool revoke(SandboxSession* session, const std::string& grant_id, std::string* message,
              const std::string& event = "revoke");

 private:
  static gboolean handle_register_session(AirlockManager* manager, GDBusMethodInvocation* invocation,
                                          GUnixFDList* fds, GVariant* control, GVariant* listener, GVariant* info,
                                          gpointer data);
  static gboolean handle_list_sessions(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data);
  static gboolean handle_list_grants(AirlockManager* manager, GDBusMethodInvocation* invocation, const char* session,
                                     gpointer data);
  static gboolean handle_revoke(AirlockManager* manager, GDBusMethodInvocation* invocation, const char* session,
                                const char* grant, gpointer data);
  static gboolean handle_list_always(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data);
  static gboolean handle_forget(AirlockManager* manager, GDBusMethodInvocation* invocation, gint64 id, gpointer data);
  static gboolean handle_list_pending(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data);
  static gboolean handle_answer(AirlockManager* manager, GDBusMethodInvocation* invocation, const char* id,
                                guint response, const char* scope, GVariant* results, gpointer data);
  static gboolean handle_audit_log(AirlockManager* manager, GDBusMethodInvocation* invocation, GVariant* filter,
                                   gpointer data);
  static gboolean handle_verify_log(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data);
  static gboolean handle_register_prompter(AirlockManager* manager, GDBusMethodInvocation* invocation,
                                           GVariant* options, gpointer data);
  static gboolean handle_unlock_secrets(AirlockManager* manager, GDBusMethodInvocation* invocation, GUnixFDList* fds,
                                        GVariant* key, gpointer data);

  std::string register_session(GUnixFDList* fds, GVariant* control, GVariant* listener, GVariant* info);
  void end_session(const std::string& id);

  GDBusConnection* bus_;
  PortalConfig config_;
  PermissionStore store_;
  AuditLog audit_;
  AirlockManager* manager_ = nullptr;
  std::unique_ptr<PromptBroker> prompts_;
  std::unique_ptr<FileAccess> files_;
  std::unique_ptr<NetworkAccess> network_;
  std::unique_ptr<SecretAccess> secrets_;
  std::map<std::string, std::unique_ptr<SandboxSession>> sessions_;
  std::vector<AuditEvent> audit_queue_;
  std::vector<std::function<void(bool)>> after_audit_;
  guint flush_source_ = 0;
  bool flush_soon_ = false;  // flush_source_ is the next turn's, not the batch timer
  void schedule_flush(bool soon);
};

// A GVariant dictionary of GRANT, as ListGrants gives it.
GVariant* grant_variant(const GrantRecord& grant, const std::string& session);

}  // namespace airlock
