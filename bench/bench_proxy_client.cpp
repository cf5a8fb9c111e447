// bench-proxy-client: the client half of bench-proxy. The same program runs
// on the host (direct, and through the portal's proxy socket) and inside the
// sandboxes (Airlock's, sandbox-runtime's), against bench-proxy's loopback
// server, and writes its measurements to stdout as "key value" lines:
//   bench-proxy-client ROUTE HOST PORT SETUPS BYTES
//     ROUTE  direct      TCP to HOST:PORT
//            env         an HTTP CONNECT tunnel through the proxy that
//                        HTTPS_PROXY (or https_proxy, HTTP_PROXY, http_proxy)
//                        names, with its credentials when it has some
//            unix:PATH   a CONNECT tunnel through the proxy listening on PATH
//     SETUPS connections, each timed from socket(2) to the echo of one byte
//            (after 20 untimed ones)
//     BYTES  sent to the server's sink, then received from its source, each
//            through one fresh connection of the same route
//   bench-proxy-client hold TOKEN
//            sleeps until killed: a sandbox kept open for bench-proxy to reach
//            its proxy socket from the host (TOKEN names it in ps)
// The server speaks: 'e' echoes everything; 'u' + 8 bytes N: sinks N bytes,
// then answers N in 8 bytes; 'd' + 8 bytes N: sends N bytes.
// A benchmark helper, not a test: it reports, it never judges.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kWarmup = 20;
constexpr size_t kChunk = 256 * 1024;

[[noreturn]] void die(const std::string& what) {
  fprintf(stderr, "bench-proxy-client: %s\n", what.c_str());
  exit(1);
}

[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + strerror(errno)); }

double now_ms() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Route {
  enum class Kind { kDirect, kTcpProxy, kUnixProxy } kind = Kind::kDirect;
  std::string host, port;  // the proxy's, for kTcpProxy
  std::string path;        // kUnixProxy
  std::string auth;        // "Proxy-Authorization: ...\r\n" or empty
};

