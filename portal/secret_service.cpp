// The Secret Service side of secret_store.h, through libsecret.
#include <gio/gio.h>
#include <libsecret/secret.h>
#include <string.h>

#include <memory>

#include "secret_store.h"

namespace airlock::secret_service {

namespace {

const SecretSchema* schema() {
  static const SecretSchema the_schema = {
      "org.airlock.Secret",
      SECRET_SCHEMA_NONE,
      {{"airlock-name", SECRET_SCHEMA_ATTRIBUTE_STRING}, {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}},
      0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return &the_schema;
}

const SecretSchema* key_schema() {
  static const SecretSchema the_schema = {
      "org.airlock.StoreKey",
      SECRET_SCHEMA_NONE,
      {{"airlock-store", SECRET_SCHEMA_ATTRIBUTE_STRING}, {nullptr, SECRET_SCHEMA_ATTRIBUTE_STRING}},
      0, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return &the_schema;
}

using Callback = std::function<void(SecretLookup, SecretBytes, const std::string&)>;

void on_lookup(GObject*, GAsyncResult* result, gpointer data);

SecretLookup take(SecretValue* found, GError* gerror, SecretBytes* value, std::string* error) {
  if (gerror) {
    *error = std::string("the Secret Service: ") + gerror->message;
    return SecretLookup::kError;
  }
  if (!found) return SecretLookup::kMissing;
  gsize length = 0;
  const gchar* bytes = secret_value_get(found, &length);
  *value = SecretBytes::copy_of(std::string_view(bytes, length));
  secret_value_unref(found);
  return SecretLookup::kFound;
}

}  // namespace

bool available() {
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, nullptr);
  if (!bus) return false;
  for (const char* method : {"ListNames", "ListActivatableNames"}) {
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                            "org.freedesktop.DBus", method, nullptr,
                                                            G_VARIANT_TYPE("(as)"), G_DBUS_CALL_FLAGS_NONE, 5000,
                                                            nullptr, nullptr);
    if (!reply) continue;
    g_autofree const char** names = nullptr;
    g_variant_get(reply, "(^a&s)", &names);
    for (size_t i = 0; names && names[i]; i++)
      if (strcmp(names[i], "org.freedesktop.secrets") == 0) return true;
  }
  return false;
}

bool store(const std::string& name, const SecretBytes& value, std::string* error) {
  SecretValue* secret = secret_value_new(value.data(), static_cast<gssize>(value.size()), "text/plain");
  g_autoptr(GError) gerror = nullptr;
  std::string label = "Airlock secret " + name;
  gboolean ok = secret_password_store_binary_sync(schema(), SECRET_COLLECTION_DEFAULT, label.c_str(), secret, nullptr,
                                                  &gerror, "airlock-name", name.c_str(), nullptr);
  secret_value_unref(secret);
  if (!ok) *error = std::string("the Secret Service: ") + (gerror ? gerror->message : "it refused to store it");
  return ok;
}

SecretLookup lookup_sync(const std::string& name, SecretBytes* value, std::string* error) {
  g_autoptr(GError) gerror = nullptr;
  SecretValue* found =
      secret_password_lookup_binary_sync(schema(), nullptr, &gerror, "airlock-name", name.c_str(), nullptr);
  return take(found, gerror, value, error);
}

namespace {

void on_lookup(GObject*, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Callback> callback(static_cast<Callback*>(data));
  g_autoptr(GError) gerror = nullptr;
  SecretValue* found = secret_password_lookup_binary_finish(result, &gerror);
  SecretBytes value;
  std::string error;
  SecretLookup got = take(found, gerror, &value, &error);
  (*callback)(got, std::move(value), error);
}

}  // namespace

void lookup(const std::string& name, Callback done) {
  secret_password_lookup(schema(), nullptr, on_lookup, new Callback(std::move(done)), "airlock-name", name.c_str(),
                         nullptr);
}

bool store_key(const std::string& store_dir, const SecretBytes& key, std::string* error) {
  SecretValue* secret = secret_value_new(key.data(), static_cast<gssize>(key.size()), "application/octet-stream");
  g_autoptr(GError) gerror = nullptr;
  gboolean ok = secret_password_store_binary_sync(key_schema(), SECRET_COLLECTION_DEFAULT,
                                                  "Airlock secret store key", secret, nullptr, &gerror,
                                                  "airlock-store", store_dir.c_str(), nullptr);
  secret_value_unref(secret);
  if (!ok) *error = std::string("the Secret Service: ") + (gerror ? gerror->message : "it refused to store the key");
  return ok;
}

SecretLookup lookup_key_sync(const std::string& store_dir, SecretBytes* key, std::string* error) {
  g_autoptr(GError) gerror = nullptr;
  SecretValue* found = secret_password_lookup_binary_sync(key_schema(), nullptr, &gerror, "airlock-store",
                                                          store_dir.c_str(), nullptr);
  return take(found, gerror, key, error);
}

void lookup_key(const std::string& store_dir, Callback done) {
  secret_password_lookup(key_schema(), nullptr, on_lookup, new Callback(std::move(done)), "airlock-store",
                         store_dir.c_str(), nullptr);
}

bool remove(const std::string& name, bool* removed, std::string* error) {
  g_autoptr(GError) gerror = nullptr;
  *removed = secret_password_clear_sync(schema(), nullptr, &gerror, "airlock-name", name.c_str(), nullptr);
  if (gerror) {
    *error = std::string("the Secret Service: ") + gerror->message;
    return false;
  }
  return true;
}

std::vector<std::string> list(std::string* error) {
  std::vector<std::string> names;
  g_autoptr(GError) gerror = nullptr;
  GHashTable* none = g_hash_table_new(g_str_hash, g_str_equal);
  GList* items = secret_password_searchv_sync(schema(), none, SECRET_SEARCH_ALL, nullptr, &gerror);
  g_hash_table_unref(none);
  if (gerror) {
    *error = std::string("the Secret Service: ") + gerror->message;
    return names;
  }
  for (GList* item = items; item; item = item->next) {
    GHashTable* attributes = secret_retrievable_get_attributes(SECRET_RETRIEVABLE(item->data));
    if (auto* name = static_cast<const char*>(g_hash_table_lookup(attributes, "airlock-name"))) names.push_back(name);
    g_hash_table_unref(attributes);
  }
  g_list_free_full(items, g_object_unref);
  return names;
}

}  // namespace airlock::secret_service
