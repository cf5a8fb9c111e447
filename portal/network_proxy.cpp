#include "network_proxy.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "intercepted_tunnel.h"
#include "proxy_relay.h"

namespace airlock {

namespace {

constexpr int kAcceptBurst = 64;               // accepts per wake-up, so one flood cannot starve the loop
constexpr unsigned kAcceptPauseMs = 100;       // after EMFILE and the like, instead of spinning
constexpr unsigned kReplyTimeoutMs = 5000;     // writing a refusal or a short reply to the client
constexpr size_t kReadChunk = 16 * 1024;

enum class Phase {
  kHead,                // reading the request head or the SOCKS greeting
  kSocksGreetingReply,  // writing the chosen method
  kSocksRequest,        // reading the SOCKS request
  kDeciding,            // waiting for ProxyDecider::decide()
  kResolving,
  kConnecting,
  kReplying,  // writing "200 Connection established" or the SOCKS success
  kRelaying,
  kRefusing,  // writing the refusal, then closing
  kClosed,
};

enum class Refusal {
  kDenied,          // by the decider, or a forbidden address
  kBadRequest,      // malformed input
  kTooLarge,        // a head over the limit
  kHeadTimeout,     // no complete request in time
  kUnresolved,      // the name does not resolve
  kUnreachable,     // no route, or any other connection failure
  kRefused,         // the origin refused the connection
  kConnectTimeout,  // no connection in time
};

const char* http_status(Refusal refusal) {
  switch (refusal) {
    case Refusal::kDenied:
      return "403 Forbidden";
    case Refusal::kBadRequest:
      return "400 Bad Request";
    case Refusal::kTooLarge:
      return "431 Request Header Fields Too Large";
    case Refusal::kHeadTimeout:
      return "408 Request Timeout";
    case Refusal::kUnresolved:
    case Refusal::kUnreachable:
    case Refusal::kRefused:
      return "502 Bad Gateway";
    case Refusal::kConnectTimeout:
      return "504 Gateway Timeout";
    default:
      return "500 Internal Server Error";
  }
}

SocksReply socks_reply(Refusal refusal) {
  switch (refusal) {
    case Refusal::kDenied:
      return kSocksNotAllowed;
    case Refusal::kUnresolved:
    case Refusal::kUnreachable:
    case Refusal::kConnectTimeout:
      return kSocksHostUnreachable;
    case Refusal::kRefused:
      return kSocksConnectionRefused;
    case Refusal::kBadRequest:
    case Refusal::kTooLarge:
    case Refusal::kHeadTimeout:
    default:
      return kSocksGeneralFailure;
  }
}

std::string socks_message(uint8_t reply) {
  // VER REP RSV ATYP=IPv4 BND.ADDR=0.0.0.0 BND.PORT=0
  return std::string{'\x05', static_cast<char>(reply), '\0', '\x01', '\0', '\0', '\0', '\0', '\0', '\0'};
}

std::string address_string(GInetAddress* address) {
  g_autofree char* text = g_inet_address_to_string(address);
  return text;
}

struct Connection;

}  // namespace

struct SessionProxy::Impl {
  Impl(ProxyDecider* decider_, ProxyLimits limits_);
  ~Impl();
  void arm_accept();
  void pause_accept();
  static gboolean on_incoming(GSocket* socket, GIOCondition condition, gpointer data);
  static gboolean on_pause_over(gpointer data);

  ProxyDecider* decider;
  ProxyLimits limits;
  GMainContext* context;
  GSocket* listener = nullptr;
  GSource* accept_source = nullptr;
  GSource* pause_source = nullptr;
  GSocketClient* socket_client;
  GResolver* resolver;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;
  uint64_t next_id = 1;
};

namespace {

// One client connection, from accept to close. Every pending asynchronous
// operation holds a reference; finish() cancels them and detaches it from
// the proxy, so late completions and late decisions find it closed.
struct Connection : std::enable_shared_from_this<Connection> {
  Connection(SessionProxy::Impl* proxy_, uint64_t id_, GSocketConnection* client_);
  ~Connection();

