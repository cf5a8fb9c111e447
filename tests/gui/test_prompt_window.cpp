// The prompt window on its own, fed requests directly: what it shows, that
// the agent's words are never markup, which buttons each request gets and
// what each answer carries. (test_gui_portal.cpp does it with the real portal.)
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

#include "prompt_request.h"
#include "prompt_window.h"

namespace airlock::gui {
namespace {

PromptRequest request(const QString& id, const QString& kind = QStringLiteral("folder"),
                      const QString& resource = QStringLiteral("/home/alice/src/project")) {
  QVariantMap details;
  details.insert(QStringLiteral("session"), QStringLiteral("3"));
  details.insert(QStringLiteral("profile"), QStringLiteral("claude"));
  details.insert(QStringLiteral("task"), QStringLiteral("fix issue 42"));
  details.insert(QStringLiteral("kind"), kind);
  details.insert(QStringLiteral("resource"), resource);
  details.insert(QStringLiteral("access"), QStringLiteral("read"));
  details.insert(QStringLiteral("reason"), QStringLiteral("<b>trust me</b> <a href='x'>click</a>"));
  details.insert(QStringLiteral("pid"), 1234u);
  details.insert(QStringLiteral("dangerous"), false);
  details.insert(QStringLiteral("scopes"), QStringList{QStringLiteral("once"), QStringLiteral("task"), QStringLiteral("always")});
  return PromptRequest::from_details(id, details);
}

template <typename T>
T* child(QWidget& window, const char* name) {
  T* found = window.findChild<T*>(QLatin1String(name));
  EXPECT_NE(found, nullptr) << name;
  return found;
}

struct Answers {
  explicit Answers(PromptWindow& window) {
    QObject::connect(&window, &PromptWindow::answered, [this](const QString& id, const PromptAnswer& answer) {
      ids.append(id);
      answers.append(answer);
    });
  }
  QStringList ids;
  QList<PromptAnswer> answers;
};

TEST(PromptWindow, ShowsWhoAsksWhatAndWhyWithTheAgentsWordsAsPlainText) {
  PromptWindow window;
  window.add(request(QStringLiteral("1")));
  EXPECT_TRUE(window.isVisible());
  EXPECT_TRUE(window.windowFlags() & Qt::WindowStaysOnTopHint);
  EXPECT_EQ(child<QLabel>(window, "title")->text(), QStringLiteral("claude wants to read a folder"));
  EXPECT_TRUE(child<QLabel>(window, "subtitle")->text().contains(QStringLiteral("fix issue 42")));
  EXPECT_EQ(child<QLabel>(window, "resource")->text(), QStringLiteral("/home/alice/src/project"));
  EXPECT_EQ(child<QLabel>(window, "access")->text(), QStringLiteral("Read only"));
  auto* reason = child<QLabel>(window, "reason");
  EXPECT_TRUE(reason->isVisible());
  // Shown quoted, and as the characters the agent sent: no bold, no link.
  EXPECT_EQ(reason->text(), QStringLiteral("“<b>trust me</b> <a href='x'>click</a>”"));
  EXPECT_EQ(reason->textFormat(), Qt::PlainText);
  for (QLabel* label : window.findChildren<QLabel*>()) {
    if (!label->text().isEmpty() && label->pixmap().isNull()) {
      EXPECT_EQ(label->textFormat(), Qt::PlainText) << label->objectName().toStdString();
    }
  }
  EXPECT_FALSE(child<QWidget>(window, "danger")->isVisible());
  EXPECT_TRUE(child<QPushButton>(window, "show-in-files")->isVisible());
  EXPECT_TRUE(child<QPushButton>(window, "choose-path")->isVisible());
}

TEST(PromptWindow, DenyIsTheDefaultAndHasTheFocus) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1")));
  auto* deny = child<QPushButton>(window, "deny");
  EXPECT_TRUE(deny->isDefault());
  EXPECT_EQ(window.focusWidget(), deny);
  for (const char* name : {"allow-once", "allow-task", "always"})
    EXPECT_FALSE(child<QPushButton>(window, name)->autoDefault()) << name;
  QTest::keyClick(deny, Qt::Key_Return);
  ASSERT_EQ(answers.answers.size(), 1);
  EXPECT_EQ(answers.answers[0].response, Response::kDeny);
  EXPECT_TRUE(answers.answers[0].results().isEmpty());
}

TEST(PromptWindow, WorksWithTheKeyboardAlone) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1")));
  auto focused = [&window] { return window.focusWidget() ? window.focusWidget()->objectName() : QString(); };
  ASSERT_EQ(focused(), QStringLiteral("deny"));
  // Tab walks from the safe answer to the wider ones.
  for (const char* next : {"allow-task", "allow-once", "always"}) {
    QTest::keyClick(window.focusWidget(), Qt::Key_Tab);
    EXPECT_EQ(focused(), QLatin1String(next));
  }
  // Space on Always opens its second step with Cancel focused.
  QTest::keyClick(window.focusWidget(), Qt::Key_Space);
  EXPECT_TRUE(answers.answers.isEmpty());
  EXPECT_EQ(focused(), QStringLiteral("cancel-always"));
  QTest::keyClick(window.focusWidget(), Qt::Key_Tab);
  EXPECT_EQ(focused(), QStringLiteral("confirm-always"));
  QTest::keyClick(window.focusWidget(), Qt::Key_Space);
  ASSERT_EQ(answers.answers.size(), 1);
  EXPECT_EQ(answers.answers[0].results().value(QStringLiteral("scope")).toString(), QStringLiteral("always"));
}

