// One org.airlock.portal.Request object (xdg-desktop-portal's pattern): a
// request method returns its path at once, and the answer arrives later as
// its Response signal. Closing it withdraws the prompt it waits for; what
// was decided before stays.
#pragma once

#include <gio/gio.h>

#include <memory>
#include <string>

#include "airlock-dbus.h"

namespace airlock {

class Portal;

class RequestHandle {
 public:
  // Exports a Request at PATH on CONNECTION; nullptr with *ERROR set.
  static std::shared_ptr<RequestHandle> create(Portal* portal, GDBusConnection* connection, const std::string& path,
                                               GError** error);
  ~RequestHandle();
  RequestHandle(const RequestHandle&) = delete;
  RequestHandle& operator=(const RequestHandle&) = delete;

  // The prompt it waits for ("" for none), for Close to withdraw.
  void set_prompt(std::string id) { prompt_ = std::move(id); }
  // The asker closed it: no Response will be sent.
  bool closed() const { return closed_; }
  // Emits Response (RESULTS: a floating a{sv}) unless closed.
  void respond(unsigned response, GVariant* results);

 private:
  RequestHandle() = default;
  Portal* portal_ = nullptr;
  GDBusConnection* connection_ = nullptr;
  AirlockPortalRequest* object_ = nullptr;
  std::string prompt_;
  bool closed_ = false;
};

// The options every request takes: "reason" (s, the agent's words, at most
// kMaxReasonBytes). Anything else, or a wrong type, is an error: the
// problem, or "" with *REASON set.
inline constexpr size_t kMaxReasonBytes = 1024;
std::string parse_reason_option(GVariant* options, std::string* reason);

}  // namespace airlock