  using Ref = std::shared_ptr<Connection>;
  Ref* ref() { return new Ref(shared_from_this()); }
  GSocket* client_socket() const { return g_socket_connection_get_socket(client); }

  void start();
  void await_first();
  bool take_first(int fd, std::string* why);
  void read_more();
  void process();
  void begin_decision();
  void on_decided(bool allow, const std::string& reason, const std::string& grant,
                  std::shared_ptr<const ProxyInterception> with);
  void resolve();
  bool check_address(GInetAddress* address, bool literal);
  void connect_next();
  void on_upstream(GSocketConnection* connection);
  void start_relay();
  void write_client(std::string data);
  void refuse(Refusal refusal, const std::string& message);
  void finish(const std::string& outcome, const std::string& message);
  void set_timer(unsigned ms);
  void clear_timer();
  void watch_hangup(bool on);

  static void on_head_read(GObject* source, GAsyncResult* result, gpointer data);
  static void on_client_written(GObject* source, GAsyncResult* result, gpointer data);
  static void on_resolved(GObject* source, GAsyncResult* result, gpointer data);
  static void on_connected(GObject* source, GAsyncResult* result, gpointer data);
  static gboolean on_timer(gpointer data);
  static gboolean on_hangup(GSocket* socket, GIOCondition condition, gpointer data);
  static gboolean on_first_readable(GSocket* socket, GIOCondition condition, gpointer data);

