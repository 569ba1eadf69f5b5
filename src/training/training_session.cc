// TrainingSession on libtorch: the training loop, optimizers, losses, schedules, validation and
// checkpoints. The only translation unit of mlos_training that includes torch headers.
#include "training/training_session.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "training/checkpoint_io.h"
#include "training/dataset.h"
#include "training/model_file.h"

namespace mlos::training {
namespace {

using Clock = std::chrono::steady_clock;
constexpr double kPi = 3.14159265358979323846;

// Fisher-Yates with our own index draw, so the order depends only on the seed (not on the
// standard library's distribution implementation).
void Shuffle(std::vector<int64_t>* v, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng() % i]);
}

uint64_t EpochSeed(uint64_t seed, int64_t epoch) {
  return seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(epoch) * 0xD1B54A32D192ED03ull + 1;
}

Status CheckConfig(const TrainingConfig& c) {
  if (c.optimizer != "sgd" && c.optimizer != "adam" && c.optimizer != "adamw") {
    return InvalidArgument("optimizer '", c.optimizer, "' is not sgd, adam or adamw");
  }
  if (c.loss != "cross_entropy" && c.loss != "mse") {
    return InvalidArgument("loss '", c.loss, "' is not cross_entropy or mse");
  }
  if (c.schedule != "constant" && c.schedule != "cosine" && c.schedule != "step" &&
      c.schedule != "linear") {
    return InvalidArgument("schedule '", c.schedule, "' is not constant, cosine, step or linear");
  }
  if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) {
    return InvalidArgument("learning_rate must be a positive number");
  }
  if (c.batch_size < 1 || c.batch_size > (1 << 20))
    return InvalidArgument("batch_size out of range");
  if (c.epochs < 1 && c.max_steps < 1) return InvalidArgument("epochs or max_steps must be >= 1");
  if (c.max_steps < 0 || c.epochs < 0) return InvalidArgument("epochs/max_steps must be >= 0");
  if (!(c.validation_split >= 0 && c.validation_split < 1)) {
    return InvalidArgument("validation_split must be in [0, 1)");
  }
  if (c.threads < 1 || c.threads > 256) return InvalidArgument("threads must be in [1, 256]");
  if (c.checkpoint_interval < 0) return InvalidArgument("checkpoint_interval must be >= 0");
  if (!(c.checkpoint_seconds >= 0)) return InvalidArgument("checkpoint_seconds must be >= 0");
  return Status::OK();
}

