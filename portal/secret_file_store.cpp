// The file store of secret_store.h: AES-256-GCM with libgcrypt, a key from
// PBKDF2-SHA256. Each value is sealed with its name as associated data, so
// a file renamed to another secret's name does not open. libgcrypt, not
// GnuTLS: libsecret loads it into the portal anyway, and GnuTLS's start-up
// alone would cost the portal about 2 MiB of its memory budget.
#include <errno.h>
#include <gcrypt.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include <algorithm>

#include "secret_store.h"

namespace airlock {

namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kSaltBytes = 16;
constexpr const char kKeyFile[] = "store.key";
constexpr const char kCheckText[] = "airlock secret store check";
constexpr const char kAadPrefix[] = "airlock-secret-v1:";

// libgcrypt, initialized once unless libsecret did it first: then with a
// small locked pool for what asks for secure memory (libsecret's session
// keys with the Secret Service, when it comes second, as its own setup
// would give them), quietly when mlock is not allowed. The file store's own
// keys are in SecretBytes, and a cipher handle is wiped when it is closed.
bool crypto_ready() {
  static const bool ready = [] {
    if (!gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P)) {
      if (!gcry_check_version(GCRYPT_VERSION)) return false;
      gcry_control(GCRYCTL_DISABLE_SECMEM_WARN);
      gcry_control(GCRYCTL_INIT_SECMEM, 16384, 0);
      gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    }
    return true;
  }();
  return ready;
}

// An AES-256-GCM handle with KEY and NONCE set; nullptr when it cannot be.
gcry_cipher_hd_t gcm(const SecretBytes& key, std::string_view nonce) {
  gcry_cipher_hd_t handle = nullptr;
  if (!crypto_ready() || key.size() != kKeyBytes || nonce.size() != kNonceBytes ||
      gcry_cipher_open(&handle, GCRY_CIPHER_AES256, GCRY_CIPHER_MODE_GCM, 0) != 0)
    return nullptr;
  if (gcry_cipher_setkey(handle, key.data(), key.size()) != 0 ||
      gcry_cipher_setiv(handle, nonce.data(), nonce.size()) != 0) {
    gcry_cipher_close(handle);
    return nullptr;
  }
  return handle;
}

bool random_bytes(void* out, size_t size, gcry_random_level level) {
  if (!crypto_ready()) return false;
  gcry_randomize(out, size, level);
  return true;
}

// NONCE || ciphertext || tag.
bool seal(const SecretBytes& key, const std::string& aad, std::string_view plain, std::string* out,
          std::string* error) {
  std::string sealed(kNonceBytes + plain.size() + kTagBytes, '\0');
  if (crypto_ready()) gcry_create_nonce(sealed.data(), kNonceBytes);
  gcry_cipher_hd_t handle = gcm(key, std::string_view(sealed.data(), kNonceBytes));
  if (!handle) {
    *error = "cannot set up AES-256-GCM";
    return false;
  }
  char* cipher = sealed.data() + kNonceBytes;
  bool ok = gcry_cipher_authenticate(handle, aad.data(), aad.size()) == 0 &&
            gcry_cipher_final(handle) == 0 &&
            gcry_cipher_encrypt(handle, cipher, plain.size(), plain.data(), plain.size()) == 0 &&
            gcry_cipher_gettag(handle, cipher + plain.size(), kTagBytes) == 0;
  gcry_cipher_close(handle);
  if (!ok) {
    *error = "cannot encrypt";
    return false;
  }
  *out = std::move(sealed);
  return true;
}

// False with *ERROR empty when the key (or the associated data) is not the
// one it was sealed with.
bool open_sealed(const SecretBytes& key, const std::string& aad, std::string_view sealed, SecretBytes* plain,
                 std::string* error) {
  error->clear();
  if (sealed.size() < kNonceBytes + kTagBytes) {
    *error = "is cut short";
    return false;
  }
  gcry_cipher_hd_t handle = gcm(key, sealed.substr(0, kNonceBytes));
  if (!handle) {
    *error = "cannot set up AES-256-GCM";
    return false;
  }
  const size_t length = sealed.size() - kNonceBytes - kTagBytes;
  std::string_view cipher = sealed.substr(kNonceBytes, length);
  std::string_view tag = sealed.substr(kNonceBytes + length);
  SecretBytes out(length);
  bool ok = gcry_cipher_authenticate(handle, aad.data(), aad.size()) == 0 &&
            gcry_cipher_final(handle) == 0 &&
            gcry_cipher_decrypt(handle, out.data(), length, cipher.data(), cipher.size()) == 0 &&
            gcry_cipher_checktag(handle, tag.data(), tag.size()) == 0;
  gcry_cipher_close(handle);
  if (!ok) return false;  // OUT, with what did not authenticate, is wiped as it goes
  *plain = std::move(out);
  return true;
}

bool derive(const SecretBytes& passphrase, const std::string& salt, unsigned iterations, SecretBytes* key) {
  SecretBytes out(kKeyBytes);
  if (!crypto_ready() || gcry_kdf_derive(passphrase.data(), passphrase.size(), GCRY_KDF_PBKDF2, GCRY_MD_SHA256,
                                         salt.data(), salt.size(), iterations, out.size(), out.data()) != 0)
    return false;
  *key = std::move(out);
  return true;
}

