// Configuration precedence and validation.
#include "runtime/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace mlos::runtime {
namespace {

TEST(Config, Defaults) {
  DaemonConfig c = *LoadConfig({}, {});
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.grpc_port, 8081);
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.max_body_bytes, 64ll << 20);
  EXPECT_FALSE(c.no_http);
}

TEST(Config, FlagsEnvFileOrder) {
  std::string path = testing::TempDir() + "/mlos_config_test.yaml";
  {
    std::ofstream f(path);
    f << "http_port: 9000\ngrpc-port: 9001\nlog_level: debug\nno_grpc: true\nhost: 0.0.0.0\n";
  }
  DaemonConfig c = *LoadConfig({"--config", path, "--http-port=9100", "--no-ipc"},
                               {"MLOS_HTTP_PORT=9050", "MLOS_GRPC_PORT=9051", "HOME=/x"});
  EXPECT_EQ(c.http_port, 9100);  // flag beats env beats file
  EXPECT_EQ(c.grpc_port, 9051);  // env beats file
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.no_grpc);
  EXPECT_TRUE(c.no_ipc);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.config, path);
  // The config file can come from the environment too.
  c = *LoadConfig({}, {"MLOS_CONFIG=" + path});
  EXPECT_EQ(c.http_port, 9000);
  std::remove(path.c_str());
}

TEST(Config, Errors) {
  EXPECT_FALSE(LoadConfig({"--bogus"}, {}).ok());
  EXPECT_FALSE(LoadConfig({"--http-port"}, {}).ok());
  EXPECT_FALSE(LoadConfig({"--http-port", "abc"}, {}).ok());
  EXPECT_FALSE(LoadConfig({"--http-port", "70000"}, {}).ok());
  EXPECT_FALSE(LoadConfig({"--no-http=maybe"}, {}).ok());
  EXPECT_FALSE(LoadConfig({}, {"MLOS_HTTP_PORT=-3"}).ok());
  EXPECT_FALSE(LoadConfig({"--config", "/nonexistent.yaml"}, {}).ok());
  Status s = LoadConfig({"--http-port", "x"}, {}).status();
  EXPECT_NE(s.message().find("http_port"), std::string::npos);
  EXPECT_TRUE(LoadConfig({"--help"}, {})->show_help);
}

}  // namespace
}  // namespace mlos::runtime
