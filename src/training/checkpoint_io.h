// Crash-safe files for training: WriteFileAtomic writes a temporary file in the target's folder,
// fsyncs it, renames it over the target and fsyncs the folder, so after a crash (kill -9, power
// loss) the target holds either its old bytes or all of the new ones. Checkpoints are named
// ckpt-<step, 12 digits>.mlosckpt and never overwritten, so no earlier one is lost.
// Thread-safety: free functions; concurrent writers must use different targets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlos/status.h"
#include "training/training_types.h"

namespace mlos::training {

Status WriteFileAtomic(const std::string& path, std::string_view bytes);
// Renames an already written file `tmp` over `path` after fsyncing it, then fsyncs the folder.
Status CommitFileAtomic(const std::string& tmp, const std::string& path);
Status EnsureDirectory(const std::string& dir);
std::string CheckpointPath(const std::string& dir, int64_t step);
// Checkpoints in `dir`, oldest first; temporary leftovers of a crashed write are ignored.
std::vector<CheckpointInfo> ListCheckpoints(const std::string& dir);

}  // namespace mlos::training