  SessionProxy::Impl* proxy;  // nullptr once finished
  uint64_t id;
  GSocketConnection* client;
  GSocketConnection* upstream = nullptr;
  GCancellable* cancellable;       // everything: cancelled when the connection ends
  GCancellable* work_cancellable;  // resolution and connection: cancelled when refused
  GSource* timer = nullptr;        // the current phase's deadline
  GSource* hangup = nullptr;       // the client leaving while a decision is awaited
  GSource* first = nullptr;        // a unix client's first bytes, which may hand a socket over
  Phase phase = Phase::kHead;
  bool socks = false;
  std::string buffer;  // what was read and not yet used
  std::unique_ptr<char[]> chunk;
  std::string outgoing;  // being written to the client
  std::string first_up;  // for the origin before anything else
  ProxyTarget target;
  std::vector<GInetAddress*> addresses;
  size_t next_address = 0;
  Refusal connect_refusal = Refusal::kUnreachable;
  std::string connect_error;
  std::shared_ptr<ProxyRelay> relay;
  std::shared_ptr<const ProxyInterception> interception;  // for a host with a secret to put in
  std::shared_ptr<InterceptedTunnel> tunnel;              // instead of RELAY, then
  std::string decision_ticket;  // while a person is asked: for ProxyDecider::withdraw()
  std::string end_outcome, end_message;  // of a refusal being written
  ProxyReport report;
  int64_t started_us;
};

Connection::Connection(SessionProxy::Impl* proxy_, uint64_t id_, GSocketConnection* client_)
    : proxy(proxy_),
      id(id_),
      client(client_),
      cancellable(g_cancellable_new()),
      work_cancellable(g_cancellable_new()),
      chunk(std::make_unique<char[]>(kReadChunk)),
      started_us(g_get_monotonic_time()) {}

Connection::~Connection() {
  clear_timer();
  watch_hangup(false);
  if (first != nullptr) g_source_unref(first);  // its context went away
  for (auto* address : addresses) g_object_unref(address);
  g_clear_object(&upstream);
  g_clear_object(&client);
  g_clear_object(&work_cancellable);
  g_clear_object(&cancellable);
}

void Connection::set_timer(unsigned ms) {
  clear_timer();
  timer = g_timeout_source_new(ms);
  g_source_set_callback(timer, on_timer, this, nullptr);
  g_source_attach(timer, proxy->context);
}

void Connection::clear_timer() {
  if (timer == nullptr) return;
  g_source_destroy(timer);
  g_source_unref(timer);
  timer = nullptr;
}

void Connection::watch_hangup(bool on) {
  if (hangup != nullptr) {
    g_source_destroy(hangup);
    g_source_unref(hangup);
    hangup = nullptr;
  }
  if (!on) return;
  hangup = g_socket_create_source(client_socket(), static_cast<GIOCondition>(G_IO_HUP | G_IO_ERR), nullptr);
  g_source_set_callback(hangup, G_SOURCE_FUNC(on_hangup), this, nullptr);
  g_source_attach(hangup, proxy->context);
}

gboolean Connection::on_timer(gpointer data) {
  auto* self = static_cast<Connection*>(data);
  g_source_unref(self->timer);
  self->timer = nullptr;
  switch (self->phase) {
    case Phase::kHead:
    case Phase::kSocksGreetingReply:
    case Phase::kSocksRequest:
      if (self->socks || self->buffer.empty()) {
        self->finish("error", "airlock: no complete request within the time allowed");
      } else {
        self->refuse(Refusal::kHeadTimeout, "airlock: no complete request head within the time allowed");
      }
      break;
    case Phase::kResolving:
    case Phase::kConnecting:
      self->refuse(Refusal::kConnectTimeout,
                   "airlock: no connection to " + format_host_port(self->target.host, self->target.port) +
                       " within the time allowed");
      break;
    case Phase::kRefusing:
      self->finish(self->end_outcome, self->end_message);
      break;
    case Phase::kReplying:
    case Phase::kDeciding:
    case Phase::kRelaying:
    case Phase::kClosed:
    default:
      self->finish("error", "airlock: the client did not take the proxy's reply");
      break;
  }
  return G_SOURCE_REMOVE;
}

gboolean Connection::on_hangup(GSocket*, GIOCondition, gpointer data) {
  auto* self = static_cast<Connection*>(data);
  // Nobody waits for the answer any more: the person is not asked in vain.
  if (!self->decision_ticket.empty()) self->proxy->decider->withdraw(std::exchange(self->decision_ticket, ""));
  self->finish("error", "airlock: the client went away while the decision was awaited");
  return G_SOURCE_REMOVE;
}

void Connection::start() {
  set_timer(proxy->limits.head_timeout_ms);
  if (g_socket_get_family(client_socket()) == G_SOCKET_FAMILY_UNIX) return await_first();
  read_more();
}

// The first read of a unix client is a recvmsg, which sees a socket handed
// over; the source holds a reference until it fires or finish() cancels it.
void Connection::await_first() {
  first = g_socket_create_source(client_socket(), G_IO_IN, cancellable);
  g_source_set_callback(first, G_SOURCE_FUNC(on_first_readable), ref(),
                        [](gpointer data) { delete static_cast<Ref*>(data); });
  g_source_attach(first, proxy->context);
}

gboolean Connection::on_first_readable(GSocket*, GIOCondition, gpointer data) {
  auto& c = **static_cast<Ref*>(data);
  if (c.phase == Phase::kClosed) {  // finish() cancelled it
    g_source_unref(std::exchange(c.first, nullptr));
    return G_SOURCE_REMOVE;
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  iovec into = {c.chunk.get(), kReadChunk};
  msghdr message = {};
  message.msg_iov = &into;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t count = recvmsg(g_socket_get_fd(c.client_socket()), &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (count < 0 && (errno == EAGAIN || errno == EINTR)) return G_SOURCE_CONTINUE;
  g_source_unref(std::exchange(c.first, nullptr));
  const int read_errno = errno;
  // The space is for one descriptor: with more, MSG_CTRUNC is set and the
  // kernel has closed the rest.
  int handed = -1;
  size_t received = 0;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    for (size_t i = 0; i < (header->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i, ++received) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
      if (handed < 0) handed = fd;
      else close(fd);
    }
  }
  if (count < 0) {
    if (handed >= 0) close(handed);
    c.finish("error", std::string("airlock: reading the request: ") + g_strerror(read_errno));
  } else if (handed >= 0 || (count > 0 && c.chunk[0] == '\0')) {
    std::string why;
    if (count != 1 || c.chunk[0] != '\0' || (message.msg_flags & MSG_CTRUNC) != 0 || received != 1) {
      if (handed >= 0) close(handed);
      c.finish("error", "airlock: a connection handed over with something else than one TCP socket and a zero byte");
    } else if (!c.take_first(handed, &why)) {
      c.finish("error", "airlock: a connection handed over that cannot be served: " + why);
    } else {
      c.read_more();
    }
  } else if (count == 0) {
    c.finish("error", "airlock: the client closed without a request");
  } else {
    c.buffer.append(c.chunk.get(), static_cast<size_t>(count));
    c.process();
  }
  return G_SOURCE_REMOVE;
}

// FD, handed over, becomes the client: a TCP stream socket, or the
// connection ends (it is closed in every case).
bool Connection::take_first(int fd, std::string* why) {
  int type = 0, domain = 0;
  socklen_t length = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_STREAM ||
      (length = sizeof domain, getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length)) != 0 ||
      (domain != AF_INET && domain != AF_INET6)) {
    close(fd);
    *why = "not a TCP socket";
    return false;
  }
  g_autoptr(GError) error = nullptr;
  GSocket* socket = g_socket_new_from_fd(fd, &error);
  if (socket == nullptr) {
    close(fd);
    *why = error->message;
    return false;
  }
  g_io_stream_close(G_IO_STREAM(client), nullptr, nullptr);
  g_object_unref(client);
  client = g_socket_connection_factory_create_connection(socket);
  g_object_unref(socket);
  return true;
}

void Connection::read_more() {
  g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(client)), chunk.get(), kReadChunk,
                            G_PRIORITY_DEFAULT, cancellable, on_head_read, ref());
}

