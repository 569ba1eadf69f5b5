// Training data in memory: numeric tables (CSV, NPY, NPZ, folders of those) and character-level
// text corpora. Loading is torch-free; src/training/training_session.cc turns batches into
// tensors. Every size read from a file is checked before it is used; a malformed file gives an
// InvalidArgument naming the file and what is wrong.
// Ownership: a Dataset owns its arrays. Thread-safety: immutable after Load; reads are safe from
// any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlos/status.h"

namespace mlos::training {

// One numeric array read from .npy (or a member of .npz), converted to float.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
  bool integral = false;  // the file held integers or booleans
};

struct Dataset {
  enum class Kind { kTable, kText };
  Kind kind = Kind::kTable;
  // kTable: sample i is features[i*feature_size .. +feature_size) with shape sample_shape, and
  // its target is targets[i*target_width .. +target_width).
  std::vector<float> features;
  std::vector<int64_t> sample_shape;
  int64_t feature_size = 0;
  std::vector<float> targets;
  int64_t target_width = 1;
  // kText: sample i is tokens[i*context .. +context) and its target the same window shifted by
  // one character. vocab[k] is the byte of token k.
  std::vector<int64_t> tokens;
  std::string vocab;
  int64_t context = 0;
  int64_t num_samples = 0;
};

// `format`: auto (from the extension or folder contents), csv, npy, npz, text, folder.
// `label_column`: for csv and single 2-D npy files, the target column (-1: the last).
Result<Dataset> LoadDataset(const std::string& path, const std::string& format,
                            int64_t label_column, int64_t context_length);

// The checks LoadDataset makes before it reads the data: the path exists and can be opened (a
// folder: listed), the format (given or detected) is known, and a .npy / .npz file starts with
// its magic bytes. Reads a few bytes only, so a session's start can answer at once (NotFound or
// InvalidArgument naming the path) and leave the loading to the session's thread.
Status CheckDataset(const std::string& path, const std::string& format);

Result<NpyArray> ParseNpy(const std::string& bytes, const std::string& what);
// Members of an .npz archive (stored, not deflated), by name without the .npy suffix.
Result<std::vector<std::pair<std::string, NpyArray>>> ParseNpz(const std::string& bytes,
                                                               const std::string& what);

}  // namespace mlos::training
