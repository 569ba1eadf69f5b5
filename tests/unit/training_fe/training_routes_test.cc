// The /training/sessions routes of ApiServer against an in-memory TrainingService: status codes
// (201, 200, 400, 404, 405, 409, 503), the JSON shapes, metrics routes, and the server-sent
// event stream driven by hand (status events, an end event when the session finishes).
#include <gtest/gtest.h>

#include <string>

#include "runtime/metrics.h"
#include "runtime/training_service.h"
#include "server/api_server.h"
#include "unit/ipc/fake_training.h"

namespace mlos::server {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using training::SessionState;

class TrainingRoutesTest : public ::testing::Test {
 protected:
  TrainingRoutesTest() : api_(nullptr, nullptr, &metrics_, ApiInfo{}) {
    api_.set_training_service(&fake_);
  }

  HttpResponse Call(std::string_view method, std::string_view target, std::string_view body = {}) {
    target_ = std::string(target);
    HttpRequest req;
    req.method = method;
    req.target = target_;
    size_t q = target_.find('?');
    req.path = std::string_view(target_).substr(0, q);
    if (q != std::string::npos) req.query = std::string_view(target_).substr(q + 1);
    req.body = body;
    HttpResponse resp;
    api_.Handle(req, &resp);
    return resp;
  }

  static runtime::TrainingSessionInfo Session(const HttpResponse& r) {
    auto s = runtime::ParseTrainingSession(r.body);
    EXPECT_TRUE(s.ok()) << s.status().ToString() << " in " << r.body;
    return s.ok() ? *s : runtime::TrainingSessionInfo{};
  }

  // Drains a stream's next chunk.
  static std::string Next(http::StreamSource* s, bool* more) {
    std::string out;
    int next_ms = 0;
    *more = s->Next(&out, &next_ms);
    EXPECT_GT(next_ms, 0);
    EXPECT_LE(next_ms, 1000);
    return out;
  }

  std::string target_;
  runtime::ServerMetrics metrics_;
  testing::FakeTrainingService fake_;
  ApiServer api_;
};

constexpr std::string_view kStart =
    R"({"model":"/m/mlp.pt","dataset":"/d/digits.csv","config":{"epochs":2,"optimizer":"sgd"}})";

TEST_F(TrainingRoutesTest, StartGetListControl) {
  HttpResponse r = Call("POST", "/training/sessions", kStart);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Session(r).status.id, "train-1");
  EXPECT_EQ(fake_.last_request.config.optimizer, "sgd");
  EXPECT_EQ(fake_.last_request.config.epochs, 2);
  bool location = false;
  for (const auto& [k, v] : r.headers)
    location |= k == "Location" && v == "/training/sessions/train-1";
  EXPECT_TRUE(location);

  r = Call("GET", "/training/sessions/train-1");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Session(r).model, "/m/mlp.pt");
  EXPECT_EQ(Session(r).status.state, SessionState::kRunning);

  r = Call("POST", "/training/sessions/train-1/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Session(r).status.state, SessionState::kPaused);
  EXPECT_EQ(Call("POST", "/training/sessions/train-1/pause").status, 409);
  r = Call("POST", "/training/sessions/train-1/resume");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Session(r).status.state, SessionState::kRunning);
  r = Call("POST", "/training/sessions/train-1/stop");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Session(r).status.state, SessionState::kStopped);
  // Pausing, resuming or stopping a finished session is a conflict.
  for (const char* action : {"pause", "resume", "stop"}) {
    EXPECT_EQ(Call("POST", std::string("/training/sessions/train-1/") + action).status, 409)
        << action;
  }

  ASSERT_EQ(Call("POST", "/training/sessions/", kStart).status, 201);
  r = Call("GET", "/training/sessions");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"total\":2"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"id\":\"train-2\""), std::string::npos) << r.body;

  // Metrics see each route.
  EXPECT_GE(metrics_.route(runtime::Route::kTrainingSessions).by_class[2].load(), 3u);
  EXPECT_GE(metrics_.route(runtime::Route::kTrainingControl).by_class[2].load(), 3u);
  EXPECT_GE(metrics_.route(runtime::Route::kTrainingControl).by_class[4].load(), 4u);
  EXPECT_GE(metrics_.route(runtime::Route::kTrainingSession).by_class[2].load(), 1u);
}

