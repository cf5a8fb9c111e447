// impl.Prompter's "path": a person may grant a narrower path than the one
// asked for. The portal grants it only when it is the request or beneath
// it, reached without a symlink, of the same kind, and not deny-listed;
// anything else is denied. Driven by a prompter double that answers with
// any path, and by airlock-gui's "Choose Another Folder…".
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QDBusConnection>
#include <QPushButton>
#include <QTest>
#include <atomic>

#include "app.h"
#include "gui_test_util.h"
#include "portal_fixture.h"
#include "prompt_window.h"

namespace airlock::test {
namespace {

class PortalNarrower : public PortalTest {
 protected:
  void SetUp() override {
    PortalTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    docs_ = project_ + "/docs";
    mkdir(docs_.c_str(), 0755);
    Scratch::write_file(docs_ + "/guide", "the guide\n");
  }
  void TearDown() override {
    if (registration_) g_dbus_connection_unregister_object(connection(), registration_);
    PortalTest::TearDown();
  }

  // A prompter that allows every request with SCOPE, naming PATH instead.
  void answer_with(const std::string& scope, const std::string& path) {
    scope_ = scope;
    path_ = path;
    static const char xml[] =
        "<node><interface name='org.airlock.impl.Prompter'>"
        "<method name='Prompt'><arg type='s' direction='in'/><arg type='a{sv}' direction='in'/>"
        "<arg type='u' direction='out'/><arg type='a{sv}' direction='out'/></method>"
        "<method name='Close'><arg type='s' direction='in'/></method>"
        "</interface></node>";
    g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(xml, nullptr);
    static const GDBusInterfaceVTable vtable = {
        +[](GDBusConnection*, const char*, const char*, const char*, const char* method, GVariant*,
            GDBusMethodInvocation* invocation, gpointer data) {
          auto* self = static_cast<PortalNarrower*>(data);
          if (g_strcmp0(method, "Close") == 0) return g_dbus_method_invocation_return_value(invocation, nullptr);
          ++self->prompts_;
          GVariantBuilder results;
          g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
          g_variant_builder_add(&results, "{sv}", "scope", g_variant_new_string(self->scope_.c_str()));
          g_variant_builder_add(&results, "{sv}", "path", g_variant_new_string(self->path_.c_str()));
          if (self->scope_ == "always")
            g_variant_builder_add(&results, "{sv}", "confirm-always", g_variant_new_boolean(TRUE));
          g_dbus_method_invocation_return_value(invocation, g_variant_new("(ua{sv})", 0u, &results));
        },
        nullptr, nullptr, {}};
    g_autoptr(GError) error = nullptr;
    registration_ = g_dbus_connection_register_object(connection(), "/org/airlock/Prompter", node->interfaces[0], &vtable,
                                                      this, nullptr, &error);
    ASSERT_NE(registration_, 0u) << error->message;
    g_autoptr(GVariant) reply = manager_call("RegisterPrompter", g_variant_new("(a{sv})", nullptr), &error);
    ASSERT_NE(reply, nullptr) << error->message;
  }

  // Runs SCRIPT in a sandbox while this thread serves the prompter.
  Result run_serving(const std::string& script) {
    auto agent = start_agent({}, script);
    Result result;
    spin_until([&] { return (result.status = agent->wait(std::chrono::milliseconds(20))) != -1; }, 60000);
    result.out = agent->out();
    result.err = agent->err();
    return result;
  }

