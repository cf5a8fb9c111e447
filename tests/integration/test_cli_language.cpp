// The command-line programs speak the person's language: their messages are
// in the "airlock" catalogue (po/), which the German translation completes.
// LANGUAGE picks the language; C.UTF-8 is there on every glibc system (in
// the plain "C" locale gettext ignores LANGUAGE).
#include <gtest/gtest.h>

#include <string>

#include "portal_fixture.h"
#include "sandbox_runner.h"
#include "terminal.h"

namespace airlock::test {
namespace {

Options in_german() {
  Options options;
  options.env["LC_ALL"] = "C.UTF-8";
  options.env["LANGUAGE"] = "de";
  return options;
}

std::string next_to_airlock(const std::string& name) {
  std::string airlock = airlock_binary();
  return airlock.substr(0, airlock.rfind('/') + 1) + name;
}

TEST(CliLanguage, AirlockSpeaksGerman) {
  Result result = airlock({"frobnicate"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("unbekannter Befehl"), std::string::npos) << result.err;

  result = airlock({"--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Befehle:"), std::string::npos) << result.out;
}

TEST(CliLanguage, EnglishWithoutALanguage) {
  Options options;
  options.env["LC_ALL"] = "C.UTF-8";
  options.env["LANGUAGE"] = "en";
  Result result = airlock({"frobnicate"}, options);
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos) << result.err;
}

TEST(CliLanguage, AirlockRequestSpeaksGerman) {
  Result result = run({next_to_airlock("airlock-request"), "frobnicate"}, in_german());
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("unbekannter Befehl"), std::string::npos) << result.err;
}

// Its commands too: their errors, and the help GOptionContext writes from
// entries and a summary it translates in the "airlock" domain.
TEST(CliLanguage, AirlockRequestCommandsSpeakGerman) {
  std::string request = next_to_airlock("airlock-request");
  Result result = run({request, "folder"}, in_german());
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("welcher Ordner? Geben Sie einen PATH an"), std::string::npos) << result.err;

  Options outside = in_german();
  outside.unset_env.push_back("AIRLOCK_PORTAL_ADDRESS");
  result = run({request, "grants"}, outside);
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("nicht in einer Airlock-Sandbox"), std::string::npos) << result.err;

  result = run({request, "folder", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("um den Ordner PATH des Rechners bitten"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Auch um Schreibzugriff bitten"), std::string::npos) << result.out;

  result = run({request, "secret", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Den Wert auf der Standardausgabe ausgeben"), std::string::npos) << result.out;
}

TEST(CliLanguage, AirlockSecretSpeaksGerman) {
  Result result = airlock({"secret", "frobnicate"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("unbekanntes Verb „frobnicate“"), std::string::npos) << result.err;

  result = airlock({"secret", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Wo „add“ den Wert ablegt"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Die Geheimnisse verwalten"), std::string::npos) << result.out;
}

TEST(CliLanguage, ManageCommandsSpeakGerman) {
  Result result = airlock({"forget", "abc"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("„abc“ ist keine Kennung einer dauerhaften Freigabe"), std::string::npos) << result.err;

  // GOptionContext translates the summary and the options in airlock's domain.
  result = airlock({"log", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Das Prüfprotokoll zeigen"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Nur die neuesten N Zeilen"), std::string::npos) << result.out;

  result = airlock({"log", "--limit", "0"}, in_german());
  EXPECT_NE(result.err.find("ist keine Anzahl von Zeilen"), std::string::npos) << result.err;
}

TEST(CliLanguage, PolicyCheckSpeaksGerman) {
  Result result = airlock({"policy", "check", "disk", "/"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("unbekannte Art „disk“"), std::string::npos) << result.err;

  result = airlock({"policy", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Nach Schreibzugriff fragen"), std::string::npos) << result.out;
}

TEST(CliLanguage, AirlockPromptSpeaksGerman) {
  Result result = airlock({"prompt", "--answer=maybe"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("--answer muss allow oder deny sein, nicht „maybe“"), std::string::npos) << result.err;

  // GOptionContext translates the options' descriptions in airlock's domain.
  result = airlock({"prompt", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Nur die Anfragen dieser Sitzung beantworten"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--timeout=SEKUNDEN"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Ohne --answer wird jede Anfrage"), std::string::npos) << result.out;
}

// The terminal prompt asks in German, and the keys typed stay o, t, a, n.
using CliLanguagePrompt = PortalTest;

TEST_F(CliLanguagePrompt, TheTerminalPromptAsksInGermanAndTakesTheSameKeys) {
  Options german = options();
  german.env["LC_ALL"] = "C.UTF-8";
  german.env["LANGUAGE"] = "de";
  Terminal terminal({"prompt"}, german, 40, 120);
  ASSERT_TRUE(terminal.expect("warte auf anfragen")) << terminal.tail();
  auto agent = start_agent({}, "airlock-request folder " + project_ + " --reason 'die Doku lesen' && cat " + project_ +
                                   "/README");
  ASSERT_TRUE(terminal.expect("möchte nur-lese-zugriff auf den ordner")) << terminal.tail();
  EXPECT_TRUE(terminal.expect("der agent sagt (seine eigenen worte, nicht geprüft)")) << terminal.tail();
  ASSERT_TRUE(terminal.expect("erlauben? [o] einmal / [t] aufgabe / [a] dauerhaft / [n]ein:")) << terminal.tail();
  terminal.type("x\n");
  ASSERT_TRUE(terminal.expect("antworten sie mit o, t, a oder n")) << terminal.tail();
  terminal.type("o\n");
  EXPECT_TRUE(terminal.expect("einmal erlaubt")) << terminal.tail();
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_NE(agent->out().find("project readme"), std::string::npos) << agent->out();
}

TEST(CliLanguage, AirlockRunSpeaksGerman) {
  // GLib translates the options' descriptions in airlock's domain.
  Result result = airlock({"run", "--help"}, in_german());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("Den Plan ausgeben und nichts starten"), std::string::npos) << result.out;

  result = airlock({"run", "--prompt=bogus", "--", "true"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("--prompt=bogus: Geben Sie auto, tty oder none an"), std::string::npos) << result.err;

  // A whole sentence around the path, from the path resolution the portal shares.
  result = airlock({"run", "--ro", "/surely/not/here", "--", "true"}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("/surely/not/here existiert nicht"), std::string::npos) << result.err;
}

TEST(CliLanguage, AirlockInitSpeaksGerman) {
  Result result = run({next_to_airlock("airlock-init")}, in_german());
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("airlock-init braucht einen Befehl"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace airlock::test
