// The file store of secrets: a value opens only with the store's key and
// under its own name, and names cannot reach outside the store's folder.
#include "secret_store.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "temp_dir.h"

namespace airlock {
namespace {

using test::TempDir;

SecretBytes bytes(const std::string& text) { return SecretBytes::copy_of(text); }

class SecretFileStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  SecretFileStore store_{dir_.path() + "/secrets"};
};

TEST(SecretNames, OnlyPlainNamesAreSecretNames) {
  EXPECT_EQ(secret_name_problem("github-token"), "");
  EXPECT_EQ(secret_name_problem("pypi.upload_TOKEN-2"), "");
  for (const std::string& bad : {std::string(""), std::string("a/b"), std::string(".."), std::string(".hidden"),
                                 std::string("-rf"), std::string("a b"), std::string("a\0b", 3), std::string(129, 'x'),
                                 std::string(10 * 1024, 'x'), std::string("caf\xc3\xa9")})
    EXPECT_NE(secret_name_problem(bad), "") << bad.substr(0, 20);
  EXPECT_NE(secret_name_problem("a/b").find("no '/'"), std::string::npos);
  EXPECT_NE(secret_name_problem(std::string("a\0b", 3)).find("no NUL"), std::string::npos);
}

TEST_F(SecretFileStoreTest, AValueOpensWithThePassphraseOnly) {
  SecretBytes key;
  std::string error;
  ASSERT_TRUE(store_.create(bytes("correct horse"), &key, &error)) << error;
  ASSERT_TRUE(store_.put(key, "token", bytes("v4lue"), &error)) << error;
  SecretBytes value;
  EXPECT_EQ(store_.get(key, "token", &value, &error), SecretLookup::kFound) << error;
  EXPECT_EQ(value.view(), "v4lue");

  SecretBytes again;
  ASSERT_TRUE(store_.unlock(bytes("correct horse"), &again, &error)) << error;
  EXPECT_EQ(again.view(), key.view());
  SecretBytes wrong;
  EXPECT_FALSE(store_.unlock(bytes("wrong horse"), &wrong, &error));
  EXPECT_NE(error.find("not the passphrase"), std::string::npos) << error;
  EXPECT_TRUE(wrong.empty());
  // Nothing is written with a key that is not the store's.
  EXPECT_FALSE(store_.put(bytes(std::string(32, 'k')), "other", bytes("x"), &error));
  EXPECT_FALSE(store_.has("other"));
  // Without a key, the store is locked, not empty.
  EXPECT_EQ(store_.get(SecretBytes(), "token", &value, &error), SecretLookup::kLocked);
  EXPECT_EQ(store_.get(key, "missing", &value, &error), SecretLookup::kMissing);
}

// A store written by an earlier Airlock (whose cipher was GnuTLS's) opens:
// the format is AES-256-GCM and PBKDF2-SHA256, whichever library does them.
TEST(SecretFileStoreFormat, AStoreOfTheFirstVersionStillOpens) {
  const char* source = g_getenv("AIRLOCK_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  SecretFileStore store(std::string(source) + "/tests/data/secret-store-v1");
  SecretBytes key, value;
  std::string error;
  ASSERT_TRUE(store.unlock(bytes("correct horse battery"), &key, &error)) << error;
  EXPECT_EQ(store.get(key, "github-token", &value, &error), SecretLookup::kFound) << error;
  EXPECT_EQ(value.view(), "ghp_fixture0123456789");
  EXPECT_FALSE(store.unlock(bytes("correct horse batterY"), &key, &error));
}

TEST_F(SecretFileStoreTest, NoPlaintextOnDiskAndFilesArePrivate) {
  SecretBytes key;
  std::string error;
  ASSERT_TRUE(store_.create(bytes("correct horse"), &key, &error)) << error;
  ASSERT_TRUE(store_.put(key, "token", bytes("plaintext-marker-value"), &error)) << error;
  std::string path = store_.dir() + "/token.secret";
  g_autofree char* contents = nullptr;
  gsize length = 0;
  ASSERT_TRUE(g_file_get_contents(path.c_str(), &contents, &length, nullptr));
  EXPECT_EQ(std::string(contents, length).find("plaintext-marker-value"), std::string::npos);
  GStatBuf st;
  ASSERT_EQ(g_stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(g_stat(store_.dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(SecretFileStoreTest, AlteredOrRenamedFilesDoNotOpen) {
  SecretBytes key;
  std::string error;
  ASSERT_TRUE(store_.create(bytes("correct horse"), &key, &error)) << error;
  ASSERT_TRUE(store_.put(key, "a", bytes("value-a"), &error)) << error;
  ASSERT_TRUE(store_.put(key, "b", bytes("value-b"), &error)) << error;
  // b's file under a's name: sealed with b's name, it does not open as a.
  ASSERT_EQ(rename((store_.dir() + "/b.secret").c_str(), (store_.dir() + "/a.secret").c_str()), 0);
  SecretBytes value;
  EXPECT_EQ(store_.get(key, "a", &value, &error), SecretLookup::kError);
  EXPECT_TRUE(value.empty());
  // One flipped bit: refused.
  ASSERT_TRUE(store_.put(key, "c", bytes("value-c"), &error)) << error;
  std::string path = store_.dir() + "/c.secret";
  g_autofree char* contents = nullptr;
  gsize length = 0;
  ASSERT_TRUE(g_file_get_contents(path.c_str(), &contents, &length, nullptr));
  contents[length - 1] ^= 1;
  ASSERT_TRUE(g_file_set_contents(path.c_str(), contents, static_cast<gssize>(length), nullptr));
  EXPECT_EQ(store_.get(key, "c", &value, &error), SecretLookup::kError);
}

TEST_F(SecretFileStoreTest, ListAndRemove) {
  SecretBytes key;
  std::string error;
  ASSERT_TRUE(store_.create(bytes("correct horse"), &key, &error)) << error;
  ASSERT_TRUE(store_.put(key, "b", bytes("1"), &error));
  ASSERT_TRUE(store_.put(key, "a", bytes("2"), &error));
  EXPECT_EQ(store_.list(), (std::vector<std::string>{"a", "b"}));
  bool removed = false;
  EXPECT_TRUE(store_.remove("a", &removed, &error));
  EXPECT_TRUE(removed);
  EXPECT_TRUE(store_.remove("a", &removed, &error));
  EXPECT_FALSE(removed);
  EXPECT_FALSE(store_.remove("../store", &removed, &error));
  EXPECT_TRUE(store_.exists());
}

TEST_F(SecretFileStoreTest, AShortPassphraseAndASecondStoreAreRefused) {
  SecretBytes key;
  std::string error;
  EXPECT_FALSE(store_.create(bytes("short"), &key, &error));
  EXPECT_FALSE(store_.exists());
  ASSERT_TRUE(store_.create(bytes("correct horse"), &key, &error)) << error;
  EXPECT_FALSE(store_.create(bytes("another horse"), &key, &error));
  SecretBytes again;
  EXPECT_TRUE(store_.unlock(bytes("correct horse"), &again, &error)) << "the first store was kept";
}

}  // namespace
}  // namespace airlock
