// The training JSON codecs (src/runtime/training_json.cc): every config field by name survives a
// round trip; unknown keys, wrong types and out-of-range values are errors naming the key.
#include "runtime/training_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "runtime/training_register.h"
#include "runtime/training_service.h"

namespace mlos::runtime {
namespace {

using training::SessionState;
using training::TrainingConfig;

TEST(TrainingJsonTest, RequestParsesEveryConfigField) {
  auto r = ParseTrainingRequest(R"({
    "model": "local/mlp@1", "dataset": "/data/digits.csv",
    "register_as": "digits", "register_version": "2.0.0",
    "config": {"optimizer": "sgd", "learning_rate": 0.05, "momentum": 0.9,
      "weight_decay": 0.001, "schedule": "step", "step_size": 7, "gamma": 0.5,
      "warmup_steps": 3, "batch_size": 16, "epochs": 4, "max_steps": 100, "loss": "mse",
      "validation_split": 0.25, "threads": 2, "seed": 18446744073709551615,
      "checkpoint_interval": 10, "checkpoint_seconds": 2.5, "checkpoint_dir": "/ck", "output_path": "/out.pt",
      "dataset_format": "csv", "label_column": 0, "context_length": 32, "eval_interval": 5}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model, "local/mlp@1");
  EXPECT_EQ(r->dataset, "/data/digits.csv");
  EXPECT_EQ(r->register_as, "digits");
  EXPECT_EQ(r->register_version, "2.0.0");
  const TrainingConfig& c = r->config;
  EXPECT_EQ(c.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(c.learning_rate, 0.05);
  EXPECT_DOUBLE_EQ(c.momentum, 0.9);
  EXPECT_DOUBLE_EQ(c.weight_decay, 0.001);
  EXPECT_EQ(c.schedule, "step");
  EXPECT_EQ(c.step_size, 7);
  EXPECT_DOUBLE_EQ(c.gamma, 0.5);
  EXPECT_EQ(c.warmup_steps, 3);
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_EQ(c.epochs, 4);
  EXPECT_EQ(c.max_steps, 100);
  EXPECT_EQ(c.loss, "mse");
  EXPECT_DOUBLE_EQ(c.validation_split, 0.25);
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.seed, 18446744073709551615ull);
  EXPECT_EQ(c.checkpoint_interval, 10);
  EXPECT_DOUBLE_EQ(c.checkpoint_seconds, 2.5);
  EXPECT_EQ(c.checkpoint_dir, "/ck");
  EXPECT_EQ(c.output_path, "/out.pt");
  EXPECT_EQ(c.dataset_format, "csv");
  EXPECT_EQ(c.label_column, 0);
  EXPECT_EQ(c.context_length, 32);
  EXPECT_EQ(c.eval_interval, 5);

  // Writing and reading again gives the same request.
  auto again = ParseTrainingRequest(TrainingRequestToJson(*r));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(TrainingRequestToJson(*again), TrainingRequestToJson(*r));
  EXPECT_EQ(again->config.seed, c.seed);
  EXPECT_EQ(again->config.optimizer, "sgd");
  EXPECT_DOUBLE_EQ(again->config.weight_decay, 0.001);
}

TEST(TrainingJsonTest, MissingConfigKeepsDefaults) {
  auto r = ParseTrainingRequest(R"({"model": "m.pt", "dataset": "d.csv"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  TrainingConfig d;
  EXPECT_EQ(r->config.optimizer, d.optimizer);
  EXPECT_EQ(r->config.batch_size, d.batch_size);
  EXPECT_DOUBLE_EQ(r->config.learning_rate, d.learning_rate);
  // Checkpoints by default: every 30 s of training, though no checkpoint_interval was given.
  EXPECT_EQ(r->config.checkpoint_interval, 0);
  EXPECT_DOUBLE_EQ(r->config.checkpoint_seconds, 30.0);
  EXPECT_TRUE(r->register_as.empty());
  // Integral doubles are accepted for integer fields (clients that only have doubles).
  auto f = ParseTrainingRequest(R"({"model": "m", "dataset": "d", "config": {"batch_size": 8.0}})");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->config.batch_size, 8);
}

void ExpectError(const std::string& json, const std::string& needle) {
  auto r = ParseTrainingRequest(json);
  ASSERT_FALSE(r.ok()) << json;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << json;
  EXPECT_NE(r.status().message().find(needle), std::string::npos)
      << json << " -> " << r.status().ToString();
}

TEST(TrainingJsonTest, BadRequestsNameTheKey) {
  ExpectError("", "not valid JSON");
  ExpectError("[1]", "JSON object");
  ExpectError(R"({"model": "m"})", "'dataset'");
  ExpectError(R"({"dataset": "d"})", "'model'");
  ExpectError(R"({"model": 3, "dataset": "d"})", "'model'");
  ExpectError(R"({"model": "m", "dataset": "d", "extra": 1})", "'extra'");
  ExpectError(R"({"model": "m", "dataset": "d", "config": []})", "'config'");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"lr": 0.1}})", "'lr'");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"batch_size": "8"}})", "batch_size");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"batch_size": 1.5}})", "batch_size");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"batch_size": 0}})", "batch_size");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"learning_rate": 0}})", "learning_rate");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"learning_rate": "x"}})",
              "learning_rate");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"validation_split": 1}})",
              "validation_split");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"validation_split": -0.1}})",
              "validation_split");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"optimizer": "lbfgs"}})", "optimizer");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"loss": "hinge"}})", "loss");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"schedule": "poly"}})", "schedule");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"threads": 0}})", "threads");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"threads": 4294967296}})", "threads");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"seed": -1}})", "seed");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"epochs": 0, "max_steps": 0}})",
              "epochs");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"checkpoint_interval": -1}})",
              "checkpoint_interval");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"checkpoint_seconds": -1}})",
              "checkpoint_seconds");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"checkpoint_seconds": 1e300}})",
              "checkpoint_seconds");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"dataset_format": "xml"}})",
              "dataset_format");
  ExpectError(R"({"model": "m", "dataset": "d", "config": {"context_length": 0}})",
              "context_length");
  ExpectError(R"({"model": "m", "dataset": "d", "register_version": "1"})", "register_as");
}

