// airlock-gui against the real portal on a private bus, with real agents
// in real sandboxes: the request raises the prompt, each button makes the
// grant it names, Escape and closing deny, requests queue in order, a
// Close from the portal takes one off the screen, and Revoke in the
// session manager takes a grant away inside the sandbox.
#include <gtest/gtest.h>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDBusConnection>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTest>
#include <QTreeWidget>
#include <atomic>

#include "always_grants_page.h"
#include "app.h"
#include "gui_test_util.h"
#include "portal_fixture.h"
#include "prompt_window.h"
#include "prompter_service.h"
#include "session_window.h"
#include "tray.h"

namespace airlock::test {
namespace {

using gui::App;
using gui::PromptWindow;

class GuiPortal : public PortalTest {
 protected:
  void SetUp() override {
    PortalTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    // The fixture's three seconds are for machines; a test clicks slower.
    g_autoptr(GError) error = nullptr;
    GVariantBuilder env;
    g_variant_builder_init(&env, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&env, "{ss}", "AIRLOCK_PROMPT_TIMEOUT", "120");
    g_autoptr(GVariant) updated = g_dbus_connection_call_sync(
        connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "UpdateActivationEnvironment", g_variant_new("(a{ss})", &env), nullptr, G_DBUS_CALL_FLAGS_NONE, 5000, nullptr,
        &error);
    ASSERT_NE(updated, nullptr) << error->message;

    static std::atomic<int> counter{0};
    bus_name_ = QStringLiteral("gui-test-%1").arg(++counter);
    QDBusConnection bus = QDBusConnection::connectToBus(QString::fromUtf8(getenv("DBUS_SESSION_BUS_ADDRESS")), bus_name_);
    ASSERT_TRUE(bus.isConnected()) << bus.lastError().message().toStdString();
    app_ = std::make_unique<App>(bus);
    QString why;
    ASSERT_TRUE(app_->start(true, &why)) << why.toStdString();
  }

  void TearDown() override {
    app_.reset();
    if (!bus_name_.isEmpty()) QDBusConnection::disconnectFromBus(bus_name_);
    PortalTest::TearDown();
  }

  PromptWindow* prompt() { return app_->prompt_window(); }

  // Waits until the prompt shows a request for RESOURCE.
  bool wait_for_prompt_of(const std::string& resource) {
    return spin_until([&] { return prompt()->current() && prompt()->current()->resource.toStdString() == resource; });
  }

  void click(const char* button) {
    auto* widget = prompt()->findChild<QPushButton*>(QLatin1String(button));
    ASSERT_NE(widget, nullptr) << button;
    ASSERT_TRUE(widget->isVisible()) << button;
    QTest::mouseClick(widget, Qt::LeftButton);
  }

  // Child::wait, with the event loop running meanwhile.
  static int wait_for(Child& agent, int timeout_ms = 60000) {
    int status = -1;
    spin_until([&] { return (status = agent.wait(std::chrono::milliseconds(20))) != -1; }, timeout_ms);
    return status;
  }

  std::vector<Row> grant_rows(const std::string& scope) {
    std::vector<Row> rows;
    for (auto& row : manager_list("AuditLog", g_variant_new_parsed("({'limit': <@u 1000>},)")))
      if (row["event"] == "grant" && row["outcome"] == "allow" && row["scope"] == scope && row["resource"] == project_)
        rows.push_back(row);
    return rows;
  }

  // `airlock secret add --store=file NAME`, the value on standard input.
  void add_secret(const std::string& name, const std::string& value) {
    std::string passphrase = scratch_.path("passphrase");
    Scratch::write_file(passphrase, "correct horse battery");
    Options with_input = options();
    with_input.input = value;
    Result added = run({"/bin/sh", "-c", "exec \"$0\" secret add --store=file --passphrase-fd=3 " + name + " 3<" + passphrase,
                        airlock_binary()},
                       with_input);
    ASSERT_EQ(added.status, 0) << added.err;
  }

