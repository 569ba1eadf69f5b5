#include "server/http/response_writer.h"

#include <charconv>

namespace mlos::server::http {
namespace {

void AppendInt(uint64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

}  // namespace

void AppendResponse(const HttpResponse& resp, const ResponseContext& ctx, std::string* out) {
  out->append(ctx.http10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  AppendInt(static_cast<uint64_t>(resp.status), out);
  out->push_back(' ');
  out->append(StatusReason(resp.status));
  out->append("\r\nServer: mlos-core\r\n");
  if (!ctx.date.empty()) {
    out->append("Date: ");
    out->append(ctx.date);
    out->append("\r\n");
  }
  bool no_body =
      resp.status == 204 || resp.status == 304 || (resp.status >= 100 && resp.status < 200);
  if (!resp.content_type.empty() && !no_body) {
    out->append("Content-Type: ");
    out->append(resp.content_type);
    out->append("\r\n");
  }
  if (resp.stream) {
    if (!ctx.http10) out->append("Transfer-Encoding: chunked\r\n");
    out->append("Cache-Control: no-cache\r\n");
  } else if (!no_body) {
    out->append("Content-Length: ");
    AppendInt(resp.body.size(), out);
    out->append("\r\n");
  }
  if (ctx.close) {
    out->append("Connection: close\r\n");
  } else if (ctx.http10) {
    out->append("Connection: keep-alive\r\n");
  }
  if (!ctx.cors_origin.empty()) {
    out->append("Access-Control-Allow-Origin: ");
    out->append(ctx.cors_origin);
    out->append("\r\nVary: Origin\r\n");
  }
  for (const auto& [name, value] : resp.headers) {
    out->append(name);
    out->append(": ");
    out->append(value);
    out->append("\r\n");
  }
  out->append("\r\n");
  if (!resp.stream && !ctx.head_request && !no_body) out->append(resp.body);
}

void AppendChunk(std::string_view data, std::string* out) {
  if (data.empty()) return;
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<uint64_t>(data.size()), 16);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
  out->append("\r\n");
  out->append(data);
  out->append("\r\n");
}

void AppendLastChunk(std::string* out) { out->append("0\r\n\r\n"); }

void AppendJsonEscaped(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 15]);
        } else {
          out->push_back(ch);
        }
    }
  }
}

std::string ErrorJson(std::string_view message) {
  std::string out = "{\"error\":\"";
  AppendJsonEscaped(message, &out);
  out.append("\"}");
  return out;
}

}  // namespace mlos::server::http