void Connection::on_head_read(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Ref> self(static_cast<Ref*>(data));
  auto& c = **self;
  g_autoptr(GError) error = nullptr;
  gssize count = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (c.phase == Phase::kClosed) return;
  if (count < 0) {
    c.finish("error", std::string("airlock: reading the request: ") + error->message);
  } else if (count == 0) {
    c.finish("error", c.buffer.empty() ? "airlock: the client closed without a request"
                                       : "airlock: the client closed in the middle of its request");
  } else {
    c.buffer.append(c.chunk.get(), static_cast<size_t>(count));
    c.process();
  }
}

void Connection::process() {
  if (phase == Phase::kHead && buffer.size() > 0 && buffer[0] == '\x05') socks = true;
  if (socks && phase == Phase::kHead) {
    size_t length = 0;
    bool no_auth = false;
    switch (parse_socks_greeting(buffer, &length, &no_auth)) {
      case ParseStatus::kIncomplete:
        read_more();
        return;
      case ParseStatus::kDone:
        break;
      case ParseStatus::kBad:
      case ParseStatus::kTooLarge:
      default:
        finish("error", "airlock: a malformed SOCKS5 greeting");
        return;
    }
    buffer.erase(0, length);
    if (!no_auth) {
      // Only "no authentication" is offered: the socket is the session's own.
      end_outcome = "error";
      end_message = "airlock: the SOCKS5 client offered no method without authentication";
      phase = Phase::kRefusing;
      set_timer(kReplyTimeoutMs);
      write_client(std::string("\x05\xff", 2));
      return;
    }
    phase = Phase::kSocksGreetingReply;
    write_client(std::string("\x05\x00", 2));
    return;
  }
  if (phase == Phase::kSocksRequest) {
    SocksRequest request;
    switch (parse_socks_request(buffer, &request)) {
      case ParseStatus::kIncomplete:
        read_more();
        return;
      case ParseStatus::kDone:
        break;
      case ParseStatus::kBad:
      case ParseStatus::kTooLarge:
      default:
        target = request.target;
        report.target = target;
        end_outcome = "error";
        end_message = request.error;
        phase = Phase::kRefusing;
        set_timer(kReplyTimeoutMs);
        write_client(socks_message(request.reply));
        return;
    }
    target = request.target;
    first_up = buffer.substr(request.length);
    buffer.clear();
    begin_decision();
    return;
  }
  HttpProxyRequest request;
  switch (parse_http_request(buffer, proxy->limits.max_head_bytes, &request)) {
    case ParseStatus::kIncomplete:
      read_more();
      return;
    case ParseStatus::kBad:
      refuse(Refusal::kBadRequest, request.error);
      return;
    case ParseStatus::kTooLarge:
      refuse(Refusal::kTooLarge, "airlock: the request head is larger than " +
                                     std::to_string(proxy->limits.max_head_bytes / 1024) + " KiB");
      return;
    case ParseStatus::kDone:
    default:
      break;
  }
  target = request.target;
  first_up = request.upstream_head + buffer.substr(request.head_length);
  buffer.clear();
  buffer.shrink_to_fit();
  begin_decision();
}