std::string base64(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string percent_decode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      out += static_cast<char>(strtol(in.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

// http://[USER:PASS@]HOST:PORT[/], as the proxy variables name it.
Route route_from_environment() {
  const char* value = nullptr;
  for (const char* name : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"})
    if ((value = getenv(name)) && *value) break;
  if (!value || !*value) die("no HTTPS_PROXY or HTTP_PROXY in the environment: is the network proxied here?");
  std::string url = value;
  if (url.rfind("http://", 0) != 0) die("the proxy variable is not an http:// URL: " + url);
  url = url.substr(7);
  url = url.substr(0, url.find('/'));
  Route route;
  route.kind = Route::Kind::kTcpProxy;
  size_t at = url.rfind('@');
  if (at != std::string::npos) {
    route.auth = "Proxy-Authorization: Basic " + base64(percent_decode(url.substr(0, at))) + "\r\n";
    url = url.substr(at + 1);
  }
  size_t colon = url.rfind(':');
  if (colon == std::string::npos) die("the proxy variable names no port: " + std::string(value));
  route.host = url.substr(0, colon);
  route.port = url.substr(colon + 1);
  if (route.host.size() > 2 && route.host.front() == '[') route.host = route.host.substr(1, route.host.size() - 2);
  return route;
}

void set_timeouts(int fd) {
  struct timeval tv {30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int tcp_connect(const std::string& host, const std::string& port) {
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* found = nullptr;
  int error = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) die("cannot resolve " + host + ": " + gai_strerror(error));
  int fd = -1;
  for (struct addrinfo* a = found; a; a = a->ai_next) {
    fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) die_errno("cannot connect to " + host + ":" + port);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_timeouts(fd);
  return fd;
}

int unix_connect(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("socket");
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) die("the socket path is too long: " + path);
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0)
    die_errno("cannot connect to " + path);
  set_timeouts(fd);
  return fd;
}

void send_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = send(fd, p, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die_errno("send");
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void receive_all(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = recv(fd, p, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno("recv");
    if (n == 0) die("the connection closed early");
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// A connection to HOST:PORT by ROUTE, ready for the server's bytes; the time
// its tunnel was up (the CONNECT's 200, or the TCP connect when direct) in
// SETUP_MS.
int open_to(const Route& route, const std::string& host, const std::string& port, double* setup_ms) {
  double start = now_ms();
  if (route.kind == Route::Kind::kDirect) {
    int fd = tcp_connect(host, port);
    if (setup_ms) *setup_ms = now_ms() - start;
    return fd;
  }
  int fd = route.kind == Route::Kind::kTcpProxy ? tcp_connect(route.host, route.port) : unix_connect(route.path);
  std::string request = "CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n" +
                        route.auth + "\r\n";
  send_all(fd, request.data(), request.size());
  // The head, a byte at a time: nothing of the tunnel may be read with it.
  std::string head;
  while (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0) {
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die_errno("reading the proxy's answer");
    if (n == 0) die("the proxy closed the connection before answering the CONNECT: " + head);
    head += c;
    if (head.size() > 16384) die("the proxy's answer has no end");
  }
  if (head.rfind("HTTP/1.1 200", 0) != 0 && head.rfind("HTTP/1.0 200", 0) != 0)
    die("the proxy refused the CONNECT to " + host + ":" + port + ": " + head.substr(0, head.find('\r')));
  if (setup_ms) *setup_ms = now_ms() - start;
  return fd;
}

void print_list(const char* key, const std::vector<double>& values) {
  printf("%s ", key);
  for (size_t i = 0; i < values.size(); ++i) printf("%s%.4f", i ? "," : "", values[i]);
  printf("\n");
}

void put_u64(char* out, uint64_t value) {
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<char>(value & 0xff);
}

uint64_t get_u64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | static_cast<unsigned char>(in[i]);
  return value;
}

int measure(const Route& route, const std::string& host, const std::string& port, int setups, uint64_t bytes) {
  std::vector<double> setup, first_byte;
  for (int i = 0; i < kWarmup + setups; ++i) {
    double start = now_ms(), up = 0;
    int fd = open_to(route, host, port, &up);
    char c = 'e';
    send_all(fd, &c, 1);
    receive_all(fd, &c, 1);
    double end = now_ms();
    if (c != 'e') die("the echo server answered something else");
    close(fd);
    if (i >= kWarmup) {
      setup.push_back(up);
      first_byte.push_back(end - start);
    }
  }
  print_list("setup.ms", setup);
  print_list("first_byte.ms", first_byte);

  std::vector<char> buffer(kChunk, 'x');
  {
    int fd = open_to(route, host, port, nullptr);
    char header[9] = {'u'};
    put_u64(header + 1, bytes);
    double start = now_ms();
    send_all(fd, header, sizeof header);
    for (uint64_t left = bytes; left > 0;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(left, kChunk));
      send_all(fd, buffer.data(), n);
      left -= n;
    }
    char ack[8];
    receive_all(fd, ack, sizeof ack);
    double ms = now_ms() - start;
    if (get_u64(ack) != bytes) die("the sink counted another number of bytes than were sent");
    close(fd);
    printf("upload.ms %.3f\n", ms);
  }
  {
    int fd = open_to(route, host, port, nullptr);
    char header[9] = {'d'};
    put_u64(header + 1, bytes);
    double start = now_ms();
    send_all(fd, header, sizeof header);
    for (uint64_t left = bytes; left > 0;) {
      ssize_t n = recv(fd, buffer.data(), static_cast<size_t>(std::min<uint64_t>(left, kChunk)), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) die_errno("recv");
      if (n == 0) die("the source closed the connection early");
      left -= static_cast<uint64_t>(n);
    }
    double ms = now_ms() - start;
    close(fd);
    printf("download.ms %.3f\n", ms);
  }
  printf("done 1\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "hold") == 0) {
    for (;;) pause();
  }
  if (argc != 6) {
    fprintf(stderr, "usage: %s direct|env|unix:PATH HOST PORT SETUPS BYTES\n       %s hold TOKEN\n", argv[0], argv[0]);
    return 2;
  }
  Route route;
  std::string how = argv[1];
  if (how == "env") route = route_from_environment();
  else if (how.rfind("unix:", 0) == 0) route.kind = Route::Kind::kUnixProxy, route.path = how.substr(5);
  else if (how != "direct") die("unknown route " + how);
  int setups = atoi(argv[4]);
  uint64_t bytes = strtoull(argv[5], nullptr, 10);
  if (setups < 1 || bytes < 1) die("SETUPS and BYTES must be positive");
  return measure(route, argv[2], argv[3], setups, bytes);
}
