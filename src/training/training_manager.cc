// TrainingManager: session bookkeeping; the training itself is in training_session.cc.
#include "training/training_manager.h"

namespace mlos::training {

TrainingManager::~TrainingManager() {
  std::map<std::string, std::shared_ptr<TrainingSession>> sessions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions.swap(sessions_);
  }
  for (auto& [id, s] : sessions) (void)s->Stop();
  sessions.clear();  // joins each thread
}

Result<std::string> TrainingManager::StartTraining(const std::string& model_path,
                                                   const std::string& dataset_path,
                                                   const TrainingConfig& config,
                                                   bool resume_from_checkpoint) {
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = StrCat("train-", next_id_++);
  }
  MLOS_ASSIGN_OR_RETURN(auto session, TrainingSession::Start(id, model_path, dataset_path, config,
                                                             resume_from_checkpoint));
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[id] = std::move(session);
  return id;
}

Result<std::shared_ptr<TrainingSession>> TrainingManager::Find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return NotFound("training session '", id, "' does not exist");
  return it->second;
}

Status TrainingManager::RemoveTraining(const std::string& id) {
  std::shared_ptr<TrainingSession> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return NotFound("training session '", id, "' does not exist");
    s = std::move(it->second);
    sessions_.erase(it);
  }
  (void)s->Stop();
  s->Wait(1e9);
  return Status::OK();  // the thread is joined when the last holder lets go
}

Status TrainingManager::PauseTraining(const std::string& id) {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<TrainingSession> s, Find(id));
  return s->Pause();
}

Status TrainingManager::ResumeTraining(const std::string& id) {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<TrainingSession> s, Find(id));
  return s->Resume();
}

Status TrainingManager::StopTraining(const std::string& id) {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<TrainingSession> s, Find(id));
  return s->Stop();
}

Result<TrainingStatus> TrainingManager::GetTrainingStatus(const std::string& id) const {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<TrainingSession> s, Find(id));
  return s->GetStatus();
}

std::vector<TrainingStatus> TrainingManager::ListTraining() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<TrainingStatus> out;
  for (const auto& [id, s] : sessions_) out.push_back(s->GetStatus());
  return out;
}

Result<bool> TrainingManager::WaitTraining(const std::string& id, double timeout_s) const {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<TrainingSession> s, Find(id));
  return s->Wait(timeout_s);
}

Result<std::vector<float>> TrainingManager::FlatParameters(const std::string& id) const {
  MLOS_ASSIGN_OR_RETURN(std::shared_ptr<TrainingSession> s, Find(id));
  return s->FlatParameters();
}

}  // namespace mlos::training
