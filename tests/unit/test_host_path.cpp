#include <gtest/gtest.h>
#include <stdlib.h>

#include "host_path.h"
#include "error.h"

namespace airlock {
namespace {

const std::string kHome = "/home/alice";

TEST(DenyList, RefusesWhatLiesBeneathADeniedPath) {
  EXPECT_EQ(deny_list_match("/home/alice/.ssh", kHome, ""), "/home/alice/.ssh");
  EXPECT_EQ(deny_list_match("/home/alice/.ssh/id_ed25519", kHome, ""), "/home/alice/.ssh");
  EXPECT_EQ(deny_list_match("/home/alice/.gnupg/private-keys-v1.d", kHome, ""), "/home/alice/.gnupg");
  EXPECT_EQ(deny_list_match("/home/alice/.config/gh/hosts.yml", kHome, ""), "/home/alice/.config/gh");
  EXPECT_EQ(deny_list_match("/home/alice/.docker/config.json", kHome, ""), "/home/alice/.docker/config.json");
  EXPECT_EQ(deny_list_match("/home/alice/.local/share/keyrings", kHome, ""), "/home/alice/.local/share/keyrings");
  EXPECT_EQ(deny_list_match("/home/alice/.mozilla/firefox", kHome, ""), "/home/alice/.mozilla");
}

TEST(DenyList, RefusesWhatContainsADeniedPath) {
  EXPECT_TRUE(deny_list_match("/home/alice", kHome, ""));
  EXPECT_TRUE(deny_list_match("/home", kHome, ""));
  EXPECT_TRUE(deny_list_match("/", kHome, ""));
  EXPECT_TRUE(deny_list_match("/home/alice/.config", kHome, ""));
  EXPECT_TRUE(deny_list_match("/home/alice/.docker", kHome, ""));
}

TEST(DenyList, RefusesTheRuntimeDirectory) {
  EXPECT_TRUE(deny_list_match("/run/user/1000/bus", kHome, "/run/user/1000"));
  EXPECT_TRUE(deny_list_match("/run/user", kHome, "/run/user/1000"));
}

TEST(DenyList, RefusesAirlocksOwnFoldersWhereverXdgPutsThem) {
  setenv("XDG_CONFIG_HOME", "/srv/alice-config", 1);
  setenv("XDG_DATA_HOME", "/srv/alice-data", 1);
  EXPECT_EQ(deny_list_match("/srv/alice-config/airlock/airlock.policy", kHome, ""), "/srv/alice-config/airlock");
  EXPECT_EQ(deny_list_match("/srv/alice-data/airlock", kHome, ""), "/srv/alice-data/airlock");
  EXPECT_TRUE(deny_list_match("/srv/alice-data", kHome, ""));
  EXPECT_FALSE(deny_list_match("/srv/alice-data/other-app", kHome, ""));
  unsetenv("XDG_CONFIG_HOME");
  unsetenv("XDG_DATA_HOME");
  EXPECT_FALSE(deny_list_match("/srv/alice-data/airlock", kHome, ""));
}

TEST(DenyList, AllowsOrdinaryFolders) {
  EXPECT_FALSE(deny_list_match("/home/alice/src/project", kHome, "/run/user/1000"));
  EXPECT_FALSE(deny_list_match("/home/alice/.sshx", kHome, ""));  // a prefix is not a parent
  EXPECT_FALSE(deny_list_match("/srv/data", kHome, ""));
  EXPECT_FALSE(deny_list_match("/home/alice/.docker/contexts", kHome, ""));
}

TEST(PathIsWithin, ComparesWholeComponents) {
  EXPECT_TRUE(path_is_within("/a/b", "/a"));
  EXPECT_TRUE(path_is_within("/a", "/a"));
  EXPECT_FALSE(path_is_within("/ab", "/a"));
  EXPECT_TRUE(path_is_within("/anything", "/"));
}

TEST(DisplayPath, ShortensHome) {
  EXPECT_EQ(display_path("/home/alice/.ssh", kHome), "~/.ssh");
  EXPECT_EQ(display_path("/home/alicex", kHome), "/home/alicex");
}

TEST(ResolveHostPath, RefusesEmptyMissingAndOverlongPaths) {
  EXPECT_THROW(resolve_host_path(""), Error);
  EXPECT_THROW(resolve_host_path("/no/such/path/anywhere"), Error);
  EXPECT_THROW(resolve_host_path("/" + std::string(5000, 'a')), Error);
}

TEST(ResolveHostPath, ResolvesToTheCanonicalObject) {
  HostPath path = resolve_host_path("/usr/../usr/bin");
  EXPECT_EQ(path.canonical, "/usr/bin");
  EXPECT_TRUE(path.is_directory);
  EXPECT_TRUE(path.fd.valid());
}

}  // namespace
}  // namespace airlock