void Connection::begin_decision() {
  clear_timer();
  report.target = target;
  phase = Phase::kDeciding;
  // An address literal that no grant could name is refused before anyone is
  // asked about it.
  g_autoptr(GInetAddress) literal = g_inet_address_new_from_string(target.host.c_str());
  if (literal != nullptr && !check_address(literal, true)) return;
  watch_hangup(true);
  std::weak_ptr<Connection> weak = shared_from_this();
  std::string ticket = proxy->decider->decide(
      target, [weak](bool allow, const std::string& reason, const std::string& grant,
                     std::shared_ptr<const ProxyInterception> with) {
        if (auto self = weak.lock()) self->on_decided(allow, reason, grant, std::move(with));
      });
  if (phase == Phase::kDeciding) decision_ticket = ticket;
}

void Connection::on_decided(bool allow, const std::string& reason, const std::string& grant,
                            std::shared_ptr<const ProxyInterception> with) {
  if (phase != Phase::kDeciding) return;
  decision_ticket.clear();
  watch_hangup(false);
  report.grant = grant;
  if (target.protocol != "http") interception = std::move(with);
  if (interception) report.secret_grant = interception->grant;
  if (!allow) {
    refuse(Refusal::kDenied, reason.empty() ? "airlock: " + format_host_port(target.host, target.port) +
                                                  " is not granted to this session"
                                            : reason);
    return;
  }
  resolve();
}

// Names are resolved only after the decision: resolving first would let the
// agent send whatever it likes to the host's DNS server.
void Connection::resolve() {
  phase = Phase::kResolving;
  set_timer(proxy->limits.connect_timeout_ms);
  GInetAddress* literal = g_inet_address_new_from_string(target.host.c_str());
  if (literal != nullptr) {
    addresses.push_back(literal);
    connect_next();
    return;
  }
  g_resolver_lookup_by_name_async(proxy->resolver, target.host.c_str(), work_cancellable, on_resolved, ref());
}

void Connection::on_resolved(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Ref> self(static_cast<Ref*>(data));
  auto& c = **self;
  g_autoptr(GError) error = nullptr;
  GList* list = g_resolver_lookup_by_name_finish(G_RESOLVER(source), result, &error);
  if (c.phase != Phase::kResolving) {
    g_resolver_free_addresses(list);
    return;
  }
  if (list == nullptr) {
    c.refuse(Refusal::kUnresolved, "airlock: cannot resolve " + c.target.host + ": " +
                                       (error != nullptr ? error->message : "no address"));
    return;
  }
  for (auto* item = list; item != nullptr; item = item->next) {
    c.addresses.push_back(G_INET_ADDRESS(g_object_ref(item->data)));
  }
  g_resolver_free_addresses(list);
  // Every address is checked before any is used: a name that mixes public
  // and private addresses is refused as a whole.
  for (auto* address : c.addresses) {
    if (!c.check_address(address, false)) return;
  }
  c.connect_next();
}