TEST(PromptWindow, EveryControlHasAnAccessibleNameOrText) {
  PromptWindow window;
  window.add(request(QStringLiteral("1")));
  for (QPushButton* button : window.findChildren<QPushButton*>())
    EXPECT_FALSE(button->accessibleName().isEmpty() && button->text().isEmpty()) << button->objectName().toStdString();
  EXPECT_FALSE(child<QLabel>(window, "resource")->accessibleName().isEmpty());
  EXPECT_FALSE(child<QLabel>(window, "reason")->accessibleName().isEmpty());
  EXPECT_FALSE(child<QComboBox>(window, "ttl")->accessibleName().isEmpty());
}

TEST(PromptWindow, ADangerousRequestWarnsAndNeverOffersAlways) {
  PromptWindow window;
  QVariantMap details;
  details.insert(QStringLiteral("kind"), QStringLiteral("file"));
  details.insert(QStringLiteral("resource"), QStringLiteral("/home/alice/.ssh/known_hosts"));
  details.insert(QStringLiteral("dangerous"), true);
  // Even when the portal's list would allow it.
  details.insert(QStringLiteral("scopes"), QStringList{QStringLiteral("once"), QStringLiteral("always")});
  window.add(PromptRequest::from_details(QStringLiteral("7"), details));
  EXPECT_TRUE(child<QWidget>(window, "danger")->isVisible());
  EXPECT_FALSE(child<QPushButton>(window, "always")->isVisible());
  EXPECT_FALSE(child<QPushButton>(window, "allow-task")->isVisible());
  EXPECT_FALSE(child<QPushButton>(window, "choose-path")->isVisible()) << "only folders can be narrowed";
}

TEST(PromptWindow, AlwaysTakesASecondDeliberateStep) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1")));
  QTest::mouseClick(child<QPushButton>(window, "always"), Qt::LeftButton);
  EXPECT_TRUE(answers.answers.isEmpty()) << "one click gave an always-grant";
  EXPECT_TRUE(child<QWidget>(window, "confirm")->isVisible());
  // Escape backs out of the confirmation, not out of the request.
  QTest::keyClick(&window, Qt::Key_Escape);
  EXPECT_TRUE(answers.answers.isEmpty());
  EXPECT_FALSE(child<QWidget>(window, "confirm")->isVisible());
  QTest::mouseClick(child<QPushButton>(window, "always"), Qt::LeftButton);
  QTest::mouseClick(child<QPushButton>(window, "confirm-always"), Qt::LeftButton);
  ASSERT_EQ(answers.answers.size(), 1);
  EXPECT_EQ(answers.answers[0].response, Response::kAllow);
  EXPECT_EQ(answers.answers[0].results().value(QStringLiteral("scope")).toString(), QStringLiteral("always"));
  EXPECT_TRUE(answers.answers[0].results().value(QStringLiteral("confirm-always")).toBool());
}

TEST(PromptWindow, ANarrowerFolderIsSentAndOneOutsideIsRefused) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1"), QStringLiteral("folder"), QStringLiteral("/")));
  // Paths that do not exist here keep their spelling: the portal checks them again.
  window.add(request(QStringLiteral("2"), QStringLiteral("folder"), QStringLiteral("/usr")));
  QTest::mouseClick(child<QPushButton>(window, "deny"), Qt::LeftButton);
  window.choose_folder = [&](QWidget*, const QString&) { return QStringLiteral("/usrlocal"); };
  QTest::mouseClick(child<QPushButton>(window, "choose-path"), Qt::LeftButton);
  EXPECT_TRUE(child<QLabel>(window, "narrower")->text().contains(QStringLiteral("not inside")));
  window.choose_folder = [&](QWidget*, const QString&) { return QStringLiteral("/usr/share"); };
  QTest::mouseClick(child<QPushButton>(window, "choose-path"), Qt::LeftButton);
  EXPECT_TRUE(child<QLabel>(window, "narrower")->text().contains(QStringLiteral("/usr/share")));
  EXPECT_FALSE(child<QPushButton>(window, "always")->isVisible()) << "the portal would remember /usr, not /usr/share";
  QTest::mouseClick(child<QPushButton>(window, "allow-once"), Qt::LeftButton);
  ASSERT_EQ(answers.answers.size(), 2);
  EXPECT_EQ(answers.ids, (QStringList{QStringLiteral("1"), QStringLiteral("2")}));
  EXPECT_EQ(answers.answers[1].results().value(QStringLiteral("path")).toString(), QStringLiteral("/usr/share"));
  EXPECT_EQ(answers.answers[1].results().value(QStringLiteral("scope")).toString(), QStringLiteral("once"));
}

