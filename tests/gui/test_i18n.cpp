// German: the prompt and the session manager speak it when the locale
// says so, from the catalogue built out of po/de.po.
#include <gtest/gtest.h>

#include <QLabel>
#include <QPushButton>
#include <QTabWidget>
#include <clocale>
#include <cstdlib>
#include <string>

#include "i18n.h"
#include "manager_client.h"
#include "prompt_window.h"
#include "session_window.h"

namespace airlock::gui {
namespace {

class German : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = getenv("LANGUAGE");
    saved_ = old ? old : "";
    setenv("LANGUAGE", "de", 1);
    // LANGUAGE is ignored in the "C" locale; C.UTF-8 is always there.
    ASSERT_NE(setlocale(LC_ALL, "C.UTF-8"), nullptr);
    init_i18n("/nonexistent");
    if (_("Deny") == QStringLiteral("Deny"))
      GTEST_FAIL() << "no German catalogue: AIRLOCK_LOCALEDIR=" << (getenv("AIRLOCK_LOCALEDIR") ? getenv("AIRLOCK_LOCALEDIR") : "")
                   << " must hold de/LC_MESSAGES/airlock.mo (built from po/de.po)";
  }
  void TearDown() override {
    setenv("LANGUAGE", saved_.c_str(), 1);
    setlocale(LC_ALL, "C.UTF-8");
    init_i18n("/nonexistent");
  }
  std::string saved_;
};

TEST_F(German, ThePromptSpeaksGerman) {
  PromptWindow window;
  QVariantMap details;
  details.insert(QStringLiteral("profile"), QStringLiteral("claude"));
  details.insert(QStringLiteral("task"), QStringLiteral("Fehler 42"));
  details.insert(QStringLiteral("session"), QStringLiteral("3"));
  details.insert(QStringLiteral("kind"), QStringLiteral("folder"));
  details.insert(QStringLiteral("access"), QStringLiteral("write"));
  details.insert(QStringLiteral("resource"), QStringLiteral("/home/alice/src"));
  details.insert(QStringLiteral("scopes"), QStringList{QStringLiteral("once"), QStringLiteral("task"), QStringLiteral("always")});
  window.add(PromptRequest::from_details(QStringLiteral("1"), details));
  window.add(PromptRequest::from_details(QStringLiteral("2"), details));
  EXPECT_EQ(window.findChild<QPushButton*>(QStringLiteral("deny"))->text(), QStringLiteral("Ablehnen"));
  EXPECT_EQ(window.findChild<QPushButton*>(QStringLiteral("allow-once"))->text(), QStringLiteral("Einmal erlauben"));
  EXPECT_EQ(window.findChild<QPushButton*>(QStringLiteral("allow-task"))->text(), QStringLiteral("Für diese Aufgabe erlauben"));
  EXPECT_EQ(window.findChild<QLabel*>(QStringLiteral("title"))->text(), QStringLiteral("claude möchte einen Ordner ändern"));
  EXPECT_EQ(window.findChild<QLabel*>(QStringLiteral("access"))->text(), QStringLiteral("Lesen und schreiben"));
  EXPECT_EQ(window.findChild<QLabel*>(QStringLiteral("position"))->text(), QStringLiteral("1 von 2"));
  EXPECT_TRUE(window.findChild<QLabel*>(QStringLiteral("subtitle"))->text().contains(QStringLiteral("Aufgabe „Fehler 42“")));
  EXPECT_EQ(window.windowTitle(), QStringLiteral("Ein Agent bittet um Zugriff"));
}

TEST_F(German, TheSessionManagerSpeaksGermanAndPlurals) {
  EXPECT_EQ(n_("Waiting for %1 answer", "Waiting for %1 answers", 1), QStringLiteral("Wartet auf %1 Antwort"));
  EXPECT_EQ(n_("Waiting for %1 answer", "Waiting for %1 answers", 3), QStringLiteral("Wartet auf %1 Antworten"));
  // No portal on this bus: the window still builds, in German.
  ManagerClient manager(QDBusConnection(QStringLiteral("none")));
  SessionWindow window(&manager);
  EXPECT_EQ(window.pages()->tabText(0), QStringLiteral("Sitzungen"));
  EXPECT_EQ(window.pages()->tabText(1), QStringLiteral("Immer erlaubt"));
  EXPECT_EQ(window.findChild<QPushButton*>(QStringLiteral("revoke"))->text(), QStringLiteral("Widerrufen"));
  EXPECT_EQ(window.findChild<QLabel*>(QStringLiteral("window-title"))->text(), QStringLiteral("Agenten-Sitzungen"));
  EXPECT_EQ(window.findChild<QPushButton*>(QStringLiteral("new-session"))->text(), QStringLiteral("Neue Sitzung …"));
}

}  // namespace
}  // namespace airlock::gui
