// Assertions on Result<T>, shared by every test folder: on failure they print the error's code
// name and message instead of "false".
//
//   EXPECT_TRUE(IsOk(result));
//   EXPECT_TRUE(FailsWith(result, ErrorCode::kConflict));
//   EXPECT_TRUE(FailsWith(result, ErrorCode::kInvalidArgument, "listen"));
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "base/result.hpp"

namespace vigil::test {

// EXPECT_TRUE(IsOk(result)): on failure, prints the error.
template <typename T>
::testing::AssertionResult IsOk(const Result<T>& result) {
  if (result) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << ErrorCodeName(result.error().code) << ": " << result.error().message;
}

// EXPECT_TRUE(FailsWith(result, ErrorCode::kConflict)): the error a test expects, by name.
template <typename T>
::testing::AssertionResult FailsWith(const Result<T>& result, ErrorCode code) {
  if (result) {
    return ::testing::AssertionFailure() << "succeeded; expected " << ErrorCodeName(code);
  }
  if (result.error().code != code) {
    return ::testing::AssertionFailure()
           << "failed with " << ErrorCodeName(result.error().code) << " (" << result.error().message
           << "); expected " << ErrorCodeName(code);
  }
  return ::testing::AssertionSuccess() << result.error().message;
}

// EXPECT_TRUE(FailsWith(result, ErrorCode::kInvalidArgument, "db")): and the error names the
// input at fault.
template <typename T>
::testing::AssertionResult FailsWith(const Result<T>& result, ErrorCode code,
                                     std::string_view field) {
  ::testing::AssertionResult failed = FailsWith(result, code);
  if (!failed) return failed;
  if (result.error().field != field) {
    return ::testing::AssertionFailure()
           << "failed on field '" << result.error().field << "' (" << result.error().message
           << "); expected '" << field << "'";
  }
  return ::testing::AssertionSuccess() << result.error().message;
}

}  // namespace vigil::test
