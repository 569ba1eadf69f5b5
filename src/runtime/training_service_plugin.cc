// The plugin-backed TrainingService (training_service_plugin.h).
//
// Each session is a Record: what the client asked for, the plugin's session id while the plugin
// runs it ("live"), and the last status seen. A record without a plugin session is "dormant":
// a paused session after a restart, or a finished one. A follower thread polls live sessions
// (a cheap status copy in the plugin), persists state changes and, when a session completes,
// registers its model; Get and List read the records only.
#include "runtime/training_service_plugin.h"

#include <rapidjson/document.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "mlos/smi_spec.h"
#include "runtime/log.h"
#include "runtime/model_id.h"
#include "runtime/training_json.h"
#include "runtime/training_register.h"
#include "runtime/training_session_store.h"

namespace mlos::runtime {
namespace {

namespace fs = std::filesystem;
using training::SessionState;
using training::TrainingStatus;

constexpr auto kFollowInterval = std::chrono::milliseconds(100);

bool Terminal(SessionState s) {
  return s == SessionState::kCompleted || s == SessionState::kStopped || s == SessionState::kFailed;
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Record {
  StoredSession stored;
  std::string plugin_session;  // the plugin's id while it runs the session; empty: dormant
  // A pause, resume or stop asked for that the plugin applies after its current step; shown
  // (and persisted) until the plugin's own state gets there.
  std::optional<SessionState> intent;
  bool finalized = false;   // terminal and (if asked) registered
  bool finalizing = false;  // the completion work is in progress on some thread
};

class PluginTrainingService final : public TrainingService {
 public:
  PluginTrainingService(PluginHost* host, ModelManager* models, std::string data_dir)
      : host_(host), models_(models) {
    std::error_code ec;
    // Absolute, so the paths handed to the plugin and persisted do not depend on the cwd.
    root_ = fs::absolute(fs::path(data_dir.empty() ? "." : data_dir) / "training", ec).string();
    fs::create_directories(root_, ec);
    table_path_ = root_ + "/sessions.json";
    if (host_ != nullptr) {
      Result<std::shared_ptr<PluginTrainer>> t = host_->OpenTrainer("");
      if (t.ok()) trainer_ = *t;
    }
    Recover();
    follower_ = std::thread([this] { Follow(); });
  }

  ~PluginTrainingService() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    follower_.join();
    // Stop what still runs (a last checkpoint each) but keep its persisted state, so the next
    // service continues it; then free the plugin's sessions.
    std::vector<std::pair<std::string, std::string>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [id, r] : records_) {
        if (!r.plugin_session.empty()) live.emplace_back(id, r.plugin_session);
      }
    }
    for (const auto& [id, ps] : live) {
      if (trainer_) (void)trainer_->Control(ps, SMI_TRAIN_RELEASE);
    }
    std::lock_guard<std::mutex> lock(mu_);
    (void)PersistLocked();
  }

  Result<std::string> Start(const TrainingRequest& request) override {
    MLOS_RETURN_IF_ERROR(ValidateTrainingConfig(request.config));
    if (!trainer_) return Unavailable("no training plugin loaded (libmlos_torch.so)");
    MLOS_ASSIGN_OR_RETURN(std::string model_path, ResolveModel(request.model));
    std::error_code ec;
    if (request.dataset.empty()) return InvalidArgument("'dataset' is required");
    if (!fs::exists(request.dataset, ec)) {
      return NotFound("dataset '", request.dataset, "' does not exist");
    }
    if (!request.register_as.empty()) {
      if (models_ == nullptr) {
        return FailedPrecondition(
            "'register_as' needs the model registry, which this service "
            "does not have");
      }
      MLOS_ASSIGN_OR_RETURN(ModelId target, ParseModelId(request.register_as));
      (void)target;
      if (!request.register_version.empty() && !IsSafeSegment(request.register_version)) {
        return InvalidArgument("'register_version' '", request.register_version,
                               "' is not a valid version");
      }
    }
    StoredSession s;
    s.request = request;
    s.request.dataset = fs::absolute(request.dataset, ec).string();
    s.model_path = model_path;
    s.created_unix_ms = NowUnixMs();
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.id = NewIdLocked();
    }
    const std::string dir = root_ + "/" + s.id;
    fs::create_directories(dir, ec);
    if (ec) return Internal("cannot create ", dir, ": ", ec.message());
    training::TrainingConfig& c = s.request.config;
    if (c.checkpoint_dir.empty()) c.checkpoint_dir = dir + "/checkpoints";
    if (c.output_path.empty()) c.output_path = dir + "/model.pt";

