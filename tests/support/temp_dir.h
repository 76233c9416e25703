// A directory for one test: made with mkdtemp, removed with everything in it when the object
// goes (or by Remove(), for a test that wants to see the removal succeed).
//
//   class FooTest : public ::testing::Test {
//    protected:
//     void SetUp() override { ASSERT_TRUE(dir_.ok()); }
//     test_support::TempDir dir_{"/tmp/sandtrace-foo-XXXXXX"};
//   };
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

namespace sandtrace::test_support {

class TempDir {
 public:
  // `pattern` ends in XXXXXX (mkdtemp(3)).
  explicit TempDir(std::string pattern = "/tmp/sandtrace-test-XXXXXX") {
    if (mkdtemp(pattern.data()) != nullptr) path_ = std::move(pattern);
  }
  ~TempDir() { (void)Remove(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // False when mkdtemp failed: path() is then empty.
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  // Removes the directory and everything in it now.
  std::error_code Remove() {
    std::error_code error;
    if (!path_.empty()) std::filesystem::remove_all(path_, error);
    path_.clear();
    return error;
  }

 private:
  std::string path_;
};

}  // namespace sandtrace::test_support