bool Connection::check_address(GInetAddress* address, bool literal) {
  const char* forbidden = forbidden_address_class(address);
  if (forbidden == nullptr || proxy->decider->address_granted(target, address)) return true;
  auto text = address_string(address);
  report.address = text;
  refuse(Refusal::kDenied, literal ? "airlock: " + text + " is a " + forbidden +
                                         " address; only a grant that names it explicitly reaches it"
                                   : "airlock: " + target.host + " resolves to " + text + ", a " + forbidden +
                                         " address; only a grant that names it explicitly reaches it");
  return false;
}

void Connection::connect_next() {
  if (next_address >= addresses.size()) {
    refuse(connect_refusal, connect_error.empty() ? "airlock: cannot connect to " + target.host : connect_error);
    return;
  }
  phase = Phase::kConnecting;
  // Connect to the checked address itself, never by name again.
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new(addresses[next_address], target.port);
  g_socket_client_connect_async(proxy->socket_client, G_SOCKET_CONNECTABLE(address), work_cancellable, on_connected,
                                ref());
}

void Connection::on_connected(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Ref> self(static_cast<Ref*>(data));
  auto& c = **self;
  g_autoptr(GError) error = nullptr;
  GSocketConnection* connection = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result, &error);
  if (c.phase != Phase::kConnecting) {
    if (connection != nullptr) {
      g_socket_close(g_socket_connection_get_socket(connection), nullptr);
      g_object_unref(connection);
    }
    return;
  }
  if (connection == nullptr) {
    auto text = address_string(c.addresses[c.next_address]);
    c.report.address = text;
    c.connect_error = "airlock: cannot connect to " + format_host_port(text, c.target.port) + " for " +
                      c.target.host + ": " + error->message;
    c.connect_refusal = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ? Refusal::kRefused
                                                                                          : Refusal::kUnreachable;
    ++c.next_address;
    c.connect_next();
    return;
  }
  c.on_upstream(connection);
}

void Connection::on_upstream(GSocketConnection* connection) {
  // The address actually connected must be the one checked.
  auto* expected = addresses[next_address];
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(connection, nullptr);
  GInetAddress* remote_address = nullptr;
  bool same = false;
  if (remote != nullptr && G_IS_INET_SOCKET_ADDRESS(remote)) {
    remote_address = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote));
    same = g_inet_address_equal(remote_address, expected) &&
           g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote)) == target.port;
  }
  report.address = address_string(expected);
  if (!same || !check_address(remote_address, false)) {
    g_socket_close(g_socket_connection_get_socket(connection), nullptr);
    g_object_unref(connection);
    if (!same) refuse(Refusal::kDenied, "airlock: the connection to " + report.address + " ended elsewhere");
    return;
  }
  upstream = connection;
  g_socket_set_option(g_socket_connection_get_socket(upstream), IPPROTO_TCP, TCP_NODELAY, 1, nullptr);
  if (target.protocol == "http") {
    start_relay();
    return;
  }
  phase = Phase::kReplying;
  set_timer(kReplyTimeoutMs);
  write_client(target.protocol == "socks5" ? socks_message(kSocksSucceeded)
                                           : std::string("HTTP/1.1 200 Connection established\r\n\r\n"));
}

void Connection::start_relay() {
  clear_timer();
  phase = Phase::kRelaying;
  std::weak_ptr<Connection> weak = shared_from_this();
  auto done = [weak](const std::string& error) {
    if (auto self = weak.lock()) self->finish("allow", error.empty() ? "" : "airlock: " + error);
  };
  if (interception) {
    // The client's TLS starts after the proxy's reply; bytes sent ahead of
    // it cannot be handed to a TLS server any more.
    if (!first_up.empty()) return finish("error", "airlock: the client sent data before the tunnel was open");
    g_autoptr(GSocketConnectable) identity = g_network_address_new(target.host.c_str(), target.port);
    InterceptedTunnel::Options options;
    options.server_certificate = interception->certificate;
    options.origin_identity = identity;
    options.origin_database = interception->origin_database;
    options.injection = interception->injection;
    tunnel = InterceptedTunnel::start(client, upstream, std::move(options), done);
    return;
  }
  relay = ProxyRelay::start(client, upstream, std::move(first_up),
                            done);
}