TEST_F(TrainingRoutesTest, BadRequestsAreClear4xx) {
  struct Case {
    std::string_view body;
    std::string_view needle;
  };
  for (const Case& c :
       {Case{"", "JSON"}, Case{"{not json", "JSON"}, Case{"[]", "object"},
        Case{R"({"dataset":"d"})", "model"},
        Case{R"({"model":"m","dataset":"d","extra":1})", "extra"},
        Case{R"({"model":"m","dataset":"d","config":{"learning_rate":"fast"}})", "learning_rate"},
        Case{R"({"model":"m","dataset":"d","config":{"epoch":3}})", "epoch"},
        Case{R"({"model":"m","dataset":"d","config":{"optimizer":"lbfgs"}})", "optimizer"}}) {
    HttpResponse r = Call("POST", "/training/sessions", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.needle), std::string::npos) << c.body << " -> " << r.body;
    EXPECT_EQ(r.body.rfind("{\"error\":", 0), 0u) << r.body;
  }
  EXPECT_EQ(Call("POST", "/training/sessions", R"({"model":"missing.pt","dataset":"d"})").status,
            404);
  EXPECT_EQ(Call("GET", "/training/sessions/train-77").status, 404);
  EXPECT_EQ(Call("POST", "/training/sessions/train-77/pause").status, 404);
  EXPECT_EQ(Call("GET", "/training/sessions/train-77/events").status, 404);
  EXPECT_EQ(Call("POST", "/training/sessions/train-77/explode").status, 404);
  EXPECT_EQ(Call("GET", "/training/sessions/%zz").status, 400);
  // Wrong methods.
  ASSERT_EQ(Call("POST", "/training/sessions", kStart).status, 201);
  EXPECT_EQ(Call("DELETE", "/training/sessions").status, 405);
  EXPECT_EQ(Call("DELETE", "/training/sessions/train-1").status, 405);
  EXPECT_EQ(Call("GET", "/training/sessions/train-1/pause").status, 405);
  EXPECT_EQ(Call("POST", "/training/sessions/train-1/events").status, 405);
  EXPECT_EQ(Call("GET", "/training/sessions/train-1/events?interval_ms=5").status, 400);
  EXPECT_EQ(Call("GET", "/training/sessions/train-1/events?interval_ms=abc").status, 400);
  // Percent-encoded ids are decoded.
  EXPECT_EQ(Call("GET", "/training/sessions/train%2D1").status, 200);
}

TEST_F(TrainingRoutesTest, WithoutAServiceEveryRouteIs503) {
  api_.set_training_service(nullptr);
  EXPECT_EQ(Call("POST", "/training/sessions", kStart).status, 503);
  EXPECT_EQ(Call("GET", "/training/sessions").status, 503);
  EXPECT_EQ(Call("GET", "/training/sessions/train-1").status, 503);
  EXPECT_EQ(Call("POST", "/training/sessions/train-1/stop").status, 503);
  EXPECT_EQ(Call("GET", "/training/sessions/train-1/events").status, 503);
}

TEST_F(TrainingRoutesTest, EventsStreamStatusThenEnd) {
  ASSERT_EQ(Call("POST", "/training/sessions", kStart).status, 201);
  HttpResponse r = Call("GET", "/training/sessions/train-1/events?interval_ms=200");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  ASSERT_TRUE(r.stream);
  bool more = false;
  std::string first = Next(r.stream.get(), &more);
  EXPECT_TRUE(more);
  ASSERT_EQ(first.rfind("event: status\nid: 0\ndata: {", 0), 0u) << first;
  EXPECT_EQ(first.substr(first.size() - 2), "\n\n");
  EXPECT_NE(first.find("\"state\":\"running\""), std::string::npos) << first;
  // Nothing changed: no event until something does.
  EXPECT_EQ(Next(r.stream.get(), &more), "");
  EXPECT_TRUE(more);
  // A new step shows up within interval_ms (200 ms = 2 polls of 100 ms).
  fake_.Set("train-1", SessionState::kRunning, 5);
  std::string got;
  for (int i = 0; i < 3 && got.empty(); ++i) got = Next(r.stream.get(), &more);
  EXPECT_NE(got.find("\"step\":5"), std::string::npos) << got;
  // A state change goes out at the next poll.
  fake_.Set("train-1", SessionState::kPaused, 5);
  got = Next(r.stream.get(), &more);
  EXPECT_NE(got.find("\"state\":\"paused\""), std::string::npos) << got;
  EXPECT_TRUE(more);
  // The end: one `end` event with the final JSON, and the stream is finished.
  fake_.Set("train-1", SessionState::kCompleted, 100);
  got = Next(r.stream.get(), &more);
  EXPECT_FALSE(more);
  ASSERT_EQ(got.rfind("event: end\n", 0), 0u) << got;
  EXPECT_NE(got.find("\"state\":\"completed\""), std::string::npos) << got;
  EXPECT_NE(got.find("\"step\":100"), std::string::npos) << got;
  // A finished session's stream is a single end event.
  r = Call("GET", "/training/sessions/train-1/events");
  ASSERT_TRUE(r.stream);
  got = Next(r.stream.get(), &more);
  EXPECT_FALSE(more);
  EXPECT_EQ(got.rfind("event: end\n", 0), 0u) << got;
}

}  // namespace
}  // namespace mlos::server
