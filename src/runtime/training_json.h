// JSON codecs for training: the pieces behind the four codecs declared in training_service.h
// (ParseTrainingRequest and friends), exposed separately because the SMI training entries
// (docs/SMI.md, "Training") carry the same objects across the plugin boundary: the torch plugin
// compiles this file too, so host and plugin agree on one shape.
//
// Every TrainingConfig / TrainingStatus member appears under its C++ name. Parsers reject
// unknown keys, wrong types and out-of-range values with InvalidArgument naming the key.
// Thread-safety: free functions without state.
#pragma once

#include <string>
#include <string_view>

#include "mlos/status.h"
#include "training/training_types.h"

namespace mlos::runtime {

// TrainingConfig <-> {"optimizer": "adam", "learning_rate": 0.001, ...}. Missing keys keep
// their defaults; the result is range-checked (ValidateTrainingConfig).
Result<training::TrainingConfig> ParseTrainingConfig(std::string_view json);
std::string TrainingConfigToJson(const training::TrainingConfig& config);
// The checks ParseTrainingConfig applies, for configs built in code.
Status ValidateTrainingConfig(const training::TrainingConfig& config);

// TrainingStatus <-> JSON (state as its name: starting, running, paused, stopped, completed,
// failed).
std::string TrainingStatusToJson(const training::TrainingStatus& status);
Result<training::TrainingStatus> ParseTrainingStatus(std::string_view json);

Result<training::SessionState> ParseTrainingState(std::string_view name);

// What the host sends a training plugin's train_start: the model file (already resolved), the
// dataset, the config, and whether to continue from the newest checkpoint in
// config.checkpoint_dir. {"model_path": ..., "dataset": ..., "config": {...}, "resume": bool}
struct PluginTrainStart {
  std::string model_path;
  std::string dataset;
  training::TrainingConfig config;
  bool resume = false;
};
std::string PluginTrainStartToJson(const PluginTrainStart& request);
Result<PluginTrainStart> ParsePluginTrainStart(std::string_view json);

}  // namespace mlos::runtime