std::string base64(const std::string& bytes) {
  g_autofree char* text = g_base64_encode(reinterpret_cast<const guchar*>(bytes.data()), bytes.size());
  return text;
}

std::string unbase64(const char* text) {
  gsize length = 0;
  g_autofree guchar* bytes = g_base64_decode(text, &length);
  return std::string(reinterpret_cast<const char*>(bytes), length);
}

bool write_private(const std::string& path, const std::string& bytes, std::string* error) {
  g_autoptr(GError) gerror = nullptr;
  if (!g_file_set_contents_full(path.c_str(), bytes.data(), static_cast<gssize>(bytes.size()),
                                G_FILE_SET_CONTENTS_CONSISTENT, 0600, &gerror)) {
    *error = gerror->message;
    return false;
  }
  return true;
}

struct KeyFile {
  bool keyring = false;  // the key is in the Secret Service, not derived
  std::string salt, check;
  unsigned iterations = 0;
};

bool read_key_file(const std::string& dir, KeyFile* out, std::string* error) {
  std::string path = dir + "/" + kKeyFile;
  g_autoptr(GKeyFile) file = g_key_file_new();
  g_autoptr(GError) gerror = nullptr;
  if (!g_key_file_load_from_file(file, path.c_str(), G_KEY_FILE_NONE, &gerror)) {
    *error = g_error_matches(gerror, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                 ? "there is no secret store in " + dir + ": add a secret with `airlock secret add --store=file NAME`"
                 : path + ": " + gerror->message;
    return false;
  }
  g_autofree char* kdf = g_key_file_get_string(file, "store", "kdf", nullptr);
  g_autofree char* salt = g_key_file_get_string(file, "store", "salt", nullptr);
  g_autofree char* check = g_key_file_get_string(file, "store", "check", nullptr);
  guint64 iterations = g_key_file_get_uint64(file, "store", "iterations", nullptr);
  out->keyring = kdf && strcmp(kdf, "keyring") == 0;
  if (out->keyring && check) {
    out->check = unbase64(check);
    return true;
  }
  if (!kdf || strcmp(kdf, "pbkdf2-sha256") != 0 || !salt || !check || iterations < 1000 || iterations > 100000000) {
    *error = path + ": not a key file of this version of Airlock (kdf, salt, check, iterations)";
    return false;
  }
  out->salt = unbase64(salt);
  out->check = unbase64(check);
  out->iterations = static_cast<unsigned>(iterations);
  return true;
}

}  // namespace

std::string secret_name_problem(std::string_view name) {
  if (name.empty()) return "a secret's name is empty: name it, e.g. github-token";
  if (name.size() > 128) return "a secret's name is at most 128 characters; this one has " + std::to_string(name.size());
  for (char c : name)
    if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-')
      return std::string("a secret's name has only letters, digits, '.', '_' and '-'") +
             (c == '/' ? " (no '/')" : (c == '\0' ? " (no NUL)" : ""));
  if (name[0] == '.' || name[0] == '-') return "a secret's name does not start with '.' or '-'";
  return "";
}

SecretFileStore::SecretFileStore(std::string dir) : dir_(std::move(dir)) {}

std::string SecretFileStore::default_dir() { return std::string(g_get_user_data_dir()) + "/airlock/secrets"; }

bool SecretFileStore::exists() const { return g_file_test((dir_ + "/" + kKeyFile).c_str(), G_FILE_TEST_EXISTS); }

namespace {

// A new store's folder and key file; KEY is its key, SALT "" for one whose
// key is kept in the Secret Service.
bool write_new_store(const std::string& dir, const SecretBytes& key, const std::string& salt, std::string* error) {
  if (g_mkdir_with_parents(dir.c_str(), 0700) < 0) {
    *error = "cannot create " + dir + ": " + g_strerror(errno);
    return false;
  }
  if (g_file_test((dir + "/" + kKeyFile).c_str(), G_FILE_TEST_EXISTS)) {
    *error = "there is a secret store in " + dir + " already";
    return false;
  }
  std::string check;
  if (!seal(key, kKeyFile, kCheckText, &check, error)) return false;
  g_autoptr(GKeyFile) file = g_key_file_new();
  g_key_file_set_string(file, "store", "kdf", salt.empty() ? "keyring" : "pbkdf2-sha256");
  if (!salt.empty()) {
    g_key_file_set_uint64(file, "store", "iterations", SecretFileStore::kIterations);
    g_key_file_set_string(file, "store", "salt", base64(salt).c_str());
  }
  g_key_file_set_string(file, "store", "check", base64(check).c_str());
  gsize length = 0;
  g_autofree char* text = g_key_file_to_data(file, &length, nullptr);
  return write_private(dir + "/" + kKeyFile, std::string(text, length), error);
}

}  // namespace

