// FakeTrainingService: an in-memory runtime::TrainingService for the front-end tests (IPC and
// HTTP routes), with the state rules the real one has: pausing needs a running session,
// resuming a paused one, stopping one that has not ended; unknown ids are NotFound. The model
// "missing.pt" is NotFound, a negative batch size was already refused by the JSON parser.
// Thread-safety: a mutex guards everything.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/training_service.h"

namespace mlos::testing {

class FakeTrainingService : public runtime::TrainingService {
 public:
  using State = training::SessionState;

  Result<std::string> Start(const runtime::TrainingRequest& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (r.model.empty()) return InvalidArgument("'model' is required");
    if (r.model == "missing.pt") return NotFound("model 'missing.pt' does not exist");
    runtime::TrainingSessionInfo info;
    info.status.id = "train-" + std::to_string(++next_);
    info.status.state = State::kRunning;
    info.status.total_steps = 100;
    info.model = r.model;
    info.dataset = r.dataset;
    last_request = r;
    sessions_[info.status.id] = info;
    return info.status.id;
  }
  Status Pause(const std::string& id) override { return Move(id, State::kRunning, State::kPaused); }
  Status Resume(const std::string& id) override {
    return Move(id, State::kPaused, State::kRunning);
  }
  Status Stop(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return NotFound("no training session '", id, "'");
    State s = it->second.status.state;
    if (s == State::kCompleted || s == State::kStopped || s == State::kFailed) {
      return FailedPrecondition("session ", id, " has already ended");
    }
    it->second.status.state = State::kStopped;
    return Status::OK();
  }
  Result<runtime::TrainingSessionInfo> Get(const std::string& id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return NotFound("no training session '", id, "'");
    return it->second;
  }
  std::vector<runtime::TrainingSessionInfo> List() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<runtime::TrainingSessionInfo> out;
    for (const auto& [id, info] : sessions_) out.push_back(info);
    return out;
  }
  Result<bool> Wait(const std::string& id, double) const override {
    MLOS_ASSIGN_OR_RETURN(runtime::TrainingSessionInfo info, Get(id));
    return info.status.state != State::kRunning && info.status.state != State::kPaused;
  }

  // Test hooks.
  void Set(const std::string& id, State s, int64_t step) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[id].status.state = s;
    sessions_[id].status.step = step;
  }
  runtime::TrainingRequest last_request;

 private:
  Status Move(const std::string& id, State from, State to) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return NotFound("no training session '", id, "'");
    if (it->second.status.state != from) {
      return FailedPrecondition("session ", id, " is ", static_cast<int>(it->second.status.state));
    }
    it->second.status.state = to;
    return Status::OK();
  }

  mutable std::mutex mu_;
  std::map<std::string, runtime::TrainingSessionInfo> sessions_;
  int next_ = 0;
};

}  // namespace mlos::testing