void Connection::write_client(std::string data) {
  outgoing = std::move(data);
  g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(client)), outgoing.data(),
                                  outgoing.size(), G_PRIORITY_DEFAULT, cancellable, on_client_written, ref());
}

void Connection::on_client_written(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Ref> self(static_cast<Ref*>(data));
  auto& c = **self;
  g_autoptr(GError) error = nullptr;
  gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, nullptr, &error);
  switch (c.phase) {
    case Phase::kClosed:
      return;
    case Phase::kRefusing:
      c.finish(c.end_outcome, c.end_message);
      return;
    case Phase::kSocksGreetingReply:
      if (!ok) break;
      c.phase = Phase::kSocksRequest;
      c.process();
      return;
    case Phase::kReplying:
      if (!ok) break;
      c.start_relay();
      return;
    case Phase::kHead:
    case Phase::kSocksRequest:
    case Phase::kDeciding:
    case Phase::kResolving:
    case Phase::kConnecting:
    case Phase::kRelaying:
    default:
      return;
  }
  c.finish("error", std::string("airlock: writing to the client: ") + error->message);
}

void Connection::refuse(Refusal refusal, const std::string& message) {
  if (phase == Phase::kRefusing || phase == Phase::kClosed) return;
  g_cancellable_cancel(work_cancellable);
  watch_hangup(false);
  end_outcome = refusal == Refusal::kDenied ? "deny" : "error";
  end_message = message;
  std::string response;
  if (socks) {
    response = socks_message(socks_reply(refusal));
  } else {
    std::string body = message + "\n";
    response = std::string("HTTP/1.1 ") + http_status(refusal) +
               "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
  }
  phase = Phase::kRefusing;
  set_timer(kReplyTimeoutMs);
  write_client(std::move(response));
}

void Connection::finish(const std::string& outcome, const std::string& message) {
  if (phase == Phase::kClosed) return;
  auto keep = shared_from_this();
  phase = Phase::kClosed;
  clear_timer();
  watch_hangup(false);
  g_cancellable_cancel(work_cancellable);
  g_cancellable_cancel(cancellable);
  if (relay) {
    report.bytes_up = relay->bytes_up();
    report.bytes_down = relay->bytes_down();
    relay->stop();
  }
  if (tunnel) {
    report.bytes_up = tunnel->bytes_up();
    report.bytes_down = tunnel->bytes_down();
    tunnel->stop();
  }
  // Closing the sockets now (not when the last pending operation lets go)
  // is what makes revocation immediate.
  g_socket_close(client_socket(), nullptr);
  if (upstream != nullptr) g_socket_close(g_socket_connection_get_socket(upstream), nullptr);
  report.outcome = outcome;
  report.message = message;
  report.duration_us = g_get_monotonic_time() - started_us;
  auto* owner = std::exchange(proxy, nullptr);
  if (owner == nullptr) return;
  owner->connections.erase(id);
  owner->decider->report(report);
}

}  // namespace

ProxyInterception::~ProxyInterception() {
  g_clear_object(&certificate);
  g_clear_object(&origin_database);
}

SessionProxy::Impl::Impl(ProxyDecider* decider_, ProxyLimits limits_)
    : decider(decider_),
      limits(limits_),
      context(g_main_context_ref_thread_default()),
      socket_client(g_socket_client_new()),
      resolver(g_resolver_get_default()) {
  // Never through another proxy (GProxyResolver reads the environment).
  g_socket_client_set_enable_proxy(socket_client, FALSE);
}