  QString bus_name_;
  std::unique_ptr<App> app_;
};

TEST_F(GuiPortal, ARequestRaisesThePromptAndAllowOnceGrantsIt) {
  auto agent = start_agent({"--task", "fix issue 42"}, "airlock-request folder " + project_ +
                                                            " --reason 'to read the docs' && cat " + project_ + "/README");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  EXPECT_TRUE(prompt()->isVisible());
  const gui::PromptRequest* shown = prompt()->current();
  EXPECT_EQ(shown->task, QStringLiteral("fix issue 42"));
  EXPECT_EQ(shown->kind, QStringLiteral("folder"));
  EXPECT_EQ(prompt()->findChild<QLabel*>(QStringLiteral("reason"))->text(), QStringLiteral("“to read the docs”"));
  EXPECT_EQ(prompt()->findChild<QLabel*>(QStringLiteral("resource"))->text().toStdString(), project_);
  click("allow-once");
  EXPECT_EQ(wait_for(*agent), 0) << agent->err();
  EXPECT_NE(agent->out().find("project readme"), std::string::npos);
  EXPECT_EQ(grant_rows("once").size(), 1u);
  EXPECT_FALSE(prompt()->isVisible());
}

TEST_F(GuiPortal, AllowForThisTaskMakesATaskGrant) {
  const std::string e = exchange_;
  auto agent = start_agent({}, "airlock-request folder " + project_ + " && cat " + project_ + "/README > " + e +
                                   "/read; echo > " + e + "/ready; while [ ! -e " + e + "/go ]; do sleep 0.05; done");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  click("allow-task");
  ASSERT_TRUE(spin_until([&] { return Scratch::exists(e + "/ready"); })) << agent->err();
  EXPECT_EQ(Scratch::read_file(e + "/read"), "project readme\n");
  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["resource"], project_);
  EXPECT_EQ(grants[0]["scope"], "task");
  EXPECT_EQ(grants[0]["decided-by"], "person");
  Scratch::write_file(e + "/go", "");
  EXPECT_EQ(wait_for(*agent), 0) << agent->err();
}

TEST_F(GuiPortal, AlwaysAfterConfirmingIsRememberedForTheProfile) {
  auto agent = start_agent({}, "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  click("always");
  spin_for(300);
  EXPECT_TRUE(manager_list("ListAlways").empty()) << "one click made an always-grant";
  click("confirm-always");
  EXPECT_EQ(wait_for(*agent), 0) << agent->err();
  auto always = manager_list("ListAlways");
  ASSERT_EQ(always.size(), 1u);
  EXPECT_EQ(always[0]["resource"], project_);
  // And the next session has it without asking.
  auto next = start_agent({}, "cat " + project_ + "/README");
  EXPECT_EQ(wait_for(*next), 0) << next->err();
  EXPECT_NE(next->out().find("project readme"), std::string::npos);
  EXPECT_EQ(prompt()->current(), nullptr);
}

enum class DenyBy { kButton, kEscape, kEnter, kClose };

class GuiPortalDeny : public GuiPortal, public ::testing::WithParamInterface<DenyBy> {};

TEST_P(GuiPortalDeny, Denies) {
  auto agent = start_agent({}, "airlock-request folder " + project_ + "; echo rc=$?; cat " + project_ + "/README");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  switch (GetParam()) {
    case DenyBy::kButton: click("deny"); break;
    case DenyBy::kEscape: QTest::keyClick(prompt(), Qt::Key_Escape); break;
    case DenyBy::kEnter: QTest::keyClick(prompt()->focusWidget(), Qt::Key_Return); break;
    case DenyBy::kClose: prompt()->close(); break;
    default: FAIL();
  }
  wait_for(*agent);
  EXPECT_NE(agent->out().find("rc=1"), std::string::npos) << agent->out() << agent->err();
  EXPECT_NE(agent->err().find("denied"), std::string::npos) << agent->err();
  EXPECT_EQ(agent->out().find("project readme"), std::string::npos);
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
}

std::string deny_name(const ::testing::TestParamInfo<DenyBy>& param) {
  switch (param.param) {
    case DenyBy::kButton: return "TheDenyButton";
    case DenyBy::kEscape: return "Escape";
    case DenyBy::kEnter: return "Enter";
    case DenyBy::kClose: return "ClosingTheWindow";
    default: return "Unknown";
  }
}

INSTANTIATE_TEST_SUITE_P(Ways, GuiPortalDeny,
                         ::testing::Values(DenyBy::kButton, DenyBy::kEscape, DenyBy::kEnter, DenyBy::kClose), deny_name);

TEST_F(GuiPortal, RequestsQueueInOneWindowAndAreAnsweredInOrder) {
  std::string second = scratch_.path("second");
  mkdir(second.c_str(), 0755);
  Scratch::write_file(second + "/README", "second readme\n");
  auto first_agent = start_agent({"--task", "first"}, "airlock-request folder " + project_ + "; echo rc=$?");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << first_agent->err();
  auto second_agent = start_agent({"--task", "second"}, "airlock-request folder " + second + " && cat " + second + "/README");
  ASSERT_TRUE(spin_until([&] { return prompt()->queue().size() == 2; })) << second_agent->err();
  // One window, the first request on top.
  int windows = 0;
  for (QWidget* widget : QApplication::topLevelWidgets()) windows += widget->isVisible() ? 1 : 0;
  EXPECT_EQ(windows, 1);
  EXPECT_EQ(prompt()->current()->resource.toStdString(), project_);
  EXPECT_EQ(prompt()->findChild<QLabel*>(QStringLiteral("position"))->text(), QStringLiteral("1 of 2"));
  EXPECT_EQ(app_->tray()->pending(), 2) << "the tray counts what waits";
  click("deny");
  ASSERT_TRUE(wait_for_prompt_of(second));
  click("allow-once");
  EXPECT_EQ(wait_for(*first_agent), 0);
  EXPECT_NE(first_agent->out().find("rc=1"), std::string::npos) << first_agent->out();
  EXPECT_EQ(wait_for(*second_agent), 0) << second_agent->err();
  EXPECT_NE(second_agent->out().find("second readme"), std::string::npos);
  EXPECT_EQ(app_->tray()->pending(), 0);
}

TEST_F(GuiPortal, ASecretIsGrantedForTheTimeThePersonPicks) {
  ASSERT_NO_FATAL_FAILURE(add_secret("gh-token", "airlock-gui-test-value"));
  const std::string e = exchange_;
  auto agent = start_agent({"--task", "push the fix"},
                           "airlock-request secret gh-token --print > /dev/null && echo > " + e +
                               "/ready; while [ ! -e " + e + "/go ]; do sleep 0.05; done");
  ASSERT_TRUE(spin_until([&] { return prompt()->current() && prompt()->current()->kind == QStringLiteral("secret"); }))
      << agent->err();
  EXPECT_EQ(prompt()->current()->resource, QStringLiteral("gh-token"));
  auto* ttl = prompt()->findChild<QComboBox*>(QStringLiteral("ttl"));
  ASSERT_TRUE(ttl->isVisible());
  ttl->setCurrentIndex(1);  // 1 hour
  QString session = prompt()->current()->session;
  click("allow-task");
  ASSERT_TRUE(spin_until([&] { return Scratch::exists(e + "/ready"); })) << agent->err();
  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["kind"], "secret");
  EXPECT_EQ(grants[0]["scope"], "task");
  long long lasts = std::stoll(grants[0]["expires"]) - std::stoll(grants[0]["since"]);
  EXPECT_EQ(lasts, 3600LL * 1000000) << "the hour the person picked";
  // The session manager says when it ends.
  gui::SessionWindow* window = app_->session_window();
  window->refresh();
  ASSERT_TRUE(window->select_session(session));
  ASSERT_EQ(window->grants()->topLevelItemCount(), 1);
  EXPECT_NE(window->grants()->topLevelItem(0)->text(5), QStringLiteral("When the task ends"));
  Scratch::write_file(e + "/go", "");
  EXPECT_EQ(wait_for(*agent), 0) << agent->err();
  EXPECT_TRUE(manager_list("ListAlways").empty());
}

TEST_F(GuiPortal, ASecretIsRememberedOnlyAfterTheConfirmation) {
  ASSERT_NO_FATAL_FAILURE(add_secret("gh-token", "airlock-gui-test-value"));
  auto agent = start_agent({}, "airlock-request secret gh-token --print > /dev/null; echo rc=$?");
  ASSERT_TRUE(spin_until([&] { return prompt()->current() != nullptr; })) << agent->err();
  auto* remember = prompt()->findChild<QCheckBox*>(QStringLiteral("remember"));
  ASSERT_TRUE(remember->isVisible());
  remember->setChecked(true);
  click("allow-task");
  spin_for(300);
  EXPECT_EQ(app_->prompter()->pending(), 1) << "the checkbox alone answered";
  click("confirm-always");
  EXPECT_EQ(wait_for(*agent), 0);
  EXPECT_NE(agent->out().find("rc=0"), std::string::npos) << agent->out() << agent->err();
  auto always = manager_list("ListAlways");
  ASSERT_EQ(always.size(), 1u);
  EXPECT_EQ(always[0]["kind"], "secret");
  EXPECT_EQ(always[0]["resource"], "gh-token");
}

// A stand-in for the desktop's notification server on the private bus.
struct Notifications {
  static void on_call(GDBusConnection*, const char*, const char*, const char*, const char* method, GVariant* parameters,
                      GDBusMethodInvocation* invocation, gpointer data) {
    auto* self = static_cast<Notifications*>(data);
    if (g_strcmp0(method, "Notify") == 0) {
      const char* summary = nullptr;
      const char* body = nullptr;
      g_variant_get_child(parameters, 3, "&s", &summary);
      g_variant_get_child(parameters, 4, "&s", &body);
      self->shown.push_back(std::string(summary) + "\n" + body);
    }
    g_dbus_method_invocation_return_value(invocation, g_variant_new("(u)", 1u));
  }
  std::vector<std::string> shown;
};

TEST_F(GuiPortal, ANewRequestIsAnnouncedWithoutTheAgentsWords) {
  static const char xml[] =
      "<node><interface name='org.freedesktop.Notifications'><method name='Notify'>"
      "<arg type='s' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
      "<arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='as' direction='in'/>"
      "<arg type='a{sv}' direction='in'/><arg type='i' direction='in'/><arg type='u' direction='out'/>"
      "</method></interface></node>";
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(xml, nullptr);
  static const GDBusInterfaceVTable vtable = {Notifications::on_call, nullptr, nullptr, {}};
  Notifications server;
  g_autoptr(GError) error = nullptr;
  guint object = g_dbus_connection_register_object(connection(), "/org/freedesktop/Notifications", node->interfaces[0],
                                                   &vtable, &server, nullptr, &error);
  ASSERT_NE(object, 0u) << error->message;
  guint name = g_bus_own_name_on_connection(connection(), "org.freedesktop.Notifications", G_BUS_NAME_OWNER_FLAGS_NONE,
                                            nullptr, nullptr, nullptr, nullptr);
  auto agent = start_agent({"--task", "notify"}, "airlock-request folder " + project_ +
                                                     " --reason 'OPEN https://evil.example NOW'; echo rc=$?");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  EXPECT_TRUE(spin_until([&] { return !server.shown.empty(); }, 10000));
  ASSERT_EQ(server.shown.size(), 1u);
  EXPECT_NE(server.shown[0].find(project_), std::string::npos) << server.shown[0];
  EXPECT_EQ(server.shown[0].find("evil"), std::string::npos) << server.shown[0];
  click("deny");
  wait_for(*agent);
  g_bus_unown_name(name);
  g_dbus_connection_unregister_object(connection(), object);
}

TEST_F(GuiPortal, ARequestAnsweredElsewhereLeavesTheScreen) {
  auto agent = start_agent({}, "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  auto pending = manager_list("ListPending");
  ASSERT_EQ(pending.size(), 1u);
  // `airlock answer` or another prompter answers: the portal calls Close.
  ASSERT_TRUE(answer(pending[0]["id"], true, "once"));
  EXPECT_TRUE(spin_until([&] { return prompt()->current() == nullptr; }));
  EXPECT_FALSE(prompt()->isVisible());
  EXPECT_EQ(wait_for(*agent), 0) << agent->err();
  EXPECT_EQ(app_->prompter()->pending(), 0);
}

TEST_F(GuiPortal, RevokeInTheSessionManagerTakesTheGrantAwayInsideTheSandbox) {
  const std::string e = exchange_;
  auto agent = start_agent({"--task", "revoke me"},
                           "airlock-request folder " + project_ + " && cat " + project_ + "/README > " + e +
                               "/before; echo > " + e + "/ready; while [ ! -e " + e + "/go ]; do sleep 0.05; done;"
                               "cat " + project_ + "/README > " + e + "/after 2>&1; echo > " + e + "/done");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  QString session = prompt()->current()->session;
  click("allow-task");
  ASSERT_TRUE(spin_until([&] { return Scratch::exists(e + "/ready"); })) << agent->err();
  EXPECT_EQ(Scratch::read_file(e + "/before"), "project readme\n");

  gui::SessionWindow* window = app_->session_window();
  window->refresh();
  window->show();
  ASSERT_TRUE(window->select_session(session));
  EXPECT_EQ(window->sessions()->currentItem()->text(1), QStringLiteral("revoke me"));
  QTreeWidget* grants = window->grants();
  ASSERT_TRUE(spin_until([&] { return grants->topLevelItemCount() == 1; }));
  EXPECT_EQ(grants->topLevelItem(0)->text(1).toStdString(), project_);
  EXPECT_EQ(grants->topLevelItem(0)->text(3), QStringLiteral("This task"));
  grants->setCurrentItem(grants->topLevelItem(0));
  auto* revoke = window->findChild<QPushButton*>(QStringLiteral("revoke"));
  ASSERT_TRUE(revoke->isEnabled());
  QTest::mouseClick(revoke, Qt::LeftButton);
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
  EXPECT_TRUE(spin_until([&] { return grants->topLevelItemCount() == 0; }));

  Scratch::write_file(e + "/go", "");
  ASSERT_TRUE(spin_until([&] { return Scratch::exists(e + "/done"); })) << agent->err();
  EXPECT_EQ(Scratch::read_file(e + "/after").find("project readme"), std::string::npos) << Scratch::read_file(e + "/after");
  // The audit trail of the session shows the revocation.
  window->refresh();
  window->select_session(session);
  bool revoked = false;
  for (int i = 0; i < window->audit()->topLevelItemCount(); ++i)
    revoked = revoked || window->audit()->topLevelItem(i)->text(1) == QStringLiteral("revoke");
  EXPECT_TRUE(revoked);
  EXPECT_EQ(wait_for(*agent), 0);
}

TEST_F(GuiPortal, EndedSessionsStayListedWithTheirAuditTrailAndItsFilters) {
  auto agent = start_agent({"--task", "finished task"}, "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  click("allow-once");
  ASSERT_EQ(wait_for(*agent), 0) << agent->err();
  gui::SessionWindow* window = app_->session_window();
  window->refresh();
  QTreeWidgetItem* ended = nullptr;
  for (int i = 0; i < window->sessions()->topLevelItemCount(); ++i)
    if (window->sessions()->topLevelItem(i)->text(1) == QStringLiteral("finished task")) ended = window->sessions()->topLevelItem(i);
  ASSERT_NE(ended, nullptr) << "a session that ended before the window opened is not listed";
  EXPECT_EQ(ended->text(4), QStringLiteral("Ended"));
  window->sessions()->setCurrentItem(ended);
  QTreeWidget* audit = window->audit();
  auto visible = [audit](const QString& event) {
    int count = 0;
    for (int i = 0; i < audit->topLevelItemCount(); ++i)
      if (!audit->topLevelItem(i)->isHidden() && (event.isEmpty() || audit->topLevelItem(i)->text(1) == event)) ++count;
    return count;
  };
  EXPECT_GE(visible(QStringLiteral("grant")), 1);
  EXPECT_GE(visible(QStringLiteral("session-end")), 1);
  auto* events = window->findChild<QComboBox*>(QStringLiteral("audit-event"));
  events->setCurrentIndex(events->findData(QStringLiteral("grant")));
  EXPECT_EQ(visible(QString()), visible(QStringLiteral("grant"))) << "the event filter lets other events through";
  EXPECT_GE(visible(QString()), 1);
  auto* search = window->findChild<QLineEdit*>(QStringLiteral("audit-search"));
  search->setText(QStringLiteral("/nowhere/at/all"));
  EXPECT_EQ(visible(QString()), 0);
}

TEST_F(GuiPortal, TheAlwaysPageForgets) {
  auto agent = start_agent({}, "airlock-request folder " + project_);
  ASSERT_TRUE(wait_for_prompt_of(project_)) << agent->err();
  click("always");
  click("confirm-always");
  EXPECT_EQ(wait_for(*agent), 0) << agent->err();
  gui::SessionWindow* window = app_->session_window();
  window->refresh();
  QTreeWidget* list = window->always_page()->list();
  ASSERT_EQ(list->topLevelItemCount(), 1);
  EXPECT_EQ(list->topLevelItem(0)->text(2).toStdString(), project_);
  list->setCurrentItem(list->topLevelItem(0));
  QTest::mouseClick(window->always_page()->findChild<QPushButton*>(QStringLiteral("forget")), Qt::LeftButton);
  EXPECT_TRUE(manager_list("ListAlways").empty());
  EXPECT_EQ(list->topLevelItemCount(), 0);
}

}  // namespace
}  // namespace airlock::test
