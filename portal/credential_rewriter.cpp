#include "credential_rewriter.h"

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

namespace airlock {

namespace {

// RFC 9110, 5.6.2: the characters of a token (a method, a header's name).
bool is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

// A field value's characters (RFC 9110, 5.5): visible, obs-text, space and
// tab; no other control character (NUL, CR and LF above all).
bool is_field_value(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Headers that steer framing or the connection: an injection never goes
// there, so a secret's value can never change how a request is framed.
bool is_reserved_header(std::string_view name) {
  for (const char* reserved : {"content-length", "transfer-encoding", "host", "upgrade", "connection",
                               "accept-encoding", "te", "trailer", "expect"}) {
    if (iequals(name, reserved)) return true;
  }
  return false;
}

// Digits only, no sign, no list ("5, 5"), at most 18 of them.
bool parse_content_length(std::string_view text, uint64_t* length) {
  if (text.empty() || text.size() > 18) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *length = value;
  return true;
}

bool parse_chunk_size(std::string_view text, uint64_t* size) {
  if (text.empty() || text.size() > 15) return false;
  uint64_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = value * 16 + static_cast<uint64_t>(digit);
  }
  *size = value;
  return true;
}

// A line of a head or trailer section (without its CRLF) holds no stray CR or
// LF: an origin that splits lines on a bare LF would see other headers.
bool has_bare_line_break(std::string_view line) { return line.find_first_of("\r\n") != std::string_view::npos; }

}  // namespace

// ---- WipedBuffer ------------------------------------------------------------

WipedBuffer::~WipedBuffer() {
  if (data_ != nullptr) {
    explicit_bzero(data_, capacity_);
    delete[] data_;
  }
}

WipedBuffer::WipedBuffer(WipedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

WipedBuffer& WipedBuffer::operator=(WipedBuffer&& other) noexcept {
  if (this != &other) {
    this->~WipedBuffer();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void WipedBuffer::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  capacity = std::max({capacity, capacity_ * 2, size_t{256}});
  char* grown = new char[capacity];
  if (data_ != nullptr) {
    std::memcpy(grown, data_, size_);
    explicit_bzero(data_, capacity_);
    delete[] data_;
  }
  data_ = grown;
  capacity_ = capacity;
}

void WipedBuffer::append(std::string_view bytes) {
  if (bytes.empty()) return;
  reserve(size_ + bytes.size());
  std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

void WipedBuffer::consume(size_t count) {
  count = std::min(count, size_);
  if (count == 0) return;
  std::memmove(data_, data_ + count, size_ - count);
  explicit_bzero(data_ + size_ - count, count);
  size_ -= count;
}

void WipedBuffer::truncate(size_t size) {
  if (size >= size_) return;
  explicit_bzero(data_ + size, size_ - size);
  size_ = size;
}

void WipedBuffer::clear() { truncate(0); }

// ---- RequestRewriter ----------------------------------------------------------

RequestRewriter::RequestRewriter(Injection injection) : injection_(std::move(injection)) {
  if (!is_token(injection_.header) || is_reserved_header(injection_.header)) {
    fail("the header to inject into is not a header name that can carry a credential");
  } else if (injection_.placeholder.empty() || !is_field_value(injection_.placeholder)) {
    fail("the placeholder is empty or not valid in a header");
  } else if (!injection_.value || injection_.value->empty()) {
    fail("the secret to inject is empty");
  } else if (!is_field_value(injection_.value->view())) {
    // Checked once here and again after each replacement.
    fail("the secret cannot go in a header: it has control characters or line breaks");
  }
}

bool RequestRewriter::fail(std::string message) {
  if (state_ != State::kFailed) {
    state_ = State::kFailed;
    error_ = std::move(message);
    head_.clear();
  }
  return false;
}

bool RequestRewriter::at_message_boundary() const { return state_ == State::kHead && head_.empty(); }

bool RequestRewriter::feed(std::string_view data, WipedBuffer* out) {
  const size_t start = out->size();
  while (!data.empty() && state_ != State::kFailed) {
    bool ok = true;
    switch (state_) {
      case State::kHead:
        ok = feed_head(&data, out);
        break;
      case State::kBody:
      case State::kChunkData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, data.size()));
        out->append(data.substr(0, n));
        data.remove_prefix(n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::kBody ? State::kHead : State::kChunkDataEnd;
        break;
      }
      case State::kChunkLine:
      case State::kChunkDataEnd:
      case State::kTrailers:
        ok = feed_line(&data, out);
        break;
      case State::kFailed:
      default:
        ok = false;
        break;
    }
    if (!ok) break;
  }
  if (state_ == State::kFailed) {
    out->truncate(start);
    return false;
  }
  return true;
}

bool RequestRewriter::feed_head(std::string_view* data, WipedBuffer* out) {
  while (!data->empty()) {
    if (head_.size() >= kMaxHeadBytes) return fail("the request head is longer than 64 KiB");
    head_.append(data->front());
    data->remove_prefix(1);
    const std::string_view head = head_.view();
    if (head.size() >= 4 && head.substr(head.size() - 4) == "\r\n\r\n") return finish_head(out);
  }
  return true;
}

bool RequestRewriter::finish_head(WipedBuffer* out) {
  // HEAD_ ends with CRLF CRLF; the lines before it.
  std::string_view rest = head_.view();
  rest.remove_suffix(2);
  std::vector<std::string_view> lines;
  while (!rest.empty()) {
    const size_t end = rest.find("\r\n");
    lines.push_back(rest.substr(0, end));
    rest.remove_prefix(end + 2);
  }
  for (auto line : lines) {
    if (has_bare_line_break(line)) return fail("the request head has a bare CR or LF");
  }
  if (lines.empty() || lines[0].empty()) return fail("the request line is empty");

  // METHOD SP TARGET SP VERSION, single spaces.
  const std::string_view request_line = lines[0];
  const size_t first_space = request_line.find(' ');
  const size_t second_space =
      first_space == std::string_view::npos ? first_space : request_line.find(' ', first_space + 1);
  if (second_space == std::string_view::npos) return fail("the request line is malformed");
  const std::string_view method = request_line.substr(0, first_space);
  const std::string_view target = request_line.substr(first_space + 1, second_space - first_space - 1);
  const std::string_view version = request_line.substr(second_space + 1);
  if (!is_token(method)) return fail("the request method is malformed");
  if (method == "CONNECT") return fail("CONNECT inside an intercepted connection is refused");
  if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
      })) {
    return fail("the request target is malformed");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return fail("only HTTP/1.0 and HTTP/1.1 requests can be intercepted");

  WipedBuffer rebuilt;
  rebuilt.append(request_line);
  rebuilt.append("\r\n");
  int content_lengths = 0;
  int transfer_encodings = 0;
  uint64_t content_length = 0;
  bool injected = false;
  const std::string_view placeholder = injection_.placeholder;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') return fail("the request head has an obs-fold line");
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail("a request header line has no colon");
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_ows(line.substr(colon + 1));
    if (!is_token(name)) return fail("a request header's name is malformed");
    if (!is_field_value(value)) return fail("a request header's value has control characters");
    if (iequals(name, "content-length")) {
      if (++content_lengths > 1 || !parse_content_length(value, &content_length))
        return fail("the request's Content-Length is malformed or repeated");
    } else if (iequals(name, "transfer-encoding")) {
      if (++transfer_encodings > 1 || !iequals(value, "chunked"))
        return fail("the request's Transfer-Encoding is not just \"chunked\"");
    } else if (iequals(name, "upgrade")) {
      return fail("protocol upgrades inside an intercepted connection are refused");
    } else if (iequals(name, "accept-encoding") || iequals(name, "te")) {
      // Dropped: a compressed response could carry an echoed value past
      // the scrubber.
      continue;
    } else if (iequals(name, injection_.header)) {
      rebuilt.append(name);
      rebuilt.append(": ");
      const size_t value_start = rebuilt.size();
      std::string_view text = value;
      for (size_t at; (at = text.find(placeholder)) != std::string_view::npos;) {
        rebuilt.append(text.substr(0, at));
        rebuilt.append(injection_.value->view());
        text.remove_prefix(at + placeholder.size());
        injected = true;
      }
      rebuilt.append(text);
      if (!is_field_value(rebuilt.view().substr(value_start)))
        return fail("the injected header's value would have control characters");
      rebuilt.append("\r\n");
      continue;
    }
    rebuilt.append(line);
    rebuilt.append("\r\n");
  }
  if (content_lengths > 0 && transfer_encodings > 0)
    return fail("the request has both Content-Length and Transfer-Encoding");
  if (transfer_encodings > 0 && version == "HTTP/1.0")
    return fail("an HTTP/1.0 request cannot be chunked");
  rebuilt.append("\r\n");

  out->append(rebuilt.view());
  head_.clear();
  if (injected) ++injected_requests_;
  if (transfer_encodings > 0) {
    state_ = State::kChunkLine;
  } else if (content_length > 0) {
    state_ = State::kBody;
    remaining_ = content_length;
  } else {
    state_ = State::kHead;
  }
  return true;
}

