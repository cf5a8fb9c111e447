// The "New Session…" dialog: the command line it starts.
#include <gtest/gtest.h>

#include <QComboBox>
#include <QLineEdit>
#include <QListWidget>

#include "gui_test_util.h"
#include "new_session_dialog.h"

namespace airlock::gui {
namespace {

TEST(NewSessionDialog, RunsAirlockRunWithTheProfileTaskFoldersAndCommandInTheTerminal) {
  NewSessionDialog dialog(QStringLiteral("/usr/bin/airlock"));
  if (dialog.terminal()->count() == 0) GTEST_SKIP() << "no terminal emulator is installed here (xterm, x-terminal-emulator...)";
  dialog.profile()->setCurrentText(QStringLiteral("claude"));
  dialog.task()->setText(QStringLiteral("fix issue 42"));
  dialog.folders()->addItem(QStringLiteral("/home/alice/src/my project"));
  dialog.command()->setText(QStringLiteral("claude --model 'opus 4'"));
  QStringList argv = dialog.command_line();
  ASSERT_GE(argv.size(), 3);
  QStringList tail = argv.mid(argv.indexOf(QStringLiteral("/usr/bin/airlock")));
  EXPECT_EQ(tail, (QStringList{QStringLiteral("/usr/bin/airlock"), QStringLiteral("run"), QStringLiteral("--profile"),
                               QStringLiteral("claude"), QStringLiteral("--task"), QStringLiteral("fix issue 42"),
                               QStringLiteral("--rw"), QStringLiteral("/home/alice/src/my project"), QStringLiteral("--"),
                               QStringLiteral("claude"), QStringLiteral("--model"), QStringLiteral("opus 4")}));
  EXPECT_EQ(argv.first(), dialog.terminal()->currentData().toString());
}

TEST(NewSessionDialog, ListsTheShippedProfiles) {
  NewSessionDialog dialog(QStringLiteral("/usr/bin/airlock"));
  EXPECT_GE(dialog.profile()->findText(QStringLiteral("claude")), 0) << "AIRLOCK_PROFILE_PATH points at policies/profiles";
}

}  // namespace
}  // namespace airlock::gui

namespace airlock::gui {
namespace {

TEST(SplitCommand, QuotesAsAShellDoes) {
  EXPECT_EQ(split_command(QStringLiteral("a 'b c' \"d \\\"e\" f\\ g  ")),
            (QStringList{QStringLiteral("a"), QStringLiteral("b c"), QStringLiteral("d \"e"), QStringLiteral("f g")}));
  EXPECT_EQ(split_command(QStringLiteral("''")), QStringList{QString()});
  EXPECT_TRUE(split_command(QStringLiteral("   ")).isEmpty());
}

}  // namespace
}  // namespace airlock::gui
