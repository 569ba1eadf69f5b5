// Model ids and version ordering.
#include "runtime/model_id.h"

#include <gtest/gtest.h>

namespace mlos::runtime {
namespace {

TEST(ModelId, Parses) {
  ModelId id = *ParseModelId("hf/bert-base-uncased@latest");
  EXPECT_EQ(id.ns, "hf");
  EXPECT_EQ(id.name, "bert-base-uncased");
  EXPECT_EQ(id.version, "latest");
  EXPECT_EQ(id.ToString(), "hf/bert-base-uncased@latest");
  id = *ParseModelId("hf/sentence-transformers/all-MiniLM-L6-v2@1.0");
  EXPECT_EQ(id.name, "sentence-transformers/all-MiniLM-L6-v2");
  EXPECT_EQ(ParseModelId("digits")->ToString(), "local/digits@latest");
}

TEST(ModelId, RejectsUnsafe) {
  for (const char* bad : {"", "../x@1", "a/..@1", "a/b@..", "a//b@1", "a/b/@1", "/a/b@1", "a/b@1/2",
                          "a b/c@1", "a/b@", "a/.@1", "a\\b/c@1"}) {
    EXPECT_FALSE(ParseModelId(bad).ok()) << bad;
  }
  EXPECT_FALSE(ParseModelId(std::string(600, 'a')).ok());
}

TEST(ModelId, VersionOrder) {
  EXPECT_TRUE(VersionLess("1.2", "1.10"));
  EXPECT_TRUE(VersionLess("v1", "v2"));
  EXPECT_FALSE(VersionLess("2.0", "1.9.9"));
  EXPECT_TRUE(VersionLess("1.0", "1.0.1"));
}

}  // namespace
}  // namespace mlos::runtime
