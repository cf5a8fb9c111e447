#include "helper_program.h"

#include <glib.h>

#include "config.h"

namespace airlock {

std::string helper_program(const char* name) {
  g_autofree char* self = g_file_read_link("/proc/self/exe", nullptr);
  if (self) {
    g_autofree char* dir = g_path_get_dirname(self);
    g_autofree char* candidate = g_build_filename(dir, name, nullptr);
    if (g_file_test(candidate, G_FILE_TEST_IS_EXECUTABLE)) return candidate;
  }
  return std::string(AIRLOCK_LIBEXECDIR) + "/" + name;
}

}  // namespace airlock
