// Credential injection for intercepted HTTPS hosts (DESIGN.md, "Secrets": the
// agent never holds the token). Pure byte transformations, no I/O:
//
// - RequestRewriter, client to origin: frames HTTP/1.1 requests and, in the
//   head of each, replaces the placeholder with the real value in the one
//   named header only. Anything it cannot frame exactly as an origin would
//   (both Content-Length and Transfer-Encoding, obs-fold, bare CR or LF,
//   Upgrade, CONNECT...) is an error: the tunnel closes rather than risk a
//   real value landing where the request line, a body or another header is.
// - ResponseScrubber, origin to client: replaces every occurrence of the real
//   value with as many '*', so an echo never reaches the agent and
//   Content-Length and chunk framing stay valid.
//
// Every buffer that may hold the real value is a WipedBuffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "secret_bytes.h"

namespace airlock {

// A growable byte buffer wiped (explicit_bzero) whenever its memory is
// released or moved, for bytes that may contain a secret.
class WipedBuffer {
 public:
  WipedBuffer() = default;
  ~WipedBuffer();
  WipedBuffer(WipedBuffer&& other) noexcept;
  WipedBuffer& operator=(WipedBuffer&& other) noexcept;
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;

  void append(std::string_view bytes);
  void append(char byte) { append(std::string_view(&byte, 1)); }
  // Drops the first COUNT bytes (wiping what moves).
  void consume(size_t count);
  // Cuts to SIZE (<= size()) bytes, wiping the rest.
  void truncate(size_t size);
  // Empties and wipes; keeps the memory.
  void clear();
  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }

 private:
  void reserve(size_t capacity);
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// What to inject for one host: in HEADER (matched case-insensitively),
// PLACEHOLDER becomes VALUE. The placeholder is what the agent holds.
struct Injection {
  std::string header;
  std::string placeholder;
  std::shared_ptr<const SecretBytes> value;
};

class RequestRewriter {
 public:
  // The longest request head (request line and headers), and the longest
  // chunk-size line or trailer section.
  static constexpr size_t kMaxHeadBytes = 64 * 1024;
  static constexpr size_t kMaxChunkLineBytes = 4 * 1024;

  // INJECTION's header must be a token and its placeholder and value
  // non-empty; otherwise every feed() fails.
  explicit RequestRewriter(Injection injection);
  RequestRewriter(const RequestRewriter&) = delete;
  RequestRewriter& operator=(const RequestRewriter&) = delete;

  // Takes the next bytes from the client, in chunks of any size, and appends
  // what to send to the origin to OUT. False, for good, on a request it
  // refuses: then nothing was appended to OUT by this call, and error() says
  // why (never with a secret in it).
  bool feed(std::string_view data, WipedBuffer* out);
  // True between requests: nothing half-received.
  bool at_message_boundary() const;
  const std::string& error() const { return error_; }
  // How many requests had the placeholder replaced in their head.
  uint64_t injected_requests() const { return injected_requests_; }

 private:
  enum class State { kHead, kBody, kChunkLine, kChunkData, kChunkDataEnd, kTrailers, kFailed };

  bool fail(std::string message);
  bool feed_head(std::string_view* data, WipedBuffer* out);
  bool finish_head(WipedBuffer* out);
  bool feed_line(std::string_view* data, WipedBuffer* out);
  bool finish_chunk_line(WipedBuffer* out);
  bool finish_trailer_line(WipedBuffer* out);

  Injection injection_;
  State state_ = State::kHead;
  WipedBuffer head_;    // the request head so far (holds the placeholder only)
  std::string line_;    // a chunk-size or trailer line so far
  size_t trailer_bytes_ = 0;
  uint64_t remaining_ = 0;  // of the body or the chunk
  uint64_t injected_requests_ = 0;
  std::string error_;
};

class ResponseScrubber {
 public:
  // An empty value scrubs nothing.
  explicit ResponseScrubber(std::shared_ptr<const SecretBytes> value);
  ~ResponseScrubber();
  ResponseScrubber(const ResponseScrubber&) = delete;
  ResponseScrubber& operator=(const ResponseScrubber&) = delete;

  // Appends to OUT what can go to the client now: everything but the
  // longest tail of the stream that is the start of the value, held back
  // until what follows shows whether the value completes.
  void feed(std::string_view data, WipedBuffer* out);
  // How many bytes are held back.
  size_t held() const { return held_.size(); }
  // Lets the held-back bytes go as '*', for when the origin pauses with the
  // start of the value last (the client may be waiting for the end of a
  // response): if the value does complete later, the rest is scrubbed too.
  void flush(WipedBuffer* out);
  // At the end of the stream: what was held back, as it is (the value
  // cannot complete any more).
  void finish(WipedBuffer* out);
  uint64_t scrubbed() const { return scrubbed_; }

 private:
  std::shared_ptr<const SecretBytes> value_;
  // The value's prefix function (Knuth-Morris-Pratt): after a mismatch
  // past MATCHED bytes, the next shorter start of the value that still fits.
  std::unique_ptr<size_t[]> fallback_;
  size_t matched_ = 0;  // the stream's tail is the value's first MATCHED bytes
  WipedBuffer held_;    // the part of that tail not yet sent (never more)
  uint64_t scrubbed_ = 0;
};

}  // namespace airlock