  std::string docs_;
  std::string scope_, path_;
  int prompts_ = 0;
  guint registration_ = 0;
};

TEST_F(PortalNarrower, AFolderWithinTheRequestIsGrantedInsteadOfIt) {
  answer_with("task", docs_);
  Result r = run_serving("airlock-request folder " + project_ + " && cat " + docs_ + "/guide && cat " + project_ +
                         "/README; echo rc=$?; airlock-request folder " + project_ + "; echo again=$?");
  EXPECT_NE(r.out.find(docs_ + "\n"), std::string::npos) << "the agent is told what it got\n" << r.out << r.err;
  EXPECT_NE(r.out.find("the guide"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(r.out.find("project readme"), std::string::npos) << "the folder asked for was granted";
  // The task's answer covers the narrower folder only: the wider one asks again.
  EXPECT_EQ(prompts_, 2) << r.out << r.err;
  bool granted_docs = false;
  for (auto& row : manager_list("AuditLog", g_variant_new_parsed("({'limit': <@u 1000>},)")))
    if (row["event"] == "grant" && row["outcome"] == "allow") {
      EXPECT_EQ(row["resource"], docs_);
      granted_docs = true;
    }
  EXPECT_TRUE(granted_docs);
}

TEST_F(PortalNarrower, AlwaysWithANarrowerPathIsOnlyForTheTask) {
  answer_with("always", docs_);
  Result r = run_serving("airlock-request folder " + project_ + " && cat " + docs_ + "/guide");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(manager_list("ListAlways").empty()) << "the store would hold the wider folder";
}

class PortalNarrowerRefused : public PortalNarrower, public ::testing::WithParamInterface<const char*> {};

TEST_P(PortalNarrowerRefused, Denies) {
  std::string kind = GetParam();
  std::string chosen;
  std::string request = project_;
  if (kind == "sibling") {
    chosen = scratch_.path("elsewhere");
    mkdir(chosen.c_str(), 0755);
  } else if (kind == "prefix") {
    chosen = project_ + "-secrets";  // shares the request's spelling, not its folder
    mkdir(chosen.c_str(), 0755);
  } else if (kind == "parent") {
    chosen = scratch_.dir();
  } else if (kind == "dotdot") {
    chosen = docs_ + "/../..";
  } else if (kind == "relative") {
    chosen = "docs";
  } else if (kind == "symlink") {
    chosen = project_ + "/link";
    ASSERT_EQ(symlink(scratch_.home().c_str(), chosen.c_str()), 0);
  } else if (kind == "file") {
    chosen = docs_ + "/guide";  // a file for a folder request
  } else if (kind == "missing") {
    chosen = project_ + "/nonexistent";
  } else if (kind == "deny_list") {
    // The home folder, asked with a warning (it holds ~/.ssh); the answer names ~/.ssh itself.
    write_policy("[Rule home]\nKind=folder\nMatch=~;\nDecision=ask\nOverride=deny-list\n");
    request = scratch_.home();
    chosen = scratch_.home() + "/.ssh";
  } else if (kind == "policy_deny") {
    // A deny rule inside the folder, which a later rule for the folder itself overrides.
    std::string kept = project_ + "/private";
    mkdir(kept.c_str(), 0755);
    write_policy("[Rule private]\nKind=folder\nMatch=" + kept + ";\nDecision=deny\n\n[Rule project]\nKind=folder\nMatch=" +
                 project_ + ";\nDecision=ask\n");
    chosen = kept;
  }
  answer_with("once", chosen);
  Result r = run_serving("airlock-request folder " + request + "; echo rc=$?; ls -A " + request + " " + chosen);
  EXPECT_EQ(prompts_, 1) << r.err;
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot be granted"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("id_ed25519"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("README"), std::string::npos) << r.out;
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
  bool audited = false;
  for (auto& row : manager_list("AuditLog", g_variant_new_parsed("({'limit': <@u 1000>},)")))
    audited = audited || (row["event"] == "grant" && row["outcome"] == "deny" &&
                          row["rule"].find("narrower path refused") != std::string::npos);
  EXPECT_TRUE(audited);
}

INSTANTIATE_TEST_SUITE_P(Paths, PortalNarrowerRefused,
                         ::testing::Values("sibling", "prefix", "parent", "dotdot", "relative", "symlink", "file",
                                           "missing", "deny_list", "policy_deny"),
                         [](const ::testing::TestParamInfo<const char*>& param) { return std::string(param.param); });

TEST_F(PortalNarrower, TheGuisChooserGrantsTheNarrowerFolder) {
  static std::atomic<int> counter{0};
  QString name = QStringLiteral("narrower-%1").arg(++counter);
  QDBusConnection bus = QDBusConnection::connectToBus(QString::fromUtf8(getenv("DBUS_SESSION_BUS_ADDRESS")), name);
  {
    gui::App app(bus);
    QString why;
    ASSERT_TRUE(app.start(true, &why)) << why.toStdString();
    gui::PromptWindow* prompt = app.prompt_window();
    prompt->choose_folder = [&](QWidget*, const QString& start) {
      EXPECT_EQ(start.toStdString(), project_);
      return QString::fromStdString(docs_);
    };
    auto agent = start_agent({}, "airlock-request folder " + project_ + " && cat " + docs_ + "/guide; cat " + project_ +
                                     "/README");
    ASSERT_TRUE(spin_until([&] { return prompt->current() != nullptr; })) << agent->err();
    QTest::mouseClick(prompt->findChild<QPushButton*>(QStringLiteral("choose-path")), Qt::LeftButton);
    QTest::mouseClick(prompt->findChild<QPushButton*>(QStringLiteral("allow-once")), Qt::LeftButton);
    int status = -1;
    spin_until([&] { return (status = agent->wait(std::chrono::milliseconds(20))) != -1; }, 60000);
    EXPECT_NE(agent->out().find("the guide"), std::string::npos) << agent->out() << agent->err();
    EXPECT_EQ(agent->out().find("project readme"), std::string::npos) << agent->out();
  }
  QDBusConnection::disconnectFromBus(name);
}

}  // namespace
}  // namespace airlock::test
