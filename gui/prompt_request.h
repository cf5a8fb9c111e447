// One question from the portal (impl.Prompter.Prompt) and the person's
// answer to it, in the words of data/org.airlock.impl.Prompter.xml.
#pragma once

#include <QString>
#include <QStringList>
#include <QVariantMap>

namespace airlock::gui {

struct PromptRequest {
  QString id;
  QString session;
  QString profile;
  QString task;
  QString kind;      // folder, file, host, secret
  QString resource;  // canonical path, host:port or secret name
  QString access;    // read, write
  QString reason;    // the agent's own words: untrusted, shown as plain text
  QString host;      // a secret for the proxy: the host:port it is sent to ("" otherwise)
  QString header;    // ...and the request header it goes in
  uint pid = 0;
  bool dangerous = false;
  QStringList scopes;  // which of once, task, always may be offered

  static PromptRequest from_details(const QString& id, const QVariantMap& details);
  bool offers(const QString& scope) const { return scopes.contains(scope); }
  bool is_path() const { return kind == QLatin1String("folder") || kind == QLatin1String("file"); }
};

enum class Response : uint { kAllow = 0, kDeny = 1, kDismissed = 2 };

struct PromptAnswer {
  Response response = Response::kDeny;
  QString scope;       // once, task, always (allow only)
  QString path;        // a narrower path the person chose instead (folder, file)
  uint ttl = 0;        // seconds; 0 until the task ends (secret)
  bool has_ttl = false;

  QVariantMap results() const;
};

// Whether CHOSEN is REQUESTED or lies beneath it, by path components.
bool path_is_within(const QString& chosen, const QString& requested);

}  // namespace airlock::gui
