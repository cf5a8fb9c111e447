// The request rewriter and response scrubber of credential injection
// (portal/credential_rewriter.h): pure byte transformations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "credential_rewriter.h"

namespace airlock {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::string_view kPlaceholder = "airlock-placeholder-0123";
constexpr std::string_view kSecret = "ghp_RealSecretValue42";

std::shared_ptr<const SecretBytes> secret(std::string_view value = kSecret) {
  return std::make_shared<const SecretBytes>(SecretBytes::copy_of(value));
}

Injection injection(std::string header = "Authorization", std::string_view value = kSecret) {
  return Injection{std::move(header), std::string(kPlaceholder), secret(value)};
}

// Feeds INPUT in chunks of CHUNK bytes (0: all at once); the output, or
// "ERROR: ..." when the rewriter refused.
std::string rewrite(RequestRewriter& rewriter, std::string_view input, size_t chunk = 0) {
  WipedBuffer out;
  if (chunk == 0) chunk = input.size() == 0 ? 1 : input.size();
  for (size_t at = 0; at < input.size(); at += chunk) {
    if (!rewriter.feed(input.substr(at, chunk), &out)) return "ERROR: " + rewriter.error();
  }
  return std::string(out.view());
}

std::string rewrite(std::string_view input, size_t chunk = 0) {
  RequestRewriter rewriter(injection());
  return rewrite(rewriter, input, chunk);
}

std::string with(std::string_view text, std::string_view from, std::string_view to) {
  std::string result(text);
  for (size_t at = 0; (at = result.find(from, at)) != std::string::npos; at += to.size())
    result.replace(at, from.size(), to);
  return result;
}

const std::string kP(kPlaceholder);
const std::string kS(kSecret);

// ---- the named header only -------------------------------------------------

TEST(RequestRewriter, ReplacesThePlaceholderInTheNamedHeader) {
  const std::string request = "GET /user HTTP/1.1\r\nHost: api.example.test\r\nAuthorization: Bearer " + kP +
                              "\r\nAccept: */*\r\n\r\n";
  EXPECT_EQ(rewrite(request), with(request, kP, kS));
}

TEST(RequestRewriter, MatchesTheHeaderNameCaseInsensitively) {
  const std::string request = "GET / HTTP/1.1\r\nauthorization: token " + kP + "\r\n\r\n";
  EXPECT_EQ(rewrite(request), "GET / HTTP/1.1\r\nauthorization: token " + kS + "\r\n\r\n");
  const std::string upper = "GET / HTTP/1.1\r\nAUTHORIZATION:" + kP + "  \r\n\r\n";
  EXPECT_EQ(rewrite(upper), "GET / HTTP/1.1\r\nAUTHORIZATION: " + kS + "\r\n\r\n");
}

TEST(RequestRewriter, ReplacesEveryOccurrenceInTheNamedHeader) {
  const std::string request = "GET / HTTP/1.1\r\nAuthorization: " + kP + " " + kP + "\r\nAuthorization: x" + kP +
                              "\r\n\r\n";
  EXPECT_EQ(rewrite(request), with(request, kP, kS));
}

TEST(RequestRewriter, NeverReplacesInTheUrlOtherHeadersOrTheBody) {
  const std::string body = "token=" + kP;
  const std::string request = "POST /login?token=" + kP + " HTTP/1.1\r\nHost: " + kP +
                              ".example.test\r\nX-Token: " + kP + "\r\nAuthorization-Extra: " + kP +
                              "\r\nProxy-Authorization: " + kP + "\r\nCookie: a=" + kP +
                              "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string out = rewrite(request);
  EXPECT_EQ(out, request);
  EXPECT_THAT(out, Not(HasSubstr(kS)));
}

TEST(RequestRewriter, InjectsIntoAnotherNamedHeader) {
  RequestRewriter rewriter(injection("X-Api-Key"));
  const std::string request = "GET / HTTP/1.1\r\nAuthorization: " + kP + "\r\nx-api-key: " + kP + "\r\n\r\n";
  EXPECT_EQ(rewrite(rewriter, request),
            "GET / HTTP/1.1\r\nAuthorization: " + kP + "\r\nx-api-key: " + kS + "\r\n\r\n");
}

TEST(RequestRewriter, RefusesToInjectIntoFramingHeaders) {
  for (const char* header : {"Content-Length", "transfer-encoding", "Host", "Upgrade", "Connection", "TE", "",
                             "Bad Name", "Bad:Name"}) {
    RequestRewriter rewriter(injection(header));
    EXPECT_THAT(rewrite(rewriter, "GET / HTTP/1.1\r\n\r\n"), HasSubstr("ERROR")) << header;
  }
}

TEST(RequestRewriter, RefusesASecretThatCouldSplitTheHead) {
  for (std::string_view value : {std::string_view("abc\r\nX-Evil: 1"), std::string_view("abc\ndef"),
                                 std::string_view("a\0b", 3), std::string_view("")}) {
    RequestRewriter rewriter(injection("Authorization", value));
    const std::string out = rewrite(rewriter, "GET / HTTP/1.1\r\nAuthorization: " + kP + "\r\n\r\n");
    EXPECT_THAT(out, HasSubstr("ERROR"));
    EXPECT_THAT(out, Not(HasSubstr("X-Evil")));
  }
}

TEST(RequestRewriter, ValuesLongerAndShorterThanThePlaceholder) {
  for (std::string_view value : {std::string_view("k"), std::string_view("a-much-longer-secret-value-than-the-"
                                                                          "placeholder-is-0123456789")}) {
    RequestRewriter rewriter(injection("Authorization", value));
    const std::string request = "GET / HTTP/1.1\r\nAuthorization: Bearer " + kP + "\r\n\r\nGET /2 HTTP/1.1\r\n\r\n";
    EXPECT_EQ(rewrite(rewriter, request), with(request, kP, value));
  }
}

TEST(RequestRewriter, ErrorsNeverCarryTheSecret) {
  RequestRewriter rewriter(injection());
  const std::string out = rewrite(rewriter, "GET / HTTP/1.1\r\nAuthorization: " + kP + "\r\nBad\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("ERROR"));
  EXPECT_THAT(rewriter.error(), Not(HasSubstr(kS)));
  EXPECT_THAT(rewriter.error(), Not(HasSubstr(kP)));
}

// ---- streaming and framing -------------------------------------------------

TEST(RequestRewriter, ByteByByteGivesTheSameBytes) {
  const std::string request = "POST /a HTTP/1.1\r\nAuthorization: Bearer " + kP +
                              "\r\nContent-Length: 5\r\n\r\nhello"
                              "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nAuthorization: " +
                              kP + "\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: " + kP + "\r\n\r\n";
  const std::string expected = with(with(request, "Bearer " + kP, "Bearer " + kS), "Authorization: " + kP + "\r\n\r\n",
                                    "Authorization: " + kS + "\r\n\r\n");
  EXPECT_EQ(rewrite(request), expected);
  EXPECT_EQ(rewrite(request, 1), expected);
  EXPECT_EQ(rewrite(request, 7), expected);
}

TEST(RequestRewriter, KeepAliveRequestsEachGetTheirHeader) {
  RequestRewriter rewriter(injection());
  const std::string one = "GET /1 HTTP/1.1\r\nAuthorization: " + kP + "\r\n\r\n";
  const std::string two = "GET /2 HTTP/1.1\r\nAuthorization: " + kP + "\r\n\r\n";
  EXPECT_EQ(rewrite(rewriter, one), with(one, kP, kS));
  EXPECT_TRUE(rewriter.at_message_boundary());
  EXPECT_EQ(rewrite(rewriter, two.substr(0, 10)), "");
  EXPECT_FALSE(rewriter.at_message_boundary());
  EXPECT_EQ(rewrite(rewriter, two.substr(10)), with(two, kP, kS));
  EXPECT_EQ(rewriter.injected_requests(), 2u);
}

TEST(RequestRewriter, AContentLengthBodyThatLooksLikeAHeadPassesUnchanged) {
  // The body is a whole request head with the placeholder: it is body, and
  // stays as it is; the request after it is rewritten.
  const std::string body = "GET /x HTTP/1.1\r\nAuthorization: " + kP + "\r\n\r\n";
  const std::string request = "POST / HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                              body + "GET /y HTTP/1.1\r\nAuthorization: " + kP + "\r\n\r\n";
  const std::string out = rewrite(request, 3);
  EXPECT_EQ(out, request.substr(0, request.size() - kP.size() - 4) + kS + "\r\n\r\n");
}

TEST(RequestRewriter, AChunkedBodyWithThePlaceholderPassesUnchanged) {
  const std::string chunk = "Authorization: " + kP + "\r\n\r\n";
  char size[16];
  snprintf(size, sizeof size, "%zx", chunk.size());
  const std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n" + std::string(size) +
                              "\r\n" + chunk + "\r\n0\r\n\r\n";
  EXPECT_EQ(rewrite(request, 1), request);
}

TEST(RequestRewriter, RemovesAcceptEncodingAndTe) {
  const std::string request =
      "GET / HTTP/1.1\r\nAccept-Encoding: gzip, br\r\nHost: h\r\naccept-encoding: deflate\r\nTE: trailers\r\n\r\n";
  EXPECT_EQ(rewrite(request), "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
}

// ---- fail closed ------------------------------------------------------------

TEST(RequestRewriter, RefusesWhatItCannotFrameSafely) {
  const std::string auth = "Authorization: " + kP + "\r\n";
  const std::string cases[] = {
      "GET / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 3, 3\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -1\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n" + auth + "\r\n",
      "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nX-Long: a\r\n b\r\n" + auth + "\r\n",      // obs-fold
      "GET / HTTP/1.1\r\n" + auth + "\tcontinued\r\n\r\n",       // obs-fold of the named header
      "GET / HTTP/1.1\r\nNoColon\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nBad Name: x\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nName : x\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nX: a\nAuthorization: " + kP + "\r\n\r\n",  // bare LF
      "GET / HTTP/1.1\r\nX: a\rAuthorization: " + kP + "\r\n\r\n",  // bare CR
      "GET / HTTP/1.1\r\nX: a" + std::string(1, '\0') + "b\r\n" + auth + "\r\n",
      "GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + auth + "\r\n",
      "CONNECT other.test:443 HTTP/1.1\r\n" + auth + "\r\n",
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "GET  / HTTP/1.1\r\n" + auth + "\r\n",
      "GET / HTTP/1.1 \r\n" + auth + "\r\n",
      "GET /\x01 HTTP/1.1\r\n" + auth + "\r\n",
      "\r\n\r\n",
      "GET / HTTP/1.1\r\n" + auth + "\r\n" + "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
  };
  for (const auto& request : cases) {
    for (size_t chunk : {size_t{0}, size_t{1}}) {
      RequestRewriter rewriter(injection());
      const std::string out = rewrite(rewriter, request, chunk);
      EXPECT_THAT(out, HasSubstr("ERROR")) << request;
      EXPECT_THAT(out, Not(HasSubstr(kS))) << request;
    }
  }
}

TEST(RequestRewriter, RefusesMalformedChunks) {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string bodies[] = {"g\r\n", "-1\r\n", "3\r\nabcX\r\n", "1 \r\nx\r\n", "3\nabc\r\n",
                                 "ffffffffffffffffff\r\n", "0\r\nX: a\r\n b\r\n\r\n", "0\r\nNoColon\r\n\r\n",
                                 std::string(5000, '0')};
  for (const auto& body : bodies) {
    EXPECT_THAT(rewrite(head + body, 1), HasSubstr("ERROR")) << body;
  }
}

TEST(RequestRewriter, RefusesAnOversizedHead) {
  const std::string request = "GET / HTTP/1.1\r\nX-Big: " + std::string(RequestRewriter::kMaxHeadBytes, 'a');
  RequestRewriter rewriter(injection());
  WipedBuffer out;
  EXPECT_FALSE(rewriter.feed(request, &out));
  EXPECT_THAT(rewriter.error(), HasSubstr("64 KiB"));
  // A head just under the limit is fine.
  const std::string fits = "GET / HTTP/1.1\r\nX-Big: " + std::string(RequestRewriter::kMaxHeadBytes - 100, 'a') +
                           "\r\n\r\n";
  EXPECT_EQ(rewrite(fits), fits);
}

TEST(RequestRewriter, OnceFailedNothingMorePasses) {
  RequestRewriter rewriter(injection());
  WipedBuffer out;
  EXPECT_FALSE(rewriter.feed("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &out));
  EXPECT_FALSE(rewriter.feed("GET / HTTP/1.1\r\n\r\n", &out));
  EXPECT_TRUE(out.empty());
}

TEST(RequestRewriter, AFailureDropsEverythingFromThatFeed) {
  RequestRewriter rewriter(injection());
  WipedBuffer out;
  out.append("before");
  const std::string input = "GET / HTTP/1.1\r\nAuthorization: " + kP + "\r\n\r\nGET / HTTP/1.1\r\nBad\r\n\r\n";
  EXPECT_FALSE(rewriter.feed(input, &out));
  EXPECT_EQ(out.view(), "before");
}

// ---- the scrubber ------------------------------------------------------------

std::string scrub(std::string_view input, size_t chunk, std::string_view value = kSecret) {
  ResponseScrubber scrubber(secret(value));
  WipedBuffer out;
  for (size_t at = 0; at < input.size(); at += chunk) scrubber.feed(input.substr(at, chunk), &out);
  scrubber.finish(&out);
  return std::string(out.view());
}

TEST(ResponseScrubber, ReplacesTheValueWithAsManyStars) {
  const std::string stars(kS.size(), '*');
  const std::string response = "HTTP/1.1 200 OK\r\nX-Echo: Bearer " + kS + "\r\nContent-Length: " +
                               std::to_string(kS.size() + 2) + "\r\n\r\n[" + kS + "]";
  const std::string expected = with(response, kS, stars);
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}, kS.size() - 1, kS.size(), kS.size() + 1, response.size()})
    EXPECT_EQ(scrub(response, chunk), expected) << chunk;
}

TEST(ResponseScrubber, ScrubsAtTheVeryEndAndStart) {
  EXPECT_EQ(scrub(kS, 1), std::string(kS.size(), '*'));
  EXPECT_EQ(scrub(kS + kS, 3), std::string(2 * kS.size(), '*'));
  EXPECT_EQ(scrub("x" + kS.substr(0, kS.size() - 1), 4), "x" + kS.substr(0, kS.size() - 1));
}

TEST(ResponseScrubber, HoldsBackOnlyWhatCouldStartTheValue) {
  // A response that ends with bytes that cannot begin the value goes out
  // whole at once: a keep-alive client waiting for it is not kept waiting.
  ResponseScrubber scrubber(secret("abcd"));
  WipedBuffer out;
  scrubber.feed("hello", &out);
  EXPECT_EQ(out.view(), "hello");
  EXPECT_EQ(scrubber.held(), 0u);
  scrubber.feed("xab", &out);
  EXPECT_EQ(out.view(), "hellox");
  EXPECT_EQ(scrubber.held(), 2u);
  scrubber.feed("aab", &out);  // "ab" fails, "aab" ends with "ab" again
  EXPECT_EQ(out.view(), "helloxaba");
  scrubber.feed("cd!", &out);
  scrubber.finish(&out);
  EXPECT_EQ(out.view(), "helloxaba****!");
  EXPECT_EQ(scrubber.scrubbed(), 1u);
}

TEST(ResponseScrubber, FlushSendsTheHeldStartAsStarsAndScrubsTheRestLater) {
  ResponseScrubber scrubber(secret("secret"));
  WipedBuffer out;
  scrubber.feed("token: sec", &out);
  EXPECT_EQ(out.view(), "token: ");
  scrubber.flush(&out);
  EXPECT_EQ(out.view(), "token: ***");
  EXPECT_EQ(scrubber.held(), 0u);
  scrubber.feed("ret.", &out);
  scrubber.finish(&out);
  EXPECT_EQ(out.view(), "token: ******.");
  // A start that does not complete is a flushed '*' run, then the rest as is.
  ResponseScrubber other(secret("secret"));
  WipedBuffer out2;
  other.feed("se", &out2);
  other.flush(&out2);
  other.feed("cond", &out2);
  other.finish(&out2);
  EXPECT_EQ(out2.view(), "**cond");
}

TEST(ResponseScrubber, FinishSendsAnUnfinishedStartAsItIs) {
  ResponseScrubber scrubber(secret("secret"));
  WipedBuffer out;
  scrubber.feed("the end: secre", &out);
  scrubber.finish(&out);
  EXPECT_EQ(out.view(), "the end: secre");
}

TEST(ResponseScrubber, RandomSplitsGiveTheSameAsWhole) {
  const std::string value = "abab";
  const std::string input = "xabababyabaabababab-ab";
  const std::string whole = scrub(input, input.size(), value);
  EXPECT_EQ(whole, "x******yaba********-ab");  // overlapping occurrences: all of them
  for (size_t chunk = 1; chunk < input.size(); ++chunk) EXPECT_EQ(scrub(input, chunk, value), whole) << chunk;
}

TEST(ResponseScrubber, OneByteValue) { EXPECT_EQ(scrub("axbxc", 1, "x"), "a*b*c"); }

TEST(ResponseScrubber, OverlappingOccurrences) { EXPECT_EQ(scrub("aaaaa", 1, "aa"), "*****"); }

TEST(WipedBuffer, ConsumeAndTruncate) {
  WipedBuffer buffer;
  buffer.append("hello world");
  buffer.consume(6);
  EXPECT_EQ(buffer.view(), "world");
  buffer.truncate(2);
  EXPECT_EQ(buffer.view(), "wo");
  WipedBuffer moved(std::move(buffer));
  EXPECT_EQ(moved.view(), "wo");
  buffer = std::move(moved);
  EXPECT_EQ(buffer.view(), "wo");
}

}  // namespace
}  // namespace airlock
