// The GUI tests' main: a QApplication on the offscreen platform (no
// display in CI), gettext bound to the build's catalogue, then GoogleTest.
#include <gtest/gtest.h>

#include <QApplication>
#include <cstdlib>

#include "i18n.h"

int main(int argc, char** argv) {
  setenv("QT_QPA_PLATFORM", "offscreen", 0);
  // English unless a test asks for German.
  setenv("LANGUAGE", "C", 1);
  airlock::gui::init_i18n("/nonexistent");
  QApplication application(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
