// Desktop integration: the Flatpak manifest's shape and permissions, and
// D-Bus activation of the prompter through the service file this build
// installs. (desktop-file-validate and appstreamcli run as their own tests.)
#include <gtest/gtest.h>
#include <signal.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>
#include <fstream>
#include <sstream>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

QJsonObject manifest() {
  QFile file(QString::fromUtf8(env_or_die("AIRLOCK_SOURCE_DIR").c_str()) + QStringLiteral("/flatpak/org.airlock.Prompter.json"));
  EXPECT_TRUE(file.open(QIODevice::ReadOnly));
  QJsonParseError error{};
  QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
  EXPECT_EQ(error.error, QJsonParseError::NoError) << error.errorString().toStdString();
  return document.object();
}

TEST(FlatpakManifest, BuildsTheGuiAloneAsTheAppThatOwnsThePrompterName) {
  QJsonObject m = manifest();
  EXPECT_EQ(m.value(QStringLiteral("id")).toString(), QStringLiteral("org.airlock.Prompter"));
  EXPECT_EQ(m.value(QStringLiteral("command")).toString(), QStringLiteral("airlock-gui"));
  EXPECT_FALSE(m.value(QStringLiteral("runtime")).toString().isEmpty());
  EXPECT_FALSE(m.value(QStringLiteral("runtime-version")).toString().isEmpty());
  EXPECT_FALSE(m.value(QStringLiteral("sdk")).toString().isEmpty());
  QJsonArray modules = m.value(QStringLiteral("modules")).toArray();
  ASSERT_FALSE(modules.isEmpty());
  QJsonObject gui = modules.last().toObject();
  EXPECT_EQ(gui.value(QStringLiteral("buildsystem")).toString(), QStringLiteral("meson"));
  QStringList options;
  for (const auto& option : gui.value(QStringLiteral("config-opts")).toArray()) options << option.toString();
  // The portal and the launcher stay on the host.
  EXPECT_TRUE(options.contains(QStringLiteral("-Ddaemons=false"))) << options.join(QLatin1Char(' ')).toStdString();
  EXPECT_TRUE(options.contains(QStringLiteral("-Dtests=false")));
  EXPECT_FALSE(gui.value(QStringLiteral("sources")).toArray().isEmpty());
}

