// Where secret values live (DESIGN.md, "Secrets"): the Secret Service
// (libsecret: GNOME Keyring, KWallet, KeePassXC), looked up by Airlock's
// attribute and the secret's name, and for machines without one a store of
// files under ~/.local/share/airlock/secrets, each value sealed with
// AES-256-GCM under a key derived from a passphrase (PBKDF2-SHA256).
//
// `airlock secret` writes and removes; the portal reads, when a person has
// granted a request. Values only ever travel in SecretBytes.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "secret_bytes.h"

namespace airlock {

// What is wrong with NAME as a secret's name, or "" when it is one: 1 to 128
// characters of A-Z a-z 0-9 . _ -, not starting with '.' or '-'. The name
// is also a file name in the file store, so nothing else is allowed.
std::string secret_name_problem(std::string_view name);

enum class SecretLookup { kFound, kMissing, kLocked, kError };

// The file store. Its directory holds "store.key" (where the key comes
// from: a passphrase, with the derivation's salt and iterations, or the
// Secret Service; and a value sealed with the key, to check it) and one
// file per secret.
class SecretFileStore {
 public:
  explicit SecretFileStore(std::string dir);
  // $XDG_DATA_HOME/airlock/secrets (~/.local/share/airlock/secrets).
  static std::string default_dir();
  const std::string& dir() const { return dir_; }

  bool exists() const;
  // A new store (an existing one is an error) whose key comes from
  // PASSPHRASE; *KEY is that key.
  bool create(const SecretBytes& passphrase, SecretBytes* key, std::string* error);
  // A new store whose key is random and kept in the Secret Service (which
  // must be there), for machines that have one: no passphrase to type.
  bool create_with_keyring(SecretBytes* key, std::string* error);
  // Whether the store's key is in the Secret Service (secret_service::lookup_key).
  bool key_in_keyring() const;
  // The key of PASSPHRASE, if it is the store's.
  bool unlock(const SecretBytes& passphrase, SecretBytes* key, std::string* error);
  // Whether KEY is the store's key.
  bool check_key(const SecretBytes& key, std::string* error) const;

  bool put(const SecretBytes& key, const std::string& name, const SecretBytes& value, std::string* error);
  SecretLookup get(const SecretBytes& key, const std::string& name, SecretBytes* value, std::string* error) const;
  bool has(const std::string& name) const;
  // False with *ERROR on failure; *REMOVED says whether there was one.
  bool remove(const std::string& name, bool* removed, std::string* error);
  std::vector<std::string> list() const;

  // PBKDF2 iterations of a new store (OWASP's 2023 figure for SHA-256).
  static constexpr unsigned kIterations = 600000;

 private:
  std::string dir_;
};

// The Secret Service on the session bus, through libsecret. Items carry the
// schema org.airlock.Secret and the attribute airlock-name.
namespace secret_service {

// Whether the session bus has a Secret Service (running or activatable).
bool available();
bool store(const std::string& name, const SecretBytes& value, std::string* error);
SecretLookup lookup_sync(const std::string& name, SecretBytes* value, std::string* error);
// From the thread-default main context; DONE runs once, from the main loop.
void lookup(const std::string& name, std::function<void(SecretLookup, SecretBytes, const std::string& error)> done);
bool remove(const std::string& name, bool* removed, std::string* error);
std::vector<std::string> list(std::string* error);
// The key of the file store in STORE_DIR, when the Secret Service keeps it
// (schema org.airlock.StoreKey, attribute airlock-store).
bool store_key(const std::string& store_dir, const SecretBytes& key, std::string* error);
SecretLookup lookup_key_sync(const std::string& store_dir, SecretBytes* key, std::string* error);
void lookup_key(const std::string& store_dir,
                std::function<void(SecretLookup, SecretBytes, const std::string& error)> done);

}  // namespace secret_service

}  // namespace airlock
