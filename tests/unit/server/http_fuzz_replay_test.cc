// Fuzz replay for RequestParser: a corpus of malformed inputs plus seeded random mutations of
// valid requests, fed whole and in random splits. Every outcome must be Done, NeedMore or an
// error with a 4xx/5xx status; Done must consume no more than it was given and be
// reproducible. Run under ASan (make asan) to catch out-of-bounds reads.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "server/http/request_parser.h"

namespace mlos::server::http {
namespace {

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> kSeeds = {
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /models/register HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"a\":\"bcde\"}\n",
      "POST /v2/models/m/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n",
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "\r\n\r\nGET / HTTP/1.1\r\n\r\n",
      "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
  };
  return kSeeds;
}

const char* kCorpus[] = {
    "",
    "\r\n",
    "\r\n\r\n",
    " / HTTP/1.1\r\n\r\n",
    "GET",
    "GET /",
    "GET / HTTP/1.1",
    "GET / HTTP/1.1\r\n",
    "GET / HTTP/1.1\r\n\r",
    "GET / HTTP/1.1\n\n",
    "\0\0\0\0\r\n\r\n",
    "GET / HTTP/1.1\r\nA:\r\n\r\n",
    "GET / HTTP/1.1\r\nA\r\n\r\n",
    "GET / HTTP/1.1\r\n:\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
    "GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na",
    "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    "POST / HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n",
    "GET /%00 HTTP/1.1\r\n\r\n",
    "GET /\xff HTTP/1.1\r\n\r\n",
    "GET * HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.\r\n\r\n",
    "GET / HTTP/1.1 \r\n\r\n",
    "GET / HTTP/01.1\r\n\r\n",
};

void Check(const std::string& input, ParserLimits limits, std::mt19937* rng) {
  RequestParser whole(limits);
  HttpRequest req;
  size_t consumed = 0;
  RequestParser::State a = whole.Feed(input, &req, &consumed);
  if (a == RequestParser::State::kDone) {
    ASSERT_LE(consumed, input.size());
    ASSERT_LE(req.body.size(), limits.max_body_bytes);
  } else if (a == RequestParser::State::kError) {
    ASSERT_GE(whole.error_status(), 400);
    ASSERT_LT(whole.error_status(), 600);
    ASSERT_FALSE(whole.error_message().empty());
  }
  // The same bytes arriving in random pieces end the same way.
  RequestParser split(limits);
  RequestParser::State b = RequestParser::State::kNeedMore;
  size_t n = 0;
  while (n < input.size() && b == RequestParser::State::kNeedMore) {
    n = std::min(input.size(), n + 1 + (*rng)() % 17);
    b = split.Feed(std::string_view(input.data(), n), &req, &consumed);
  }
  if (input.empty()) return;
  ASSERT_EQ(a == RequestParser::State::kError, b == RequestParser::State::kError) << input;
}

TEST(HttpFuzzReplay, Corpus) {
  std::mt19937 rng(1);
  for (const char* c : kCorpus) Check(c, {}, &rng);
}

TEST(HttpFuzzReplay, RandomMutations) {
  std::mt19937 rng(20261121);
  ParserLimits limits;
  limits.max_body_bytes = 64;
  limits.max_header_bytes = 256;
  limits.max_headers = 8;
  const char kAlphabet[] = "\r\n :;/%0123456789abcdefABCDEF\t\x01\xff";
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s = Seeds()[rng() % Seeds().size()];
    int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[pos] = kAlphabet[rng() % (sizeof kAlphabet - 1)];
          break;
        case 1:
          s.erase(pos, 1 + rng() % 4);
          break;
        case 2:
          s.insert(pos, 1, kAlphabet[rng() % (sizeof kAlphabet - 1)]);
          break;
        case 3:
          s.insert(pos, s.substr(0, rng() % (s.size() - pos + 1)));
          break;
      }
    }
    Check(s, limits, &rng);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace mlos::server::http
