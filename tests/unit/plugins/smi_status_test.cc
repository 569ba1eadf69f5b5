// The Status <-> SMI status mapping: a plugin's error keeps its class through the ABI, so a
// client error inside a plugin still reaches the client as one.
#include "runtime/smi_status.h"

#include <gtest/gtest.h>

#include "runtime/plugin_host_api.h"

namespace mlos::runtime {
namespace {

StatusCode RoundTrip(StatusCode code) {
  return StatusFromSmi(SmiStatusFor(code), "p", "inference", "message").code();
}

TEST(SmiStatus, ClientErrorsStayClientErrors) {
  EXPECT_EQ(SmiStatusFor(StatusCode::kOk), SMI_SUCCESS);
  EXPECT_EQ(RoundTrip(StatusCode::kInvalidArgument), StatusCode::kInvalidArgument);
  EXPECT_EQ(RoundTrip(StatusCode::kOutOfRange), StatusCode::kInvalidArgument);
  EXPECT_EQ(RoundTrip(StatusCode::kFailedPrecondition), StatusCode::kInvalidArgument);
  EXPECT_EQ(RoundTrip(StatusCode::kNotFound), StatusCode::kNotFound);
  EXPECT_EQ(RoundTrip(StatusCode::kResourceExhausted), StatusCode::kResourceExhausted);
  EXPECT_EQ(RoundTrip(StatusCode::kUnimplemented), StatusCode::kUnimplemented);
}

TEST(SmiStatus, UnclassifiedErrorsAreInternal) {
  EXPECT_EQ(SmiStatusFor(StatusCode::kInternal), SMI_ERROR_RUNTIME);
  EXPECT_EQ(RoundTrip(StatusCode::kDataLoss), StatusCode::kInternal);
  Status s = StatusFromSmi(SmiStatusFor(StatusCode::kInvalidArgument), "onnx", "load_model",
                           "input 'x' has shape [2] (expected [3])");
  EXPECT_NE(s.message().find("plugin 'onnx': load_model failed: input 'x'"), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace mlos::runtime
