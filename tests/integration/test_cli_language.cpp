// The command-line programs speak the person's language: their messages are
// in the "airlock" catalogue (po/), which the German translation completes.
// LANGUAGE picks the language; C.UTF-8 is there on every glibc system (in
// the plain "C" locale gettext ignores LANGUAGE).
#include <gtest/gtest.h>

#include <string>

#include "sandbox_runner.h"

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