TEST(TrainingJsonTest, SessionRoundTrip) {
  TrainingSessionInfo info;
  info.model = "local/mlp@1";
  info.dataset = "/d.csv";
  info.registered_model = "local/digits@1.0.1";
  info.created_unix_ms = 1763700000123;
  auto& s = info.status;
  s.id = "train-7";
  s.state = SessionState::kPaused;
  s.error = "";
  s.epoch = 2;
  s.step = 90;
  s.total_steps = 240;
  s.loss = 0.125;
  s.learning_rate = 0.003;
  s.has_validation = true;
  s.val_loss = 0.25;
  s.val_accuracy = 0.96;
  s.samples_per_second = 12345.5;
  s.eta_seconds = std::nan("");  // non-finite travels as null
  s.train_samples = 1438;
  s.val_samples = 359;
  s.checkpoints = {{"/ck/ckpt-000000000030.mlosckpt", 30}, {"/ck/b", 60}};
  s.output_path = "/out.pt";
  const std::string json = TrainingSessionToJson(info);
  EXPECT_NE(json.find("\"state\":\"paused\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"eta_seconds\":null"), std::string::npos) << json;
  auto back = ParseTrainingSession(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->model, info.model);
  EXPECT_EQ(back->dataset, info.dataset);
  EXPECT_EQ(back->registered_model, info.registered_model);
  EXPECT_EQ(back->created_unix_ms, info.created_unix_ms);
  EXPECT_EQ(back->status.id, "train-7");
  EXPECT_EQ(back->status.state, SessionState::kPaused);
  EXPECT_EQ(back->status.epoch, 2);
  EXPECT_EQ(back->status.step, 90);
  EXPECT_EQ(back->status.total_steps, 240);
  EXPECT_DOUBLE_EQ(back->status.loss, 0.125);
  EXPECT_DOUBLE_EQ(back->status.learning_rate, 0.003);
  EXPECT_TRUE(back->status.has_validation);
  EXPECT_DOUBLE_EQ(back->status.val_loss, 0.25);
  EXPECT_DOUBLE_EQ(back->status.val_accuracy, 0.96);
  EXPECT_DOUBLE_EQ(back->status.samples_per_second, 12345.5);
  EXPECT_TRUE(std::isnan(back->status.eta_seconds));
  EXPECT_EQ(back->status.train_samples, 1438);
  EXPECT_EQ(back->status.val_samples, 359);
  ASSERT_EQ(back->status.checkpoints.size(), 2u);
  EXPECT_EQ(back->status.checkpoints[1].path, "/ck/b");
  EXPECT_EQ(back->status.checkpoints[1].step, 60);
  EXPECT_EQ(back->status.output_path, "/out.pt");
  // Readers ignore keys they do not know, but not wrong types or states.
  EXPECT_TRUE(ParseTrainingSession(R"({"id": "x", "future": 1})").ok());
  EXPECT_FALSE(ParseTrainingSession(R"({"state": "sleeping"})").ok());
  EXPECT_FALSE(ParseTrainingSession(R"({"step": "3"})").ok());
  EXPECT_FALSE(ParseTrainingSession(R"({"checkpoints": {}})").ok());
  EXPECT_FALSE(ParseTrainingSession("nope").ok());
}

