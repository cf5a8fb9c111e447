// One org.airlock.portal.Request object (xdg-desktop-portal's pattern): a
// request method returns its path at once, and the answer arrives later as
// its Response signal. Closing it withdraws the prompt it waits for; what
// was decided before stays.
#pragma once

#include <gio/gio.h>

#include <initializer_list>
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

// A request's string options, each at most MAX bytes of UTF-8 (D-Bus
// strings are). Any other key, or a wrong type, is an error.
struct StringOption {
  const char* name;
  std::string* value;
  size_t max;
};
// The problem, or "" with the values set.
std::string parse_string_options(GVariant* options, std::initializer_list<StringOption> known);

// "reason": the agent's words, which every request may give.
inline constexpr size_t kMaxReasonBytes = 1024;
inline std::string parse_reason_option(GVariant* options, std::string* reason) {
  return parse_string_options(options, {{"reason", reason, kMaxReasonBytes}});
}

}  // namespace airlock
