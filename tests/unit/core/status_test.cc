#include "mlos/status.h"

#include <gtest/gtest.h>

#include "mlos/error.h"

namespace mlos {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd value ", x);
  return x / 2;
}

Result<int> Quarter(int x) {
  MLOS_ASSIGN_OR_RETURN(int h, Half(x));
  MLOS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkAndErrors) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.ToString(), "OK");
  Status bad = NotFound("model '", "x", "' is not registered");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), StatusCode::kNotFound);
  EXPECT_EQ(bad.ToString(), "NotFound: model 'x' is not registered");
  EXPECT_EQ(bad.WithContext("load").message(), "load: model 'x' is not registered");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd value 3");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(StatusTest, ResultFromOkStatusIsInternalError) {
  Result<int> r{Status::OK()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(StatusTest, KernelErrorCarriesCode) {
  try {
    ThrowIfError(OutOfRange("index 5"));
    FAIL() << "no throw";
  } catch (const KernelError& e) {
    EXPECT_EQ(e.code(), StatusCode::kOutOfRange);
    EXPECT_STREQ(e.what(), "OutOfRange: index 5");
  }
}

}  // namespace
}  // namespace mlos
