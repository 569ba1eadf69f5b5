// SQLite registry: records survive closing and reopening.
#include "runtime/registry_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace mlos::runtime {
namespace {

TEST(RegistryStore, PutLoadDeleteAcrossReopen) {
  std::string dir = testing::TempDir() + "/mlos_registry_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = dir + "/registry.db";
  {
    auto store = std::move(RegistryStore::Open(path)).value();
    ModelRecord r;
    r.id = "hf/bert@latest";
    r.ns = "hf";
    r.name = "bert";
    r.version = "latest";
    r.path = "/m/model.onnx";
    r.io_json = "{\"inputs\":[]}";
    r.owns_files = true;
    r.created_at = 42;
    ASSERT_TRUE(store->Put(r).ok());
    r.id = "hf/bert@2";
    r.version = "2";
    ASSERT_TRUE(store->Put(r).ok());
    r.path = "/m/other.onnx";
    ASSERT_TRUE(store->Put(r).ok());  // replace
    ASSERT_TRUE(store->Delete("nope").ok());
  }
  {
    auto store = std::move(RegistryStore::Open(path)).value();
    auto all = *store->LoadAll();
    ASSERT_EQ(all.size(), 2u);
    const ModelRecord& b = all[0].id == "hf/bert@2" ? all[0] : all[1];
    EXPECT_EQ(b.path, "/m/other.onnx");
    EXPECT_TRUE(b.owns_files);
    EXPECT_EQ(b.created_at, 42);
    EXPECT_EQ(b.io_json, "{\"inputs\":[]}");
    ASSERT_TRUE(store->Delete("hf/bert@2").ok());
    store->Checkpoint();
  }
  auto store = std::move(RegistryStore::Open(path)).value();
  EXPECT_EQ(store->LoadAll()->size(), 1u);
  EXPECT_FALSE(RegistryStore::Open("/nonexistent/dir/registry.db").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mlos::runtime