bool SecretFileStore::create(const SecretBytes& passphrase, SecretBytes* key, std::string* error) {
  if (passphrase.size() < 8) {
    *error = "the passphrase is shorter than 8 characters: choose a longer one";
    return false;
  }
  if (exists()) {
    *error = "there is a secret store in " + dir_ + " already";
    return false;
  }
  std::string salt(kSaltBytes, '\0');
  SecretBytes derived;
  if (!random_bytes(salt.data(), salt.size(), GCRY_STRONG_RANDOM) || !derive(passphrase, salt, kIterations, &derived)) {
    *error = "cannot derive a key";
    return false;
  }
  if (!write_new_store(dir_, derived, salt, error)) return false;
  *key = std::move(derived);
  return true;
}

bool SecretFileStore::create_with_keyring(SecretBytes* key, std::string* error) {
  if (exists()) {
    *error = "there is a secret store in " + dir_ + " already";
    return false;
  }
  SecretBytes random(kKeyBytes);
  if (!random_bytes(random.data(), random.size(), GCRY_VERY_STRONG_RANDOM)) {
    *error = "cannot make a key";
    return false;
  }
  // The key goes to the keyring before the store names it there.
  if (!secret_service::store_key(dir_, random, error)) return false;
  if (!write_new_store(dir_, random, "", error)) return false;
  *key = std::move(random);
  return true;
}

bool SecretFileStore::key_in_keyring() const {
  KeyFile file;
  std::string unused;
  return read_key_file(dir_, &file, &unused) && file.keyring;
}

bool SecretFileStore::unlock(const SecretBytes& passphrase, SecretBytes* key, std::string* error) {
  KeyFile file;
  if (!read_key_file(dir_, &file, error)) return false;
  if (file.keyring) {
    *error = "the key of the secret store in " + dir_ + " is in the Secret Service, not a passphrase";
    return false;
  }
  SecretBytes derived;
  if (!derive(passphrase, file.salt, file.iterations, &derived)) {
    *error = "cannot derive a key";
    return false;
  }
  if (!check_key(derived, error)) return false;
  *key = std::move(derived);
  return true;
}

bool SecretFileStore::check_key(const SecretBytes& key, std::string* error) const {
  KeyFile file;
  if (!read_key_file(dir_, &file, error)) return false;
  SecretBytes plain;
  if (!open_sealed(key, kKeyFile, file.check, &plain, error) || plain.view() != kCheckText) {
    if (error->empty()) *error = "that is not the passphrase of the secret store in " + dir_;
    return false;
  }
  return true;
}

bool SecretFileStore::put(const SecretBytes& key, const std::string& name, const SecretBytes& value,
                          std::string* error) {
  if (std::string problem = secret_name_problem(name); !problem.empty()) {
    *error = problem;
    return false;
  }
  if (!check_key(key, error)) return false;
  std::string sealed;
  if (!seal(key, kAadPrefix + name, value.view(), &sealed, error)) return false;
  return write_private(dir_ + "/" + name + ".secret", sealed, error);
}

SecretLookup SecretFileStore::get(const SecretBytes& key, const std::string& name, SecretBytes* value,
                                  std::string* error) const {
  if (std::string problem = secret_name_problem(name); !problem.empty()) {
    *error = problem;
    return SecretLookup::kError;
  }
  std::string path = dir_ + "/" + name + ".secret";
  g_autofree char* contents = nullptr;
  gsize length = 0;
  g_autoptr(GError) gerror = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &length, &gerror)) {
    if (g_error_matches(gerror, G_FILE_ERROR, G_FILE_ERROR_NOENT)) return SecretLookup::kMissing;
    *error = gerror->message;
    return SecretLookup::kError;
  }
  if (key.empty()) return SecretLookup::kLocked;
  if (!open_sealed(key, kAadPrefix + name, std::string_view(contents, length), value, error)) {
    *error = path + (error->empty() ? std::string(" does not open with the store's key (altered, or renamed)") : " " + *error);
    return SecretLookup::kError;
  }
  return SecretLookup::kFound;
}

bool SecretFileStore::has(const std::string& name) const {
  return secret_name_problem(name).empty() && g_file_test((dir_ + "/" + name + ".secret").c_str(), G_FILE_TEST_EXISTS);
}

bool SecretFileStore::remove(const std::string& name, bool* removed, std::string* error) {
  *removed = false;
  if (std::string problem = secret_name_problem(name); !problem.empty()) {
    *error = problem;
    return false;
  }
  if (g_unlink((dir_ + "/" + name + ".secret").c_str()) == 0) {
    *removed = true;
    return true;
  }
  if (errno == ENOENT) return true;
  *error = dir_ + "/" + name + ".secret: " + g_strerror(errno);
  return false;
}

std::vector<std::string> SecretFileStore::list() const {
  std::vector<std::string> names;
  g_autoptr(GDir) dir = g_dir_open(dir_.c_str(), 0, nullptr);
  if (!dir) return names;
  while (const char* entry = g_dir_read_name(dir)) {
    std::string file = entry;
    const std::string suffix = ".secret";
    if (file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string name = file.substr(0, file.size() - suffix.size());
      if (secret_name_problem(name).empty()) names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace airlock
