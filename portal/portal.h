// airlock-portal's state: the sessions, the prompts, the store and the
// audit log, and org.airlock.Manager on the session bus. The in-sandbox API
// is in file_access.h.
#pragma once

#include <gio/gio.h>

#include <map>
#include <memory>
#include <string>

#include "audit_log.h"
#include "permission_store.h"
#include "prompt_broker.h"
#include "sandbox_session.h"

typedef struct _AirlockManager AirlockManager;

namespace airlock {

class FileAccess;

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
  SandboxSession* session(const std::string& id);

  // Appends EVENT with SESSION's fields filled in. False when the log
  // cannot be written: the caller must then not grant.
  bool audit(AuditEvent event, const SandboxSession* session);

  // Records GRANT as SESSION's and announces it.
  void add_grant(SandboxSession* session, const GrantRecord& grant);
  // Unmounts GRANT_ID of SESSION, and with it every grant beneath it (the
  // detached mount takes them along). False with *MESSAGE when it stays.
  bool revoke(SandboxSession* session, const std::string& grant_id, std::string* message);

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
                                guint response, const char* scope, gpointer data);
  static gboolean handle_audit_log(AirlockManager* manager, GDBusMethodInvocation* invocation, GVariant* filter,
                                   gpointer data);
  static gboolean handle_verify_log(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data);
  static gboolean handle_register_prompter(AirlockManager* manager, GDBusMethodInvocation* invocation,
                                           GVariant* options, gpointer data);

  std::string register_session(GUnixFDList* fds, GVariant* control, GVariant* listener, GVariant* info);
  void end_session(const std::string& id);

  GDBusConnection* bus_;
  PortalConfig config_;
  PermissionStore store_;
  AuditLog audit_;
  AirlockManager* manager_ = nullptr;
  std::unique_ptr<PromptBroker> prompts_;
  std::unique_ptr<FileAccess> files_;
  std::map<std::string, std::unique_ptr<SandboxSession>> sessions_;
};

// A GVariant dictionary of GRANT, as ListGrants gives it.
GVariant* grant_variant(const GrantRecord& grant, const std::string& session);

}  // namespace airlock