    Result<std::string> started = StartInPlugin(s, /*resume=*/false);
    if (!started.ok()) {
      fs::remove_all(dir, ec);  // nothing of a session that never ran stays behind
      return started.status();
    }
    const std::string ps = *started;
    s.status.id = s.id;
    s.status.state = SessionState::kStarting;  // the plugin loads the model and data now
    std::unique_lock<std::mutex> lock(mu_);
    Record& r = records_[s.id];
    r.stored = std::move(s);
    r.plugin_session = ps;
    (void)PersistLocked();
    LogInfo("training session started", {{"id", r.stored.id}, {"model", r.stored.model_path}});
    const std::string id = r.stored.id;
    lock.unlock();
    Refresh(id);  // the plugin's view (starting, or already further)
    return id;
  }

  Status Pause(const std::string& id) override { return Control(id, SMI_TRAIN_PAUSE); }
  Status Resume(const std::string& id) override { return Control(id, SMI_TRAIN_RESUME); }
  Status Stop(const std::string& id) override { return Control(id, SMI_TRAIN_STOP); }

  Result<TrainingSessionInfo> Get(const std::string& id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = records_.find(id);
    if (it == records_.end()) return NotFound("training session '", id, "' does not exist");
    return InfoLocked(it->second);
  }

  std::vector<TrainingSessionInfo> List() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<const Record*> rs;
    for (const auto& [id, r] : records_) rs.push_back(&r);
    std::sort(rs.begin(), rs.end(), [](const Record* a, const Record* b) {
      return a->stored.created_unix_ms != b->stored.created_unix_ms
                 ? a->stored.created_unix_ms < b->stored.created_unix_ms
                 : a->stored.id < b->stored.id;
    });
    std::vector<TrainingSessionInfo> out;
    for (const Record* r : rs) out.push_back(InfoLocked(*r));
    return out;
  }

  Result<bool> Wait(const std::string& id, double timeout_s) const override {
    auto* self = const_cast<PluginTrainingService*>(this);  // Refresh/Finalize update records
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(std::max(0.0, timeout_s)));
    for (;;) {
      std::string ps;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = records_.find(id);
        if (it == records_.end()) return NotFound("training session '", id, "' does not exist");
        if (it->second.finalized) return true;
        ps = it->second.plugin_session;
      }
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      const int64_t left_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
      if (!ps.empty() && trainer_) {
        // Slices of at most a second, so a session resumed or released meanwhile is seen.
        (void)trainer_->Wait(ps, std::min<int64_t>(left_ms, 1000));
        self->Refresh(id);
      } else {
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(left_ms), kFollowInterval));
      }
    }
  }

 private:
  // ---- requests -----------------------------------------------------------------------------

  Result<std::string> ResolveModel(const std::string& model) const {
    if (model.empty()) return InvalidArgument("'model' is required");
    if (models_ != nullptr) {
      std::shared_ptr<ModelEntry> e = models_->Find(model);
      const size_t colon = model.rfind(':');
      if (!e && colon != std::string::npos && model.find('@') == std::string::npos) {
        e = models_->Find(model.substr(0, colon) + "@" + model.substr(colon + 1));
      }
      if (e) return e->record().path;
    }
    std::error_code ec;
    if (fs::exists(model, ec)) return fs::absolute(model, ec).string();
    return NotFound("model '", model, "' is neither a registered model nor an existing file");
  }

  std::string NewIdLocked() {
    // Never an id that was used before: not in the table, and no folder left by a session
    // whose table entry a crash lost.
    for (;;) {
      std::string id = StrCat("train-", next_id_++);
      std::error_code ec;
      if (records_.count(id) == 0 && !fs::exists(root_ + "/" + id, ec)) return id;
    }
  }

  Result<std::string> StartInPlugin(const StoredSession& s, bool resume) {
    PluginTrainStart p;
    p.model_path = s.model_path;
    p.dataset = s.request.dataset;
    p.config = s.request.config;
    p.resume = resume;
    Result<std::string> ps = trainer_->Start(PluginTrainStartToJson(p));
    if (!ps.ok()) {
      return Status(ps.status().code(), StrCat("starting training: ", ps.status().message()));
    }
    return ps;
  }

  Status Control(const std::string& id, int32_t op) {
    const char* verb = op == SMI_TRAIN_PAUSE    ? "paused"
                       : op == SMI_TRAIN_RESUME ? "resumed"
                                                : "stopped";
    std::unique_lock<std::mutex> lock(mu_);
    auto it = records_.find(id);
    if (it == records_.end()) return NotFound("training session '", id, "' does not exist");
    Record* r = &it->second;
    const SessionState state = r->stored.status.state;
    if (Terminal(state) || r->finalized) {
      // Every operation on an ended session (stop included, whichever way it ended) is
      // FailedPrecondition naming the state: HTTP 409, False from KernelAPI and Python.
      return FailedPrecondition("training session '", id, "' is ",
                                training::SessionStateName(state), " and cannot be ", verb);
    }
    if (r->plugin_session.empty()) {
      // Dormant (restored after a restart): paused, or running without a training plugin.
      if (op == SMI_TRAIN_PAUSE) {
        r->stored.status.state = SessionState::kPaused;
      } else if (op == SMI_TRAIN_STOP) {
        r->stored.status.state = SessionState::kStopped;
        r->finalized = true;
      } else {
        if (!trainer_) return Unavailable("no training plugin loaded (libmlos_torch.so)");
        StoredSession copy = r->stored;
        lock.unlock();
        Result<std::string> ps = StartInPlugin(copy, /*resume=*/true);
        lock.lock();
        it = records_.find(id);
        if (it == records_.end()) return NotFound("training session '", id, "' does not exist");
        r = &it->second;
        if (!ps.ok()) return ps.status();
        r->plugin_session = *ps;
        r->stored.status.state = SessionState::kStarting;
        r->stored.status.error.clear();
      }
      return PersistLocked();
    }
    const std::string ps = r->plugin_session;
    lock.unlock();
    Status s = trainer_->Control(ps, op);
    if (!s.ok()) {
      // Most likely the session ended meanwhile: say so rather than echo the plugin.
      Refresh(id);
      std::lock_guard<std::mutex> l(mu_);
      auto again = records_.find(id);
      if (again != records_.end() && Terminal(again->second.stored.status.state)) {
        return FailedPrecondition("training session '", id, "' is ",
                                  training::SessionStateName(again->second.stored.status.state),
                                  " and cannot be ", verb);
      }
      return s;
    }
    lock.lock();
    it = records_.find(id);
    if (it == records_.end()) return Status::OK();
    r = &it->second;
    // The plugin applies it after the current step; show and persist the intent now.
    if (!Terminal(r->stored.status.state)) {
      r->intent = op == SMI_TRAIN_PAUSE    ? SessionState::kPaused
                  : op == SMI_TRAIN_RESUME ? SessionState::kRunning
                                           : SessionState::kStopped;
      r->stored.status.state = *r->intent;
    }
    return PersistLocked();
  }

  TrainingSessionInfo InfoLocked(const Record& r) const {
    TrainingSessionInfo info;
    info.status = r.stored.status;
    info.status.id = r.stored.id;
    // "completed" only once the completion work (registration) is done, so a client that sees
    // it also sees registered_model.
    if (info.status.state == SessionState::kCompleted && !r.finalized) {
      info.status.state = SessionState::kRunning;
    }
    info.model = r.stored.request.model;
    info.dataset = r.stored.request.dataset;
    info.registered_model = r.stored.registered_model;
    info.created_unix_ms = r.stored.created_unix_ms;
    return info;
  }

  // ---- following sessions -------------------------------------------------------------------

  // Pulls the plugin's status of a live session into its record; finishes it when it ended.
  void Refresh(const std::string& id) {
    std::string ps;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = records_.find(id);
      if (it == records_.end() || it->second.plugin_session.empty()) return;
      ps = it->second.plugin_session;
    }
    Result<std::string> json = trainer_->StatusJson(ps);
    Result<TrainingStatus> st =
        json.ok() ? ParseTrainingStatus(*json) : Result<TrainingStatus>(json.status());
    bool ended = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = records_.find(id);
      if (it == records_.end() || it->second.plugin_session != ps) return;
      Record& r = it->second;
      if (!st.ok()) {
        // The plugin forgot the session (it was unloaded): dormant from now on.
        r.plugin_session.clear();
        r.stored.status.error = st.status().ToString();
        (void)PersistLocked();
        return;
      }
      const SessionState before = r.stored.status.state;
      TrainingStatus s = std::move(st).value();
      s.id = r.stored.id;
      if (Terminal(s.state) || (r.intent && *r.intent == s.state)) r.intent.reset();
      if (r.intent) s.state = *r.intent;
      r.stored.status = std::move(s);
      ended = Terminal(r.stored.status.state);
      if (r.stored.status.state != before) (void)PersistLocked();
    }
    if (ended) Finalize(id);
  }

  // Completion work of an ended session: register its model (register_as), persist, free the
  // plugin's copy. Idempotent; concurrent callers wait for the one doing it.
  void Finalize(const std::string& id) {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = records_.find(id);
    if (it == records_.end()) return;
    finalize_cv_.wait(lock, [&] { return !records_[id].finalizing; });
    Record& r = records_[id];
    if (r.finalized || !Terminal(r.stored.status.state)) return;
    r.finalizing = true;
    const std::string ps = r.plugin_session;
    lock.unlock();

    // A live session: let it end (a stop takes effect after the current step and a
    // checkpoint), take its final status, then free the plugin's copy.
    std::optional<TrainingStatus> final_status;
    if (!ps.empty() && trainer_) {
      (void)trainer_->Wait(ps, 600000);
      Result<std::string> json = trainer_->StatusJson(ps);
      if (json.ok()) {
        Result<TrainingStatus> st = ParseTrainingStatus(*json);
        if (st.ok() && Terminal(st->state)) final_status = std::move(st).value();
      }
      (void)trainer_->Control(ps, SMI_TRAIN_RELEASE);
    }
    lock.lock();
    if (final_status) {
      final_status->id = id;
      records_[id].stored.status = *final_status;
    }
    records_[id].intent.reset();
    StoredSession s = records_[id].stored;
    lock.unlock();

    std::string registered, error;
    if (s.status.state == SessionState::kCompleted && !s.request.register_as.empty() &&
        s.registered_model.empty()) {
      Result<std::string> reg = Register(s);
      if (reg.ok()) {
        registered = *reg;
      } else {
        error = StrCat("registering the trained model failed: ", reg.status().ToString());
        LogWarn("training session registration failed", {{"id", id}, {"error", error}});
      }
    }
    lock.lock();
    Record& done = records_[id];
    if (!registered.empty()) done.stored.registered_model = registered;
    if (!error.empty()) {
      done.stored.status.state = SessionState::kFailed;
      done.stored.status.error = error;
    }
    done.plugin_session.clear();
    done.finalizing = false;
    done.finalized = true;
    (void)PersistLocked();
    finalize_cv_.notify_all();
  }

  // Saves the trained model in the data dir (if it is elsewhere) and registers it as the next
  // version of register_as.
  Result<std::string> Register(const StoredSession& s) {
    // One registration at a time, so two sessions finishing together get distinct versions.
    std::lock_guard<std::mutex> reg(register_mu_);
    std::string file = s.request.config.output_path;
    const std::string in_data_dir = root_ + "/" + s.id + "/model.pt";
    std::error_code ec;
    if (file != in_data_dir) {
      fs::copy_file(file, in_data_dir, fs::copy_options::overwrite_existing, ec);
      if (ec) return Internal("cannot copy ", file, " to ", in_data_dir, ": ", ec.message());
      file = in_data_dir;
    }
    MLOS_ASSIGN_OR_RETURN(
        std::string registered,
        RegisterTrainedModel(models_, s.request.register_as, s.request.register_version, file,
                             StrCat("trained by training session ", s.id)));
    LogInfo("trained model registered", {{"id", s.id}, {"model_id", registered}});
    return registered;
  }

  void Follow() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      std::vector<std::string> ids;
      for (const auto& [id, r] : records_) {
        if (!r.finalized && (!r.plugin_session.empty() || Terminal(r.stored.status.state))) {
          ids.push_back(id);
        }
      }
      lock.unlock();
      for (const auto& id : ids) {
        if (trainer_) Refresh(id);
        bool ended = false;
        {
          std::lock_guard<std::mutex> l(mu_);
          auto it = records_.find(id);
          ended = it != records_.end() && !it->second.finalized &&
                  Terminal(it->second.stored.status.state);
        }
        if (ended) Finalize(id);
      }
      lock.lock();
      cv_.wait_for(lock, kFollowInterval, [this] { return quit_; });
    }
  }

  // ---- persistence --------------------------------------------------------------------------

  void Recover() {
    // Temporary files of a table write that a crash interrupted.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root_, ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("sessions.json.tmp-", 0) == 0) fs::remove(e.path(), ec);
    }
    Result<SessionTable> table = LoadSessionTable(table_path_);
    if (!table.ok()) {
      // Keep the damaged file for inspection and start afresh beside it.
      LogError("training session table unreadable", {{"error", table.status().ToString()}});
      fs::rename(table_path_, table_path_ + ".corrupt", ec);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    next_id_ = std::max<int64_t>(1, table->next_id);
    for (StoredSession& s : table->sessions) {
      Record& r = records_[s.id];
      r.stored = std::move(s);
      r.finalized = Terminal(r.stored.status.state) &&
                    !(r.stored.status.state == SessionState::kCompleted &&
                      !r.stored.request.register_as.empty() && r.stored.registered_model.empty());
    }
    for (auto& [id, r] : records_) {
      // Running, or still loading when the daemon went down: continue it.
      if (r.stored.status.state != SessionState::kRunning &&
          r.stored.status.state != SessionState::kStarting) {
        continue;
      }
      if (!trainer_) {
        r.stored.status.error =
            "no training plugin loaded (libmlos_torch.so); the session continues when the "
            "service starts with one";
        continue;
      }
      Result<std::string> ps = StartInPlugin(r.stored, /*resume=*/true);
      if (ps.ok()) {
        r.plugin_session = *ps;
        r.stored.status.state = SessionState::kStarting;
        r.stored.status.error.clear();
        LogInfo("training session resumed after restart", {{"id", id}});
      } else {
        r.stored.status.state = SessionState::kFailed;
        r.stored.status.error = ps.status().ToString();
        r.finalized = true;
      }
    }
    (void)PersistLocked();
  }

  Status PersistLocked() {
    SessionTable t;
    t.next_id = next_id_;
    for (const auto& [id, r] : records_) t.sessions.push_back(r.stored);
    Status s = SaveSessionTable(table_path_, t);
    if (!s.ok()) LogError("cannot save the training session table", {{"error", s.ToString()}});
    return s;
  }

  PluginHost* host_;
  ModelManager* models_;
  std::string root_;
  std::string table_path_;
  std::shared_ptr<PluginTrainer> trainer_;  // null: no training plugin

  std::mutex register_mu_;  // serialises Register
  // Guards everything below; never held across a plugin call (but in the constructor, before
  // anything else can call).
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable finalize_cv_;
  std::map<std::string, Record> records_;
  int64_t next_id_ = 1;
  bool quit_ = false;
  std::thread follower_;
};

}  // namespace

std::unique_ptr<TrainingService> CreatePluginTrainingService(PluginHost* host, ModelManager* models,
                                                             std::string data_dir) {
  return std::make_unique<PluginTrainingService>(host, models, std::move(data_dir));
}

}  // namespace mlos::runtime
