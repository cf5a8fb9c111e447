#include "session_ca.h"

#include <gio/gunixinputstream.h>

#include <cerrno>
#include <utility>

#include "certificate_host.h"

namespace airlock {

namespace {

constexpr size_t kMaxOutput = 64 * 1024;  // a certificate and its key are about 1 KiB

// Starts `HELPER MODE [ARGUMENT]` with INPUT on its stdin (a sealed memfd,
// as secrets leave a process; none: /dev/null), its stdout and stderr in
// pipes. GLib reaps it as soon as it exits.
GSubprocess* spawn_helper(const std::string& helper, const char* mode, const std::string* argument,
                          const SecretBytes* input, GError** error) {
  const auto flags = static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(flags);
  if (input) {
    int memfd = input->to_sealed_memfd();
    if (memfd < 0) {
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot hand the CA to %s: %s", helper.c_str(),
                  g_strerror(errno));
      return nullptr;
    }
    g_subprocess_launcher_take_stdin_fd(launcher, memfd);
  }
  const char* argv[] = {helper.c_str(), mode, argument ? argument->c_str() : nullptr, nullptr};
  g_autoptr(GError) spawn_error = nullptr;
  GSubprocess* process = g_subprocess_launcher_spawnv(launcher, argv, &spawn_error);
  if (!process)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot run %s: %s (reinstall airlock)", helper.c_str(),
                spawn_error->message);
  return process;
}

// What PROCESS (a spawn_helper()) writes to stdout, to the end, within
// TIMEOUT_MS; its stderr (a line at most) is the reason when it fails. A
// helper that hangs or writes too much is stopped.
bool collect_helper(GSubprocess* process, int timeout_ms, SecretBytes* output, GError** error) {
  int out = g_unix_input_stream_get_fd(G_UNIX_INPUT_STREAM(g_subprocess_get_stdout_pipe(process)));
  SecretBytes produced;
  if (!SecretBytes::read_fd(out, kMaxOutput, &produced, timeout_ms)) {
    const int read_errno = errno;
    g_subprocess_force_exit(process);
    g_subprocess_wait(process, nullptr, nullptr);
    if (read_errno == ETIMEDOUT)
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "airlock-session-ca did not finish within %d ms: stopped",
                  timeout_ms);
    else
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot read what airlock-session-ca made: %s",
                  g_strerror(read_errno));
    return false;
  }
  std::string said(1024, '\0');
  gsize length = 0;
  g_input_stream_read_all(g_subprocess_get_stderr_pipe(process), said.data(), said.size(), &length, nullptr, nullptr);
  said.resize(length);
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  g_subprocess_wait(process, nullptr, nullptr);
  const bool exited = g_subprocess_get_if_exited(process);
  const int status = exited ? g_subprocess_get_exit_status(process) : -1;
  if (status != 0) {
    if (said.empty())
      said = exited ? "airlock-session-ca ended with exit status " + std::to_string(status)
                    : "airlock-session-ca was killed by a signal";
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", said.c_str());
    return false;
  }
  *output = std::move(produced);
  return true;
}

}  // namespace

bool SessionCa::is_valid_host(const std::string& host) { return is_certificate_host(host); }

SessionCa::Ahead::Ahead(const std::string& helper) : helper_(helper), started_(g_get_monotonic_time()) {
  process_ = spawn_helper(helper, "ca", nullptr, nullptr, &spawn_error_);
}

SessionCa::Ahead::~Ahead() {
  if (process_) {
    g_subprocess_force_exit(process_);
    g_object_unref(process_);
  }
  g_clear_error(&spawn_error_);
}

std::unique_ptr<SessionCa> SessionCa::Ahead::take(GError** error, int timeout_ms) {
  if (spawn_error_) {
    g_propagate_error(error, std::exchange(spawn_error_, nullptr));
    return nullptr;
  }
  if (!process_) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "this CA was taken already");
    return nullptr;
  }
  g_autoptr(GSubprocess) process = std::exchange(process_, nullptr);
  std::unique_ptr<SessionCa> ca(new SessionCa());
  ca->helper_ = helper_;
  ca->timeout_ms_ = timeout_ms;
  if (!collect_helper(process, timeout_ms, &ca->ca_pem_, error)) return nullptr;
  // The certificate first, then the key (airlock-session-ca's output).
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----\n";
  const size_t end = ca->ca_pem_.view().find(kEnd);
  if (ca->ca_pem_.view().rfind("-----BEGIN CERTIFICATE-----", 0) != 0 || end == std::string_view::npos ||
      ca->ca_pem_.view().find("PRIVATE KEY-----", end) == std::string_view::npos) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "airlock-session-ca did not write a certificate and its key");
    return nullptr;
  }
  ca->certificate_pem_ = std::string(ca->ca_pem_.view().substr(0, end + kEnd.size()));
  return ca;
}

std::unique_ptr<SessionCa> SessionCa::create(const std::string& helper, GError** error, int timeout_ms) {
  return Ahead(helper).take(error, timeout_ms);
}

SessionCa::~SessionCa() {
  for (auto& [host, certificate] : leaves_) g_object_unref(certificate);
}

GTlsCertificate* SessionCa::server_certificate(const std::string& host, GError** error) {
  if (!is_valid_host(host)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "cannot make a TLS certificate for that host: it is not a DNS name or an IP address");
    return nullptr;
  }
  g_autofree char* lowered = g_ascii_strdown(host.c_str(), -1);
  const std::string name(lowered);
  if (auto found = leaves_.find(name); found != leaves_.end()) return G_TLS_CERTIFICATE(g_object_ref(found->second));

  // The leaf and its key, in memory that is wiped once GIO has them.
  SecretBytes pem;
  g_autoptr(GSubprocess) process = spawn_helper(helper_, "leaf", &name, &ca_pem_, error);
  if (!process || !collect_helper(process, timeout_ms_, &pem, error)) return nullptr;
  GTlsCertificate* certificate = g_tls_certificate_new_from_pem(pem.data(), static_cast<gssize>(pem.size()), error);
  if (certificate == nullptr) return nullptr;
  leaves_.emplace(name, certificate);
  return G_TLS_CERTIFICATE(g_object_ref(certificate));
}

}  // namespace airlock