// An exception's message without libtorch's C++ backtrace ("Exception raised from ...") and,
// for errors raised inside TorchScript code, with only the final error of the script's
// traceback: what a client needs to read in a status, not a stack dump.
std::string ErrorText(const std::exception& e) {
  const auto* c10e = dynamic_cast<const c10::Error*>(&e);
  std::string m = c10e != nullptr ? c10e->what_without_backtrace() : e.what();
  if (size_t at = m.find("\nException raised from"); at != std::string::npos) m.resize(at);
  if (m.find("Traceback of TorchScript") != std::string::npos) {
    // The script's own error is the last "<Type>Error: ..." paragraph.
    size_t at = m.rfind("Error: ");
    if (at != std::string::npos) {
      size_t line = m.rfind('\n', at);
      m = m.substr(line == std::string::npos ? 0 : line + 1);
    }
  }
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

class TorchSession final : public TrainingSession {
 public:
  TorchSession(std::string id, TrainingConfig config) : config_(std::move(config)) {
    status_.id = std::move(id);
  }

  ~TorchSession() override {
    (void)Stop();
    if (thread_.joinable()) thread_.join();
  }

  // The cheap checks, on the caller's thread (TrainingSession::Start).
  Status Precheck(const std::string& model_path, const std::string& dataset_path) {
    MLOS_RETURN_IF_ERROR(CheckConfig(config_));
    MLOS_RETURN_IF_ERROR(CheckTorchScriptFile(model_path));
    return CheckDataset(dataset_path, config_.dataset_format);
  }

  // The loading, on the session's thread, while the state is kStarting. step_mu_ is held
  // throughout, so FlatParameters waits for the parameters to exist.
  Status Init(const std::string& model_path, const std::string& dataset_path, bool resume) {
    std::lock_guard<std::mutex> step_lock(step_mu_);
    MLOS_ASSIGN_OR_RETURN(data_, LoadDataset(dataset_path, config_.dataset_format,
                                             config_.label_column, config_.context_length));
    if (StopRequested()) return Status::OK();
    try {
      module_ = torch::jit::load(model_path, torch::kCPU);
    } catch (const std::exception& e) {
      return InvalidArgument("cannot load TorchScript model ", model_path, ": ", ErrorText(e));
    }
    module_.train();
    for (const auto& p : module_.named_parameters()) {
      param_names_.push_back(p.name);
      params_.push_back(p.value);
    }
    if (params_.empty()) return InvalidArgument("model ", model_path, " has no parameters");
    for (auto& p : params_) p.requires_grad_(true);
    MakeOptimizer();
    // The split: a seeded permutation, the first part held out for validation.
    std::vector<int64_t> all(static_cast<size_t>(data_.num_samples));
    for (int64_t i = 0; i < data_.num_samples; ++i) all[static_cast<size_t>(i)] = i;
    Shuffle(&all, config_.seed ^ 0x5EED5EEDull);
    const auto n_val = static_cast<size_t>(std::floor(config_.validation_split * all.size()));
    val_.assign(all.begin(), all.begin() + static_cast<ptrdiff_t>(n_val));
    train_.assign(all.begin() + static_cast<ptrdiff_t>(n_val), all.end());
    if (train_.empty()) return InvalidArgument("no training samples left after the split");
    steps_per_epoch_ =
        (static_cast<int64_t>(train_.size()) + config_.batch_size - 1) / config_.batch_size;
    total_steps_ = config_.max_steps > 0 ? config_.max_steps : config_.epochs * steps_per_epoch_;
    std::vector<CheckpointInfo> checkpoints;
    if (!config_.checkpoint_dir.empty()) {
      MLOS_RETURN_IF_ERROR(EnsureDirectory(config_.checkpoint_dir));
      checkpoints = ListCheckpoints(config_.checkpoint_dir);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.total_steps = total_steps_;
      status_.train_samples = static_cast<int64_t>(train_.size());
      status_.val_samples = static_cast<int64_t>(val_.size());
      status_.checkpoints = checkpoints;
    }
    if (resume && !checkpoints.empty()) {
      MLOS_RETURN_IF_ERROR(LoadCheckpoint(checkpoints.back().path));
    }
    return Status::OK();
  }

  void Launch(std::string model_path, std::string dataset_path, bool resume) {
    status_.state = SessionState::kStarting;
    if (resume && !config_.checkpoint_dir.empty()) {
      // A listing, cheap: while starting, the status already says where the session goes on
      // from (the thread loads that checkpoint, or fails the session if it cannot).
      status_.checkpoints = ListCheckpoints(config_.checkpoint_dir);
      if (!status_.checkpoints.empty()) status_.step = status_.checkpoints.back().step;
    }
    thread_ = std::thread(
        [this, model_path = std::move(model_path), dataset_path = std::move(dataset_path), resume] {
          Status s;
          try {
            s = Init(model_path, dataset_path, resume);
          } catch (const std::exception& e) {
            s = InvalidArgument("training session setup: ", ErrorText(e));
          }
          if (!s.ok()) return Finish(SessionState::kFailed, s.message());
          {
            std::lock_guard<std::mutex> lock(mu_);
            if (!stop_requested_) status_.state = SessionState::kRunning;
          }
          if (StopRequested()) return Finish(SessionState::kStopped, "");  // nothing trained yet
          Run();
        });
  }

  Status Pause() override {
    std::lock_guard<std::mutex> lock(mu_);
    MLOS_RETURN_IF_ERROR(CheckLiveLocked());
    pause_requested_ = true;
    return Status::OK();
  }

  Status Resume() override {
    std::lock_guard<std::mutex> lock(mu_);
    MLOS_RETURN_IF_ERROR(CheckLiveLocked());
    pause_requested_ = false;
    cv_.notify_all();
    return Status::OK();
  }

  Status Stop() override {
    std::lock_guard<std::mutex> lock(mu_);
    MLOS_RETURN_IF_ERROR(CheckLiveLocked());
    stop_requested_ = true;
    cv_.notify_all();
    return Status::OK();
  }

  TrainingStatus GetStatus() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

  bool Wait(double timeout_s) override {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [this] { return done_; });
  }

  std::vector<float> FlatParameters() const override {
    std::lock_guard<std::mutex> lock(step_mu_);
    std::vector<float> out;
    for (const auto& p : params_) {
      at::Tensor c = p.detach().to(torch::kFloat).contiguous();
      const float* d = c.data_ptr<float>();
      out.insert(out.end(), d, d + c.numel());
    }
    return out;
  }

 private:
  // Pause, resume and stop apply to a session that has not ended (starting, running, paused).
  Status CheckLiveLocked() const {
    if (done_) {
      return FailedPrecondition("session ", status_.id, " is ", SessionStateName(status_.state));
    }
    return Status::OK();
  }

  bool StopRequested() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_requested_;
  }

  void MakeOptimizer() {
    const double lr = config_.learning_rate;
    if (config_.optimizer == "sgd") {
      optimizer_ =
          std::make_unique<torch::optim::SGD>(params_, torch::optim::SGDOptions(lr)
                                                           .momentum(config_.momentum)
                                                           .weight_decay(config_.weight_decay));
    } else if (config_.optimizer == "adam") {
      optimizer_ = std::make_unique<torch::optim::Adam>(
          params_, torch::optim::AdamOptions(lr).weight_decay(config_.weight_decay));
    } else {
      optimizer_ = std::make_unique<torch::optim::AdamW>(
          params_, torch::optim::AdamWOptions(lr).weight_decay(config_.weight_decay));
    }
  }

  double LearningRate(int64_t step) const {
    const double base = config_.learning_rate;
    if (config_.warmup_steps > 0 && step < config_.warmup_steps) {
      return base * static_cast<double>(step + 1) / static_cast<double>(config_.warmup_steps);
    }
    const double t = static_cast<double>(step - config_.warmup_steps);
    const double span =
        std::max<double>(1.0, static_cast<double>(total_steps_ - config_.warmup_steps));
    if (config_.schedule == "cosine")
      return base * 0.5 * (1.0 + std::cos(kPi * std::min(1.0, t / span)));
    if (config_.schedule == "linear") return base * std::max(0.0, 1.0 - t / span);
    if (config_.schedule == "step") {
      const int64_t every = config_.step_size > 0 ? config_.step_size : steps_per_epoch_;
      return base * std::pow(config_.gamma, std::floor(t / static_cast<double>(every)));
    }
    return base;
  }

  // Inputs and targets for the samples idx[begin, end).
  std::pair<at::Tensor, at::Tensor> Batch(const std::vector<int64_t>& idx, size_t begin,
                                          size_t end) const {
    const auto b = static_cast<int64_t>(end - begin);
    if (data_.kind == Dataset::Kind::kText) {
      const int64_t ctx = data_.context;
      at::Tensor x = torch::empty({b, ctx}, torch::kLong), y = torch::empty({b, ctx}, torch::kLong);
      int64_t* xp = x.data_ptr<int64_t>();
      int64_t* yp = y.data_ptr<int64_t>();
      for (int64_t r = 0; r < b; ++r) {
        const int64_t* src = data_.tokens.data() + idx[begin + static_cast<size_t>(r)] * ctx;
        std::copy(src, src + ctx, xp + r * ctx);
        std::copy(src + 1, src + 1 + ctx, yp + r * ctx);
      }
      return {x, y};
    }
    std::vector<int64_t> xs = {b};
    xs.insert(xs.end(), data_.sample_shape.begin(), data_.sample_shape.end());
    at::Tensor x = torch::empty(xs, torch::kFloat);
    float* xp = x.data_ptr<float>();
    const int64_t fs = data_.feature_size, tw = data_.target_width;
    const bool ce = config_.loss == "cross_entropy";
    at::Tensor y = ce ? torch::empty({b}, torch::kLong) : torch::empty({b, tw}, torch::kFloat);
    for (int64_t r = 0; r < b; ++r) {
      const int64_t s = idx[begin + static_cast<size_t>(r)];
      std::copy(data_.features.data() + s * fs, data_.features.data() + (s + 1) * fs, xp + r * fs);
      if (ce) {
        y.data_ptr<int64_t>()[r] = static_cast<int64_t>(data_.targets[static_cast<size_t>(s * tw)]);
      } else {
        std::copy(data_.targets.data() + s * tw, data_.targets.data() + (s + 1) * tw,
                  y.data_ptr<float>() + r * tw);
      }
    }
    return {x, y};
  }

  // Loss, and the number of correct predictions when `correct` is given (cross-entropy).
  at::Tensor Loss(const at::Tensor& x, const at::Tensor& y, int64_t* correct) {
    at::Tensor out = module_.forward({x}).toTensor();
    if (config_.loss == "mse") return torch::mse_loss(out.reshape(y.sizes()), y);
    at::Tensor logits = out.reshape({-1, out.size(-1)});
    at::Tensor target = y.reshape({-1});
    if (correct != nullptr) *correct += logits.argmax(1).eq(target).sum().item<int64_t>();
    return torch::cross_entropy_loss(logits, target);
  }

  void Validate() {
    if (val_.empty()) return;
    module_.eval();
    torch::NoGradGuard no_grad;
    double loss_sum = 0;
    int64_t correct = 0, count = 0;
    const auto bs = static_cast<size_t>(std::max<int64_t>(config_.batch_size, 256));
    for (size_t b = 0; b < val_.size(); b += bs) {
      const size_t e = std::min(val_.size(), b + bs);
      auto [x, y] = Batch(val_, b, e);
      loss_sum += Loss(x, y, &correct).item<double>() * static_cast<double>(e - b);
      count += y.numel();
    }
    module_.train();
    std::lock_guard<std::mutex> lock(mu_);
    status_.has_validation = true;
    status_.val_loss = loss_sum / static_cast<double>(val_.size());
    if (config_.loss == "cross_entropy") {
      status_.val_accuracy = static_cast<double>(correct) / static_cast<double>(count);
    }
  }

  Status SaveCheckpoint() {
    if (config_.checkpoint_dir.empty()) return Status::OK();
    {
      // The newest checkpoint is of this very step (a stop right after a resume, or the time
      // and step rules met at once): it holds this state already.
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_.checkpoints.empty() && status_.checkpoints.back().step == step_) {
        return Status::OK();
      }
    }
    std::ostringstream bytes;
    try {
      torch::serialize::OutputArchive ar;
      for (size_t i = 0; i < params_.size(); ++i)
        ar.write("param." + param_names_[i], params_[i].detach());
      for (const auto& b : module_.named_buffers()) ar.write("buffer." + b.name, b.value, true);
      torch::serialize::OutputArchive opt;
      optimizer_->save(opt);
      ar.write("optimizer", opt);
      ar.write("step", torch::tensor(step_, torch::kLong));
      ar.write("rng", at::detail::getDefaultCPUGenerator().get_state());
      ar.save_to(bytes);
    } catch (const std::exception& e) {
      return Internal("checkpoint at step ", step_, ": ", ErrorText(e));
    }
    const std::string path = CheckpointPath(config_.checkpoint_dir, step_);
    MLOS_RETURN_IF_ERROR(WriteFileAtomic(path, bytes.str()));
    std::lock_guard<std::mutex> lock(mu_);
    status_.checkpoints.push_back({path, step_});
    return Status::OK();
  }

  Status LoadCheckpoint(const std::string& path) {
    try {
      torch::serialize::InputArchive ar;
      ar.load_from(path);
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < params_.size(); ++i) {
        at::Tensor t;
        ar.read("param." + param_names_[i], t);
        if (!t.sizes().equals(params_[i].sizes())) {
          return InvalidArgument("checkpoint ", path, ": parameter ", param_names_[i],
                                 " has another shape than the model's");
        }
        params_[i].copy_(t);
      }
      for (const auto& b : module_.named_buffers()) {
        at::Tensor t;
        if (ar.try_read("buffer." + b.name, t, true)) b.value.copy_(t);
      }
      torch::serialize::InputArchive opt;
      ar.read("optimizer", opt);
      optimizer_->load(opt);
      at::Tensor step;
      ar.read("step", step);
      step_ = step.item<int64_t>();
      at::Tensor rng;
      if (ar.try_read("rng", rng)) {
        at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the global one
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(rng);
      }
    } catch (const std::exception& e) {
      return DataLoss("cannot read checkpoint ", path, ": ", ErrorText(e));
    }
    if (step_ < 0 || step_ > total_steps_) return DataLoss("checkpoint ", path, ": bad step");
    std::lock_guard<std::mutex> lock(mu_);
    status_.step = step_;
    status_.epoch = step_ / steps_per_epoch_;
    return Status::OK();
  }

  Status SaveModel() {
    if (config_.output_path.empty()) return Status::OK();
    const std::string tmp = config_.output_path + ".tmp";
    try {
      module_.save(tmp);
    } catch (const std::exception& e) {
      return Internal("cannot save model to ", tmp, ": ", ErrorText(e));
    }
    MLOS_RETURN_IF_ERROR(CommitFileAtomic(tmp, config_.output_path));
    std::lock_guard<std::mutex> lock(mu_);
    status_.output_path = config_.output_path;
    return Status::OK();
  }

  // Blocks while paused. Returns false when the session must end.
  bool Gate(double* active_s, Clock::time_point* since) {
    std::unique_lock<std::mutex> lock(mu_);
    if (pause_requested_ && !stop_requested_) {
      *active_s += std::chrono::duration<double>(Clock::now() - *since).count();
      status_.state = SessionState::kPaused;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !pause_requested_ || stop_requested_; });
      status_.state = SessionState::kRunning;
      *since = Clock::now();
    }
    return !stop_requested_;
  }

  void Finish(SessionState s, const std::string& error) {
    std::lock_guard<std::mutex> lock(mu_);
    status_.state = s;
    status_.error = error;
    status_.eta_seconds = 0;
    done_ = true;
    cv_.notify_all();
  }

  void Run() {
    try {
      RunLoop();
    } catch (const std::exception& e) {
      Finish(SessionState::kFailed, StrCat("training step ", step_, ": ", ErrorText(e)));
    }
  }

  void RunLoop() {
    at::init_num_threads();
    at::set_num_threads(config_.threads);
    if (step_ == 0) torch::manual_seed(config_.seed);
    double active_s = 0;
    int64_t samples = 0;
    Clock::time_point since = Clock::now();
    std::deque<double> recent;
    double recent_sum = 0;
    int64_t order_epoch = -1;
    std::vector<int64_t> order;
    // Time-based checkpoints (config.checkpoint_seconds), in training time: pauses excluded.
    double last_ckpt_s = 0;  // training time at the last checkpoint (or the start)
    double ckpt_cost_s = 0;  // how long the last one took to write
    while (step_ < total_steps_) {
      if (!Gate(&active_s, &since)) {
        Status s = SaveCheckpoint();
        Finish(SessionState::kStopped, s.ok() ? "" : s.message());
        return;
      }
      const int64_t epoch = step_ / steps_per_epoch_;
      const int64_t in_epoch = step_ % steps_per_epoch_;
      if (epoch != order_epoch) {
        order = train_;
        Shuffle(&order, EpochSeed(config_.seed, epoch));
        order_epoch = epoch;
      }
      const auto bs = static_cast<size_t>(config_.batch_size);
      const size_t begin = static_cast<size_t>(in_epoch) * bs;
      const size_t end = std::min(order.size(), begin + bs);
      auto [x, y] = Batch(order, begin, end);
      const double lr = LearningRate(step_);
      double loss_value;
      {
        std::lock_guard<std::mutex> lock(step_mu_);
        for (auto& g : optimizer_->param_groups()) g.options().set_lr(lr);
        optimizer_->zero_grad();
        at::Tensor loss = Loss(x, y, nullptr);
        loss.backward();
        optimizer_->step();
        loss_value = loss.item<double>();
        ++step_;
      }
      samples += static_cast<int64_t>(end - begin);
      recent.push_back(loss_value);
      recent_sum += loss_value;
      if (recent.size() > 50) {
        recent_sum -= recent.front();
        recent.pop_front();
      }
      const bool epoch_end = step_ % steps_per_epoch_ == 0 || step_ == total_steps_;
      const bool eval_now =
          config_.eval_interval > 0 ? step_ % config_.eval_interval == 0 : epoch_end;
      if (eval_now) Validate();
      {
        std::lock_guard<std::mutex> lock(mu_);
        const double elapsed =
            active_s + std::chrono::duration<double>(Clock::now() - since).count();
        status_.step = step_;
        status_.epoch = step_ / steps_per_epoch_;
        status_.loss = recent_sum / static_cast<double>(recent.size());
        status_.learning_rate = lr;
        status_.samples_per_second = elapsed > 0 ? static_cast<double>(samples) / elapsed : 0;
        status_.eta_seconds =
            status_.samples_per_second > 0
                ? static_cast<double>((total_steps_ - step_) * config_.batch_size) /
                      status_.samples_per_second
                : -1;
      }
      bool checkpoint_now = config_.checkpoint_interval > 0 &&
                            step_ % config_.checkpoint_interval == 0 && step_ < total_steps_;
      double trained_s = 0;
      if (config_.checkpoint_seconds > 0 && step_ < total_steps_) {
        trained_s = active_s + std::chrono::duration<double>(Clock::now() - since).count();
        // At most every checkpoint_seconds, and never more often than 50x a checkpoint's own
        // write time, so their cost stays under ~2% of training time for any model size.
        const double every = std::max(config_.checkpoint_seconds, 50.0 * ckpt_cost_s);
        if (trained_s - last_ckpt_s >= every) checkpoint_now = true;
      }
      if (checkpoint_now) {
        const Clock::time_point t0 = Clock::now();
        Status s = SaveCheckpoint();
        if (!s.ok()) return Finish(SessionState::kFailed, s.message());
        ckpt_cost_s = std::chrono::duration<double>(Clock::now() - t0).count();
        last_ckpt_s = active_s + std::chrono::duration<double>(Clock::now() - since).count();
      }
    }
    Status s = SaveCheckpoint();
    if (s.ok()) s = SaveModel();
    Finish(s.ok() ? SessionState::kCompleted : SessionState::kFailed, s.ok() ? "" : s.message());
  }

  TrainingConfig config_;
  Dataset data_;
  torch::jit::Module module_;
  std::vector<std::string> param_names_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<int64_t> train_, val_;
  int64_t steps_per_epoch_ = 1;
  int64_t total_steps_ = 0;
  int64_t step_ = 0;  // written by the training thread only (and Init before it starts)

  mutable std::mutex step_mu_;  // held around one optimizer step; FlatParameters reads under it
  mutable std::mutex mu_;       // guards status_ and the flags below
  std::condition_variable cv_;
  TrainingStatus status_;
  bool pause_requested_ = false;
  bool stop_requested_ = false;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<TrainingSession>> TrainingSession::Start(const std::string& id,
                                                                const std::string& model_path,
                                                                const std::string& dataset_path,
                                                                const TrainingConfig& config,
                                                                bool resume) {
  auto s = std::make_unique<TorchSession>(id, config);
  MLOS_RETURN_IF_ERROR(s->Precheck(model_path, dataset_path));
  s->Launch(model_path, dataset_path, resume);
  return std::unique_ptr<TrainingSession>(std::move(s));
}

}  // namespace mlos::training