bool RequestRewriter::feed_line(std::string_view* data, WipedBuffer* out) {
  while (!data->empty()) {
    const size_t limit = state_ == State::kTrailers ? kMaxHeadBytes : kMaxChunkLineBytes;
    if (line_.size() >= kMaxChunkLineBytes || trailer_bytes_ >= limit)
      return fail("a chunk-size line or the trailers are too long");
    line_.push_back(data->front());
    data->remove_prefix(1);
    if (state_ == State::kTrailers) ++trailer_bytes_;
    if (line_.size() >= 2 && line_.compare(line_.size() - 2, 2, "\r\n") == 0) {
      line_.resize(line_.size() - 2);
      bool ok;
      if (state_ == State::kChunkLine) {
        ok = finish_chunk_line(out);
      } else if (state_ == State::kChunkDataEnd) {
        ok = line_.empty() ? (out->append("\r\n"), state_ = State::kChunkLine, true)
                           : fail("a chunk's data is longer than its size");
      } else {
        ok = finish_trailer_line(out);
      }
      line_.clear();
      return ok;
    }
  }
  return true;
}

bool RequestRewriter::finish_chunk_line(WipedBuffer* out) {
  if (has_bare_line_break(line_)) return fail("a chunk-size line has a bare CR or LF");
  const std::string_view line = line_;
  const size_t semicolon = line.find(';');
  uint64_t size = 0;
  if (!parse_chunk_size(line.substr(0, semicolon), &size)) return fail("a chunk size is malformed");
  if (semicolon != std::string_view::npos && !is_field_value(line.substr(semicolon)))
    return fail("a chunk extension has control characters");
  out->append(line);
  out->append("\r\n");
  if (size == 0) {
    state_ = State::kTrailers;
    trailer_bytes_ = 0;
  } else {
    state_ = State::kChunkData;
    remaining_ = size;
  }
  return true;
}