SessionProxy::Impl::~Impl() {
  if (accept_source != nullptr) {
    g_source_destroy(accept_source);
    g_source_unref(accept_source);
  }
  if (pause_source != nullptr) {
    g_source_destroy(pause_source);
    g_source_unref(pause_source);
  }
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [id, connection] : connections) open.push_back(connection);
  for (auto& connection : open) connection->finish("error", "airlock: the session's proxy was shut down");
  if (listener != nullptr) {
    g_socket_close(listener, nullptr);
    g_object_unref(listener);
  }
  g_object_unref(socket_client);
  g_object_unref(resolver);
  g_main_context_unref(context);
}

void SessionProxy::Impl::arm_accept() {
  accept_source = g_socket_create_source(listener, G_IO_IN, nullptr);
  g_source_set_callback(accept_source, G_SOURCE_FUNC(on_incoming), this, nullptr);
  g_source_attach(accept_source, context);
}

void SessionProxy::Impl::pause_accept() {
  g_source_destroy(accept_source);
  g_source_unref(accept_source);
  accept_source = nullptr;
  pause_source = g_timeout_source_new(kAcceptPauseMs);
  g_source_set_callback(pause_source, on_pause_over, this, nullptr);
  g_source_attach(pause_source, context);
}

gboolean SessionProxy::Impl::on_pause_over(gpointer data) {
  auto* self = static_cast<Impl*>(data);
  g_source_unref(self->pause_source);
  self->pause_source = nullptr;
  self->arm_accept();
  return G_SOURCE_REMOVE;
}

gboolean SessionProxy::Impl::on_incoming(GSocket*, GIOCondition, gpointer data) {
  auto* self = static_cast<Impl*>(data);
  for (int i = 0; i < kAcceptBurst; ++i) {
    g_autoptr(GError) error = nullptr;
    GSocket* socket = g_socket_accept(self->listener, nullptr, &error);
    if (socket == nullptr) {
      if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) break;
      // Out of file descriptors, most likely: the client waits in the
      // backlog instead of the loop spinning on a readable listener.
      g_warning("network proxy: cannot accept a connection: %s", error->message);
      self->pause_accept();
      return G_SOURCE_REMOVE;
    }
    auto* connection = g_socket_connection_factory_create_connection(socket);
    g_object_unref(socket);
    auto id = self->next_id++;
    auto client = std::make_shared<Connection>(self, id, connection);
    self->connections.emplace(id, client);
    client->start();
  }
  return G_SOURCE_CONTINUE;
}

SessionProxy::SessionProxy(ProxyDecider* decider, ProxyLimits limits)
    : impl_(std::make_unique<Impl>(decider, limits)) {}

SessionProxy::~SessionProxy() = default;

bool SessionProxy::serve(int listening_fd, GError** error) {
  int listening = 0;
  socklen_t length = sizeof listening;
  if (impl_->listener != nullptr) {
    close(listening_fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "airlock: the session's proxy is already serving");
    return false;
  }
  if (getsockopt(listening_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) != 0 || listening == 0) {
    close(listening_fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "airlock: the proxy's socket is not a listening socket; call listen() on it first");
    return false;
  }
  GSocket* socket = g_socket_new_from_fd(listening_fd, error);
  if (socket == nullptr) {
    close(listening_fd);
    return false;
  }
  g_socket_set_blocking(socket, FALSE);
  impl_->listener = socket;
  impl_->arm_accept();
  return true;
}

void SessionProxy::close_grant(const std::string& grant) {
  std::vector<std::shared_ptr<Connection>> cut;
  for (auto& [id, connection] : impl_->connections) {
    bool by_grant = !connection->report.grant.empty() && connection->report.grant == grant;
    bool by_secret = connection->interception && connection->interception->grant == grant;
    if (connection->phase != Phase::kDeciding && connection->phase != Phase::kRefusing && (by_grant || by_secret)) {
      cut.push_back(connection);
    }
  }
  for (auto& connection : cut) connection->finish("allow", "airlock: the grant was revoked");
}

size_t SessionProxy::open_connections() const { return impl_->connections.size(); }

}  // namespace airlock