TEST(PromptWindow, ASecretAsksForHowLongAndRemembersOnlyAfterConfirming) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1"), QStringLiteral("secret"), QStringLiteral("github-token")));
  window.add(request(QStringLiteral("2"), QStringLiteral("secret"), QStringLiteral("github-token")));
  EXPECT_EQ(child<QLabel>(window, "title")->text(), QStringLiteral("claude wants a secret"));
  EXPECT_FALSE(child<QPushButton>(window, "show-in-files")->isVisible());
  EXPECT_FALSE(child<QPushButton>(window, "always")->isVisible());
  auto* ttl = child<QComboBox>(window, "ttl");
  ASSERT_TRUE(ttl->isVisible());
  ttl->setCurrentIndex(1);  // 1 hour
  QTest::mouseClick(child<QPushButton>(window, "allow-task"), Qt::LeftButton);
  ASSERT_EQ(answers.answers.size(), 1);
  QVariantMap results = answers.answers[0].results();
  EXPECT_EQ(results.value(QStringLiteral("scope")).toString(), QStringLiteral("task"));
  EXPECT_EQ(results.value(QStringLiteral("ttl")).toUInt(), 3600u);
  EXPECT_EQ(results.value(QStringLiteral("ttl")).metaType(), QMetaType::fromType<uint>());

  // The second: "remember" needs the confirmation too.
  child<QCheckBox>(window, "remember")->setChecked(true);
  child<QComboBox>(window, "ttl")->setCurrentIndex(2);  // until the task ends
  QTest::mouseClick(child<QPushButton>(window, "allow-task"), Qt::LeftButton);
  EXPECT_EQ(answers.answers.size(), 1);
  ASSERT_TRUE(child<QWidget>(window, "confirm")->isVisible());
  QTest::mouseClick(child<QPushButton>(window, "confirm-always"), Qt::LeftButton);
  ASSERT_EQ(answers.answers.size(), 2);
  EXPECT_EQ(answers.answers[1].results().value(QStringLiteral("scope")).toString(), QStringLiteral("always"));
  EXPECT_EQ(answers.answers[1].results().value(QStringLiteral("ttl")).toUInt(), 0u);
}

TEST(PromptWindow, ASecretForTheProxyNamesTheHostAndHeaderItGoesTo) {
  PromptWindow window;
  QVariantMap details;
  details.insert(QStringLiteral("profile"), QStringLiteral("claude"));
  details.insert(QStringLiteral("kind"), QStringLiteral("secret"));
  details.insert(QStringLiteral("resource"), QStringLiteral("github-token"));
  details.insert(QStringLiteral("host"), QStringLiteral("api.github.com:443"));
  details.insert(QStringLiteral("header"), QStringLiteral("Authorization"));
  details.insert(QStringLiteral("scopes"), QStringList{QStringLiteral("once"), QStringLiteral("task")});
  window.add(PromptRequest::from_details(QStringLiteral("1"), details));
  QString access = child<QLabel>(window, "access")->text();
  EXPECT_TRUE(access.contains(QStringLiteral("api.github.com:443"))) << access.toStdString();
  EXPECT_TRUE(access.contains(QStringLiteral("Authorization"))) << access.toStdString();
  EXPECT_TRUE(access.contains(QStringLiteral("placeholder"))) << access.toStdString();
}

TEST(PromptWindow, ClosingDeniesEverythingInIt) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1")));
  window.add(request(QStringLiteral("2")));
  EXPECT_EQ(child<QLabel>(window, "position")->text(), QStringLiteral("1 of 2"));
  window.close();
  ASSERT_EQ(answers.answers.size(), 2);
  for (const auto& answer : answers.answers) EXPECT_EQ(answer.response, Response::kDeny);
  EXPECT_FALSE(window.isVisible());
}

TEST(PromptWindow, ARemovedRequestLeavesTheQueueUnanswered) {
  PromptWindow window;
  Answers answers(window);
  window.add(request(QStringLiteral("1"), QStringLiteral("folder"), QStringLiteral("/a")));
  window.add(request(QStringLiteral("2"), QStringLiteral("folder"), QStringLiteral("/b")));
  window.remove(QStringLiteral("1"));
  EXPECT_TRUE(answers.answers.isEmpty());
  EXPECT_EQ(child<QLabel>(window, "resource")->text(), QStringLiteral("/b"));
  window.remove(QStringLiteral("2"));
  EXPECT_FALSE(window.isVisible());
}

TEST(PathIsWithin, ComparesWholeComponents) {
  EXPECT_TRUE(path_is_within(QStringLiteral("/a/b"), QStringLiteral("/a/b")));
  EXPECT_TRUE(path_is_within(QStringLiteral("/a/b/c"), QStringLiteral("/a/b")));
  EXPECT_TRUE(path_is_within(QStringLiteral("/a"), QStringLiteral("/")));
  EXPECT_FALSE(path_is_within(QStringLiteral("/a/bc"), QStringLiteral("/a/b")));
  EXPECT_FALSE(path_is_within(QStringLiteral("/a"), QStringLiteral("/a/b")));
}

}  // namespace
}  // namespace airlock::gui
