// Helpers shared by the store tests: a temporary directory per test, and readable printing of the
// core types in failure messages. The assertions on Result are in support/result_matchers.hpp.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <ostream>
#include <string>
#include <system_error>

#include "base/result.hpp"
#include "core/cursor.hpp"
#include "core/event.hpp"
#include "core/lifecycle.hpp"

namespace vigil::store::testing {

// A fresh directory under /tmp, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/vigil-store-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace vigil::store::testing

// Found by argument-dependent lookup, so gtest prints these types readably.
namespace vigil::core {
inline void PrintTo(const EventId& id, std::ostream* os) { *os << FormatEventId(id); }
inline void PrintTo(State state, std::ostream* os) { *os << StateName(state); }
inline void PrintTo(EventType type, std::ostream* os) { *os << EventTypeName(type); }
}  // namespace vigil::core