TEST(FlatpakManifest, TalksToThePortalOnlyAndSeesNoFiles) {
  QStringList talk, own, other;
  for (const auto& value : manifest().value(QStringLiteral("finish-args")).toArray()) {
    QString arg = value.toString();
    if (arg.startsWith(QStringLiteral("--talk-name="))) talk << arg.mid(12);
    else if (arg.startsWith(QStringLiteral("--own-name="))) own << arg.mid(11);
    else other << arg;
  }
  EXPECT_EQ(talk, QStringList{QStringLiteral("org.airlock.Portal")});
  EXPECT_EQ(own, QStringList{QStringLiteral("org.airlock.Prompter")});
  const QStringList allowed = {QStringLiteral("--socket=wayland"), QStringLiteral("--socket=fallback-x11"),
                               QStringLiteral("--share=ipc"), QStringLiteral("--device=dri")};
  for (const QString& arg : other)
    EXPECT_TRUE(allowed.contains(arg)) << "unexpected permission " << arg.toStdString()
                                       << " (no file system, network, session bus or system bus)";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class PrompterActivation : public PortalTest {
 protected:
  void TearDown() override {
    if (gui_pid_ > 0) kill(gui_pid_, SIGTERM);
    PortalTest::TearDown();
  }
  pid_t gui_pid_ = -1;
};

TEST_F(PrompterActivation, TheFirstRequestStartsTheGuiThroughItsServiceFile) {
  // The service file this build installs, with the built binary in place
  // of the installed one.
  std::string installed = read_text(env_or_die("AIRLOCK_BUILD_DIR") + "/data/org.airlock.Prompter.service");
  ASSERT_NE(installed.find("Name=org.airlock.Prompter\n"), std::string::npos) << installed;
  size_t exec = installed.find("Exec=");
  ASSERT_NE(exec, std::string::npos);
  std::string line = installed.substr(exec + 5, installed.find('\n', exec) - exec - 5);
  std::string arguments = line.substr(line.find(' '));
  EXPECT_EQ(arguments, " --prompter") << "no window until there is a request";
  Scratch::write_file(scratch_.path("services") + "/org.airlock.Prompter.service",
                      "[D-BUS Service]\nName=org.airlock.Prompter\nExec=" + env_or_die("AIRLOCK_GUI_BIN") + arguments + "\n");
  // The bus looks in its service folders again for a name it does not know.
  g_autoptr(GError) error = nullptr;

  auto agent = start_agent({}, "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  // The request waits for a person in the started GUI instead of failing
  // for want of a prompter (the fixture's portal gives up after 3 s).
  std::string id;
  for (int i = 0; i < 200 && id.empty(); ++i) {
    auto pending = manager_list("ListPending");
    if (!pending.empty()) id = pending[0]["id"];
    else g_usleep(20000);
  }
  ASSERT_FALSE(id.empty()) << agent->err();
  g_autoptr(GVariant) owner = nullptr;
  for (int i = 0; i < 250 && !owner; ++i) {
    g_clear_error(&error);
    owner = g_dbus_connection_call_sync(connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                        "GetConnectionUnixProcessID", g_variant_new("(s)", "org.airlock.Prompter"),
                                        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, &error);
    if (!owner) g_usleep(20000);
  }
  ASSERT_NE(owner, nullptr) << "nobody owns org.airlock.Prompter: " << error->message;
  guint32 pid = 0;
  g_variant_get(owner, "(u)", &pid);
  gui_pid_ = static_cast<pid_t>(pid);
  std::string exe = read_text("/proc/" + std::to_string(pid) + "/cmdline");
  EXPECT_NE(exe.find("airlock-gui"), std::string::npos) << exe;
  EXPECT_NE(exe.find("--prompter"), std::string::npos) << exe;
  // Answered elsewhere, the request leaves the GUI and the agent goes on.
  ASSERT_TRUE(answer(id, true, "once"));
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_NE(agent->out().find("project readme"), std::string::npos);
}

TEST_F(PrompterActivation, ASecondStartShowsTheRunningOneInstead) {
  Scratch::write_file(scratch_.path("services") + "/org.airlock.Prompter.service",
                      "[D-BUS Service]\nName=org.airlock.Prompter\nExec=" + env_or_die("AIRLOCK_GUI_BIN") + " --prompter\n");
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) started = g_dbus_connection_call_sync(
      connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "StartServiceByName",
      g_variant_new("(su)", "org.airlock.Prompter", 0u), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 20000, nullptr, &error);
  ASSERT_NE(started, nullptr) << error->message;
  g_autoptr(GVariant) owner = g_dbus_connection_call_sync(
      connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new("(s)", "org.airlock.Prompter"), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, &error);
  ASSERT_NE(owner, nullptr) << error->message;
  guint32 pid = 0;
  g_variant_get(owner, "(u)", &pid);
  gui_pid_ = static_cast<pid_t>(pid);
  // From the menu, while it runs: the running one is asked to show its window.
  Options second = options();
  second.timeout = std::chrono::seconds(20);
  Result result = run({env_or_die("AIRLOCK_GUI_BIN")}, second);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(kill(gui_pid_, 0), 0) << "the first one is still the prompter";
}

TEST_F(PrompterActivation, OnlyThePortalMayAsk) {
  // Anyone on the session bus could call Prompt; the GUI serves only the portal.
  std::string service = scratch_.path("services") + "/org.airlock.Prompter.service";
  Scratch::write_file(service, "[D-BUS Service]\nName=org.airlock.Prompter\nExec=" + env_or_die("AIRLOCK_GUI_BIN") +
                                   " --prompter\n");
  // The bus looks in its service folders again for a name it does not know.
  g_autoptr(GError) error = nullptr;
  manager_list("ListSessions");  // the portal is up, so the check has an owner to compare with
  GVariantBuilder details;
  g_variant_builder_init(&details, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&details, "{sv}", "kind", g_variant_new_string("folder"));
  g_variant_builder_add(&details, "{sv}", "resource", g_variant_new_string("/home"));
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      connection(), "org.airlock.Prompter", "/org/airlock/Prompter", "org.airlock.impl.Prompter", "Prompt",
      g_variant_new("(sa{sv})", "1", &details), G_VARIANT_TYPE("(ua{sv})"), G_DBUS_CALL_FLAGS_NONE, 20000, nullptr, &error);
  ASSERT_EQ(reply, nullptr) << "a stranger's Prompt was taken";
  g_autofree char* remote = g_dbus_error_get_remote_error(error);
  EXPECT_STREQ(remote, "org.freedesktop.DBus.Error.AccessDenied") << error->message;
  g_autoptr(GVariant) owner = g_dbus_connection_call_sync(
      connection(), "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new("(s)", "org.airlock.Prompter"), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
  if (owner) {
    guint32 pid = 0;
    g_variant_get(owner, "(u)", &pid);
    gui_pid_ = static_cast<pid_t>(pid);
  }
}

}  // namespace
}  // namespace airlock::test