bool RequestRewriter::finish_trailer_line(WipedBuffer* out) {
  if (line_.empty()) {
    out->append("\r\n");
    state_ = State::kHead;
    return true;
  }
  const std::string_view line = line_;
  if (has_bare_line_break(line)) return fail("a trailer has a bare CR or LF");
  if (line.front() == ' ' || line.front() == '\t') return fail("the trailers have an obs-fold line");
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon)) ||
      !is_field_value(line.substr(colon + 1))) {
    return fail("a trailer line is malformed");
  }
  out->append(line);
  out->append("\r\n");
  return true;
}

// ---- ResponseScrubber ---------------------------------------------------------

ResponseScrubber::ResponseScrubber(std::shared_ptr<const SecretBytes> value) : value_(std::move(value)) {
  const std::string_view v = value_ ? value_->view() : std::string_view();
  if (v.empty()) return;
  fallback_ = std::make_unique<size_t[]>(v.size());
  fallback_[0] = 0;
  for (size_t i = 1, k = 0; i < v.size(); ++i) {
    while (k > 0 && v[i] != v[k]) k = fallback_[k - 1];
    if (v[i] == v[k]) ++k;
    fallback_[i] = k;
  }
}

ResponseScrubber::~ResponseScrubber() {
  // The table says something of the value's shape.
  if (fallback_) explicit_bzero(fallback_.get(), value_->size() * sizeof(size_t));
  matched_ = 0;
}

void ResponseScrubber::feed(std::string_view data, WipedBuffer* out) {
  const std::string_view value = value_ ? value_->view() : std::string_view();
  if (value.empty()) {
    out->append(data);
    return;
  }
  for (size_t i = 0; i < data.size();) {
    // Nothing held and no match under way: everything up to the next byte
    // that could start the value goes at once.
    if (matched_ == 0 && held_.empty()) {
      const size_t next = data.find(value[0], i);
      const size_t end = next == std::string_view::npos ? data.size() : next;
      out->append(data.substr(i, end - i));
      i = end;
      if (i == data.size()) break;
    }
    const char byte = data[i++];
    while (matched_ > 0 && value[matched_] != byte) matched_ = fallback_[matched_ - 1];
    if (value[matched_] == byte) ++matched_;
    held_.append(byte);
    if (matched_ == value.size()) {
      // The value, whole: its bytes still held become '*' (any before them
      // went out as '*' already, by flush()).
      std::memset(held_.data(), '*', held_.size());
      out->append(held_.view());
      held_.clear();
      ++scrubbed_;
      matched_ = fallback_[matched_ - 1];
      continue;
    }
    // Held bytes before the tail that may still become the value go as
    // they are.
    if (held_.size() > matched_) {
      const size_t ready = held_.size() - matched_;
      out->append(held_.view().substr(0, ready));
      held_.consume(ready);
    }
  }
}

void ResponseScrubber::flush(WipedBuffer* out) {
  // MATCHED stays: if the value completes, its remaining bytes are scrubbed.
  if (held_.empty()) return;
  std::memset(held_.data(), '*', held_.size());
  out->append(held_.view());
  held_.clear();
}

void ResponseScrubber::finish(WipedBuffer* out) {
  out->append(held_.view());
  held_.clear();
  matched_ = 0;
}

}  // namespace airlock
