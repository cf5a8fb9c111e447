// A scratch directory for one test, removed with everything in it.
#pragma once

#include <glib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace airlock::test {

class TempDir {
 public:
  TempDir() {
    g_autoptr(GError) error = nullptr;
    g_autofree char* dir = g_dir_make_tmp("airlock-test-XXXXXX", &error);
    if (dir == nullptr) throw std::runtime_error(error->message);
    path_ = dir;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace airlock::test
