// python/mlos_smi declares the SMI version its plugins are written against; it must be the
// version of include/mlos/smi_spec.h (1.2 since the output bindings). Reads the Python source
// and compares its three numbers with the C header's macros.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "mlos/smi_spec.h"

namespace {

int PythonConstant(const std::string& source, const std::string& name) {
  std::smatch m;
  const std::regex re("(^|\\n)" + name + " = ([0-9]+)");
  if (!std::regex_search(source, m, re)) return -1;
  return std::stoi(m[2].str());
}

TEST(SmiPythonVersionTest, MlosSmiDeclaresTheHeadersVersion) {
  std::ifstream in(std::string(MLOS_SOURCE_DIR) + "/python/mlos_smi/__init__.py");
  ASSERT_TRUE(in) << "python/mlos_smi/__init__.py not found";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string src = ss.str();
  EXPECT_EQ(PythonConstant(src, "SMI_VERSION_MAJOR"), SMI_VERSION_MAJOR);
  EXPECT_EQ(PythonConstant(src, "SMI_VERSION_MINOR"), SMI_VERSION_MINOR);
  EXPECT_EQ(PythonConstant(src, "SMI_VERSION_PATCH"), SMI_VERSION_PATCH);
}

}  // namespace
