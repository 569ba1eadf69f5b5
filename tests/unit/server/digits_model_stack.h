// The in-process model stack the server tests (HTTP and IPC) stand on: a scratch directory, the
// real plugin host behind a RecordingHost, a registry store, a model manager, and the embedded
// digits MLP (MLOS_TEST_DIGITS_DIR) registered and loaded in it. One copy of this set-up instead
// of one per server test, so that a change to how the runtime is assembled is made once.
//
// Ownership: owns everything it builds, torn down in reverse order (the manager before the store
// and hosts, the directory last). Thread-safety: build and destroy on one thread; the parts are
// as thread-safe as the runtime objects themselves.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "mlos/thread_pool.h"
#include "runtime/model_manager.h"
#include "runtime/plugin_host.h"
#include "runtime/registry_store.h"
#include "unit/server/recording_host.h"

namespace mlos::testing {

class DigitsModelStack {
 public:
  DigitsModelStack() = default;
  DigitsModelStack(const DigitsModelStack&) = delete;
  DigitsModelStack& operator=(const DigitsModelStack&) = delete;
  ~DigitsModelStack() {
    models_.reset();
    store_.reset();
    host_.reset();
    real_host_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Builds the stack in a fresh directory named after `tag` and the process id. Fails the
  // calling test (fatally) when any part cannot be made; wrap the call in
  // ASSERT_NO_FATAL_FAILURE.
  void Open(const std::string& tag) {
    namespace fs = std::filesystem;
    dir_ = fs::temp_directory_path() / ("mlos-" + tag + "-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    runtime::PluginHostOptions popts;
    popts.pool = &pool_;
    popts.log = [](int, std::string_view, std::string_view) {};
    auto real_host = runtime::CreatePluginHost(popts);
    ASSERT_TRUE(real_host.ok()) << real_host.status().ToString();
    real_host_ = std::move(real_host).value();
    host_ = std::make_unique<RecordingHost>(real_host_.get());
    auto store = runtime::RegistryStore::Open(dir_ + "/registry.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    models_ = std::make_unique<runtime::ModelManager>(store_.get(), host_.get(), dir_);
    runtime::RegisterRequest req;
    req.path = MLOS_TEST_DIGITS_DIR;
    auto e = models_->Register(req);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    model_id_ = (*e)->id();
  }

  const std::string& dir() const { return dir_; }
  const std::string& model_id() const { return model_id_; }
  ThreadPool* pool() { return &pool_; }
  RecordingHost* host() { return host_.get(); }
  runtime::ModelManager* models() { return models_.get(); }

 private:
  ThreadPool pool_{2};
  std::string dir_;
  std::unique_ptr<runtime::PluginHost> real_host_;
  std::unique_ptr<RecordingHost> host_;
  std::unique_ptr<runtime::RegistryStore> store_;
  std::unique_ptr<runtime::ModelManager> models_;
  std::string model_id_;
};

}  // namespace mlos::testing
