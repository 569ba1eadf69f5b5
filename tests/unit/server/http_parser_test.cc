// RequestParser: valid requests, incremental feeding, pipelining, chunked bodies and limits.
#include <gtest/gtest.h>

#include <string>

#include "server/http/request_parser.h"

namespace mlos::server::http {
namespace {

struct Parsed {
  RequestParser::State state;
  size_t consumed = 0;
  HttpRequest req;
  int error = 0;
};

Parsed ParseAll(const std::string& in, ParserLimits limits = {}) {
  RequestParser p(limits);
  Parsed out;
  out.state = p.Feed(in, &out.req, &out.consumed);
  out.error = p.error_status();
  return out;
}

TEST(RequestParser, SimpleGet) {
  std::string in = "GET /models/a%2Fb?include_outputs=true&x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
  Parsed p = ParseAll(in);
  ASSERT_EQ(p.state, RequestParser::State::kDone);
  EXPECT_EQ(p.consumed, in.size());
  EXPECT_EQ(p.req.method, "GET");
  EXPECT_EQ(p.req.path, "/models/a%2Fb");
  EXPECT_EQ(p.req.query, "include_outputs=true&x=1");
  EXPECT_EQ(p.req.QueryParam("include_outputs"), "true");
  EXPECT_EQ(p.req.QueryParam("x"), "1");
  EXPECT_EQ(p.req.Header("HOST"), "h");
  EXPECT_TRUE(p.req.keep_alive);
  EXPECT_TRUE(p.req.body.empty());
}

TEST(RequestParser, BodyAndConnectionClose) {
  std::string in = "POST /x HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhelloEXTRA";
  Parsed p = ParseAll(in);
  ASSERT_EQ(p.state, RequestParser::State::kDone);
  EXPECT_EQ(p.req.body, "hello");
  EXPECT_EQ(p.consumed, in.size() - 5);
  EXPECT_FALSE(p.req.keep_alive);
}

TEST(RequestParser, Http10DefaultsToClose) {
  Parsed p = ParseAll("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(p.state, RequestParser::State::kDone);
  EXPECT_FALSE(p.req.keep_alive);
  EXPECT_EQ(p.req.version_minor, 0);
  p = ParseAll("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(p.req.keep_alive);
}

TEST(RequestParser, ByteByByteEqualsWhole) {
  std::string in =
      "POST /v2/models/m/infer HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
      "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nTrailer: t\r\n\r\n";
  RequestParser p({});
  HttpRequest req;
  size_t consumed = 0;
  RequestParser::State st = RequestParser::State::kNeedMore;
  for (size_t n = 1; n <= in.size(); ++n) {
    st = p.Feed(std::string_view(in.data(), n), &req, &consumed);
    if (n < in.size()) {
      ASSERT_EQ(st, RequestParser::State::kNeedMore) << n;
    }
  }
  ASSERT_EQ(st, RequestParser::State::kDone);
  EXPECT_EQ(req.body, "abcdefg");
  EXPECT_EQ(consumed, in.size());
  EXPECT_EQ(req.Header("x-a"), "1");
}

TEST(RequestParser, Pipelined) {
  std::string one = "GET /a HTTP/1.1\r\n\r\n";
  std::string two = "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
  std::string in = one + two;
  RequestParser p({});
  HttpRequest req;
  size_t consumed = 0;
  ASSERT_EQ(p.Feed(in, &req, &consumed), RequestParser::State::kDone);
  EXPECT_EQ(req.path, "/a");
  EXPECT_EQ(consumed, one.size());
  p.Reset();
  std::string_view rest = std::string_view(in).substr(consumed);
  ASSERT_EQ(p.Feed(rest, &req, &consumed), RequestParser::State::kDone);
  EXPECT_EQ(req.path, "/b");
  EXPECT_EQ(req.body, "hi");
}

TEST(RequestParser, ExpectContinue) {
  RequestParser p({});
  HttpRequest req;
  size_t consumed = 0;
  std::string in = "POST /x HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
  EXPECT_EQ(p.Feed(in, &req, &consumed), RequestParser::State::kNeedMore);
  EXPECT_TRUE(p.headers_complete());
  EXPECT_TRUE(p.expects_continue());
  in += "abc";
  EXPECT_EQ(p.Feed(in, &req, &consumed), RequestParser::State::kDone);
}

TEST(RequestParser, Limits) {
  ParserLimits small;
  small.max_body_bytes = 10;
  small.max_header_bytes = 200;
  small.max_headers = 3;
  EXPECT_EQ(ParseAll("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", small).error, 413);
  EXPECT_EQ(ParseAll("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", small).error,
            413);
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'), small).error, 431);
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n", small).error, 431);
  EXPECT_EQ(ParseAll("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n").error, 400);
}

TEST(RequestParser, Malformed) {
  const char* cases[][2] = {
      {"GET\r\n\r\n", "400"},
      {"GET /x\r\n\r\n", "400"},
      {"GET  /x HTTP/1.1\r\n\r\n", "400"},
      {"G(T /x HTTP/1.1\r\n\r\n", "400"},
      {"GET x HTTP/1.1\r\n\r\n", "400"},
      {"GET /x HTTP/2.0\r\n\r\n", "505"},
      {"GET /x HTTX/1.1\r\n\r\n", "400"},
      {"GET /x HTTP/1.1\r\n: v\r\n\r\n", "400"},
      {"GET /x HTTP/1.1\r\nA B: v\r\n\r\n", "400"},
      {"GET /x HTTP/1.1\r\nA: v\x01\r\n\r\n", "400"},
      {"GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400"},
      {"GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "400"},
      {"GET /x HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "501"},
      {"GET /x HTTP/1.1\r\nExpect: magic\r\n\r\n", "417"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "400"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n;\r\n", "400"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1234567890123456\r\n", "400"},
  };
  for (const auto& c : cases) {
    Parsed p = ParseAll(c[0]);
    EXPECT_EQ(p.state, RequestParser::State::kError) << c[0];
    EXPECT_EQ(std::to_string(p.error), c[1]) << c[0];
  }
}

TEST(PercentDecode, Cases) {
  std::string out;
  EXPECT_TRUE(PercentDecode("hf%2Fbert-base-uncased%40latest", &out));
  EXPECT_EQ(out, "hf/bert-base-uncased@latest");
  EXPECT_TRUE(PercentDecode("a+b", &out, true));
  EXPECT_EQ(out, "a b");
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("%4", &out));
  EXPECT_FALSE(PercentDecode("%zz", &out));
}

}  // namespace
}  // namespace mlos::server::http
