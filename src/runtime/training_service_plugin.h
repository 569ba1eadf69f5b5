// CreatePluginTrainingService: the TrainingService (training_service.h) on a plugin that
// implements the SMI 1.1 training entries (today libmlos_torch.so), so neither the daemon nor
// libmlos links libtorch.
//
// What the service adds to the plugin's sessions:
//   * models: `request.model` is a registered model id (name, name@version, name:version),
//     resolved through the ModelManager to its file, or else a path to a TorchScript file;
//   * files: session <id> keeps its checkpoints in <data_dir>/training/<id>/checkpoints (unless
//     the config names a checkpoint_dir) and its trained model in
//     <data_dir>/training/<id>/model.pt (unless the config names an output_path);
//   * persistence: the session table is <data_dir>/training/sessions.json, rewritten atomically
//     (temporary file, fsync, rename, fsync of the folder) whenever a session changes state.
//     A new service on the same data dir (a restart, or after kill -9) lists every session
//     again; sessions that were running continue from their newest checkpoint; paused ones stay
//     paused and continue from it on Resume. Ids ("train-<n>") are never reused;
//   * register_as: a completed session's model is registered as a new version of that model
//     (framework pytorch, execution format torchscript) and so served by the torch plugin.
//
// Ownership: the service holds the plugin's trainer (and so the plugin) while it lives; `host`
// and `models` must outlive it. Destroying it stops its running sessions (each writes a last
// checkpoint) without marking them stopped, so the next service continues them.
// Thread-safety: every method may be called concurrently. Get and List do not block on
// training (they copy state); a background thread follows the sessions and registers models.
#pragma once

#include <memory>
#include <string>

#include "runtime/model_manager.h"
#include "runtime/plugin_host.h"
#include "runtime/training_service.h"

namespace mlos::runtime {

// `models` may be null (then register_as is refused and `model` must be a file path). With no
// training plugin loaded the service still lists persisted sessions, and Start answers
// Unavailable "no training plugin loaded (libmlos_torch.so)".
std::unique_ptr<TrainingService> CreatePluginTrainingService(PluginHost* host, ModelManager* models,
                                                             std::string data_dir);

}  // namespace mlos::runtime
