// Load, unload and reload under concurrent requests: models keep their plugin alive, a reload
// while the old copy still serves loads a private copy, and no request sees a torn state.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "plugin_test_util.h"
#include "runtime/plugin_host.h"

namespace mlos::runtime {
namespace {

using testing::ExamplePlugin;
using testing::TempDir;
using testing::TestPlugin;

Status InferOnce(LoadedModel& m, float v) {
  std::vector<NamedTensor> outs;
  Tensor x = Tensor::FromVector<float>({1}, {v}).value();
  MLOS_RETURN_IF_ERROR(m.Infer({{"x", x}}, &outs));
  if (outs.size() != 1 || outs[0].second.GetAsDouble(0) != v + 1) {
    return Internal("wrong result");
  }
  return Status::OK();
}

TEST(PluginConcurrency, ReloadWhileRequestsAreInFlight) {
  ThreadPool pool(1);
  PluginHostOptions o;
  o.pool = &pool;
  o.load_builtins = false;
  o.log = [](int, std::string_view, std::string_view) {};
  auto host = std::move(CreatePluginHost(o)).value();
  TempDir dir;
  const std::string lib = TestPlugin("faulty");
  ASSERT_TRUE(host->RegisterPlugin("p", "", "", lib).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> served{0}, failures{0}, reloads{0}, not_found{0};
  std::vector<std::thread> threads;
  // Clients: each picks up a model from whatever plugin "p" is now, and runs requests on it
  // while the reloader swaps the plugin underneath.
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      int i = 0;
      while (!stop.load()) {
        auto m =
            host->LoadModel("p", StrCat("m", t), StrCat(dir.path(), t == 0 ? "/slow" : "/adopt"));
        if (!m.ok()) {
          if (m.status().code() == StatusCode::kNotFound) {
            ++not_found;
          } else {
            ++failures;
          }
          continue;
        }
        for (int k = 0; k < 5; ++k) {
          if (InferOnce(**m, static_cast<float>(i++)).ok()) {
            ++served;
          } else {
            ++failures;
          }
          std::string raw;
          if (!(*m)->InferRaw("abc", &raw).ok() || raw != "abc") ++failures;
        }
      }
    });
  }
  // Reloader: unregister and register again, so the library is loaded a second time while
  // models of the old copy are still serving.
  threads.emplace_back([&] {
    while (!stop.load()) {
      Status s = host->UnregisterPlugin("p");
      if (!s.ok()) ++failures;
      auto r = host->RegisterPlugin("p", "", "", lib);
      if (!r.ok()) {
        ++failures;
        ADD_FAILURE() << r.status().ToString();
      }
      ++reloads;
      host->ListPlugins();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(served.load(), 50);
  EXPECT_GT(reloads.load(), 10);
  // Everything unloads at the end.
  ASSERT_TRUE(host->UnregisterPlugin("p").ok());
  EXPECT_TRUE(host->ListPlugins().empty());
}

TEST(PluginConcurrency, ConcurrentRequestsOnOneSerialisedPlugin) {
  // The C example does not declare itself thread-safe: the host serialises its calls.
  ThreadPool pool(1);
  PluginHostOptions o;
  o.pool = &pool;
  o.load_builtins = false;
  auto host = std::move(CreatePluginHost(o)).value();
  TempDir dir;
  ASSERT_TRUE(host->RegisterPlugin("scale", "", "", ExamplePlugin("scale")).ok());
  auto m = host->LoadModel("scale", "m", dir.Write("m.txt", "1 1")).value();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (!InferOnce(*m, static_cast<float>(t * 1000 + i)).ok()) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace mlos::runtime
