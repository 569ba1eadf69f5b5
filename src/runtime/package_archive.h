// Safe extraction of .axon packages (gzip tar, read with libarchive) and SHA-256 of files.
//
// Extraction writes regular files and folders only, under `dest` and nowhere else: absolute
// paths, ".." components, device nodes and FIFOs are refused, symbolic and hard links are
// refused unless their target stays inside the package, and total size and entry count are
// capped. Files are created with O_NOFOLLOW | O_EXCL so nothing already on disk is followed or
// overwritten. On any error the partly written `dest` is removed and a Status names the entry.
// Thread-safety: free functions without shared state.
#pragma once

#include <cstdint>
#include <string>

#include "mlos/status.h"

namespace mlos::runtime {

struct ExtractLimits {
  int64_t max_total_bytes = 16ll << 30;
  int64_t max_entries = 100000;
};

// Extracts `archive_path` into `dest` (created; must not exist yet).
Status ExtractPackage(const std::string& archive_path, const std::string& dest,
                      const ExtractLimits& limits = {});

// Lowercase hex SHA-256 of a file's bytes.
Result<std::string> Sha256File(const std::string& path);

}  // namespace mlos::runtime
