// CheckTorchScriptFile: the cheap test a training session's start makes of its model file
// before answering, so that a wrong file is a synchronous error instead of a failure on the
// session's thread (and so that libtorch, which leaks a little on every archive it cannot
// load, never sees most wrong files). Torch-free.
// Thread-safety: a free function without state.
#pragma once

#include <string>

#include "mlos/status.h"

namespace mlos::training {

// OK when `path` is a regular file holding a zip archive (what torch.jit.save writes) whose
// central directory lists a `constants.pkl` entry, which TorchScript archives have and
// torch.save'd tensors, .npz files and other zips do not. NotFound when the file is missing or
// unreadable, InvalidArgument otherwise. Reads the archive's directory only (at most 64 MiB,
// usually a few KiB). A zip64 archive, whose directory this does not parse, passes.
Status CheckTorchScriptFile(const std::string& path);

}  // namespace mlos::training
