// mlosctl: the command-line tool of MLOS (engine subcommands: conformance, run, bench; train on the
// daemon).
#include <iostream>
#include <string>
#include <vector>

#include "tools/mlosctl_common.h"

namespace mlosctl {
int Train(const std::vector<std::string>& args);  // mlosctl_train.cc
}  // namespace mlosctl

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: mlosctl conformance DIR... | run MODEL ... | bench MODEL ... | "
                 "train MODEL DATASET ... | train status|pause|resume|stop ID\n";
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (cmd == "conformance") return mlosctl::Conformance(args);
  if (cmd == "run") return mlosctl::RunModel(args);
  if (cmd == "bench") return mlosctl::Bench(args);
  if (cmd == "train") return mlosctl::Train(args);
  std::cerr << "mlosctl: unknown command '" << cmd << "'\n";
  return 2;
}