TEST(TrainingJsonTest, EveryStateName) {
  for (auto s : {SessionState::kStarting, SessionState::kRunning, SessionState::kPaused,
                 SessionState::kStopped, SessionState::kCompleted, SessionState::kFailed}) {
    auto back = ParseTrainingState(training::SessionStateName(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_STREQ(training::SessionStateName(SessionState::kStarting), "starting");
  EXPECT_FALSE(ParseTrainingState("loading").ok());
}

TEST(TrainingJsonTest, PluginStartRoundTrip) {
  PluginTrainStart p;
  p.model_path = "/m.pt";
  p.dataset = "/d.csv";
  p.config.batch_size = 7;
  p.config.checkpoint_dir = "/ck";
  p.resume = true;
  auto back = ParsePluginTrainStart(PluginTrainStartToJson(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->model_path, "/m.pt");
  EXPECT_EQ(back->dataset, "/d.csv");
  EXPECT_EQ(back->config.batch_size, 7);
  EXPECT_EQ(back->config.checkpoint_dir, "/ck");
  EXPECT_TRUE(back->resume);
  EXPECT_FALSE(ParsePluginTrainStart(R"({"model_path": "/m", "dataset": "/d", "x": 1})").ok());
  EXPECT_FALSE(ParsePluginTrainStart(R"({"model_path": "/m", "dataset": "/d", "resume": 1})").ok());
  EXPECT_FALSE(ParsePluginTrainStart(R"({"dataset": "/d"})").ok());
}

TEST(TrainingJsonTest, ConfigAlone) {
  TrainingConfig c;
  c.optimizer = "adamw";
  c.threads = 3;
  auto back = ParseTrainingConfig(TrainingConfigToJson(c));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->optimizer, "adamw");
  EXPECT_EQ(back->threads, 3);
  c.batch_size = -1;
  EXPECT_FALSE(ValidateTrainingConfig(c).ok());
}

TEST(TrainingRegisterTest, NextPatchVersion) {
  EXPECT_EQ(NextPatchVersion("1.0.0"), "1.0.1");
  EXPECT_EQ(NextPatchVersion("1.0.9"), "1.0.10");
  EXPECT_EQ(NextPatchVersion("7"), "8");
  EXPECT_EQ(NextPatchVersion("2.3"), "2.4");
  EXPECT_EQ(NextPatchVersion("latest"), "");
  EXPECT_EQ(NextPatchVersion("1.0.0-rc1"), "");
  EXPECT_EQ(NextPatchVersion(""), "");
  EXPECT_EQ(NextPatchVersion("1."), "");
  EXPECT_EQ(RegisterTrainedModel(nullptr, "x", "", "/m.pt", "").status().code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace mlos::runtime
