#include "request_handle.h"

#include "portal.h"

#include <cstring>

namespace airlock {

std::shared_ptr<RequestHandle> RequestHandle::create(Portal* portal, GDBusConnection* connection,
                                                     const std::string& path, GError** error) {
  std::shared_ptr<RequestHandle> request(new RequestHandle());
  request->portal_ = portal;
  request->connection_ = G_DBUS_CONNECTION(g_object_ref(connection));
  request->object_ = airlock_portal_request_skeleton_new();
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(request->object_), connection, path.c_str(), error))
    return nullptr;
  auto* weak = new std::weak_ptr<RequestHandle>(request);
  g_signal_connect_data(request->object_, "handle-close",
                        G_CALLBACK(+[](AirlockPortalRequest* object, GDBusMethodInvocation* call, gpointer user) {
                          if (auto held = static_cast<std::weak_ptr<RequestHandle>*>(user)->lock()) {
                            held->closed_ = true;
                            if (!held->prompt_.empty()) held->portal_->prompts().withdraw(held->prompt_);
                          }
                          airlock_portal_request_complete_close(object, call);
                          return TRUE;
                        }),
                        weak, [](gpointer user, GClosure*) { delete static_cast<std::weak_ptr<RequestHandle>*>(user); },
                        G_CONNECT_DEFAULT);
  return request;
}

RequestHandle::~RequestHandle() {
  g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(object_));
  g_object_unref(object_);
  g_object_unref(connection_);
}

void RequestHandle::respond(unsigned response, GVariant* results) {
  g_variant_ref_sink(results);
  if (!closed_) airlock_portal_request_emit_response(object_, response, results);
  g_variant_unref(results);
}

std::string parse_string_options(GVariant* options, std::initializer_list<StringOption> known) {
  GVariantIter iter;
  const char* key = nullptr;
  GVariant* value = nullptr;
  g_variant_iter_init(&iter, options);
  while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
    g_autoptr(GVariant) owned = value;
    const StringOption* option = nullptr;
    std::string names;
    for (const auto& candidate : known) {
      if (strcmp(candidate.name, key) == 0) option = &candidate;
      names += std::string(names.empty() ? "" : ", ") + candidate.name;
    }
    if (!option) return std::string("unknown option '") + key + "' (known: " + names + ")";
    if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
      return std::string("the option '") + key + "' must be a string (s)";
    *option->value = g_variant_get_string(value, nullptr);
    if (option->value->size() > option->max)
      return std::string("the option '") + key + "' is longer than " + std::to_string(option->max) +
             " bytes: say it in fewer words";
  }
  return "";
}

}  // namespace airlock
