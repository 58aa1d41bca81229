// Test helpers for Android modules: an in-memory AndroidSource (name -> bytes) and a module
// runner that records what a module emits, alerts and logs.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "acquisition/android_source.hpp"
#include "modules/module.hpp"

namespace bridle::test {

class MemAndroidSource : public AndroidSource {
 public:
  explicit MemAndroidSource(std::string kind = "bugreport", std::string display = "mem");
  void add(std::string path, std::string bytes, std::int64_t mtime = 0);
  std::string kind() const override { return kind_; }
  std::string display() const override { return display_; }
  const std::vector<AndroidFile>& files() const override { return files_; }
  std::optional<std::string> read(const AndroidFile& f, std::string* err,
                                  std::uint64_t max_bytes = 1ull << 30) override;

 private:
  std::string kind_, display_;
  std::vector<AndroidFile> files_;
  std::map<std::string, std::string> data_;
};

struct CapturedAlert {
  Level level;
  std::string message;
  std::string event_time;
  Json record;
};

struct ModuleCapture {
  std::vector<Json> records;
  std::vector<std::string> groups;  // group of each record ("" for list modules)
  std::vector<CapturedAlert> alerts;
  std::vector<Diagnostic> diags;    // logs and problems
  std::size_t count_level(Level l) const;
  bool logged(const std::string& needle) const;
};

// A fresh instance of the registered module with this class name (nullptr when unknown).
std::unique_ptr<Module> make_module(const std::string& name);
// Runs module `name` over `src` (ctx.android() == &src).
ModuleCapture run_module(const std::string& name, AndroidSource& src, ModuleOptions opts = {});
// Runs module `name` over a bug report whose dumpstate is `dumpstate_text`.
ModuleCapture run_on_dumpstate(const std::string& name, const std::string& dumpstate_text);

}  // namespace bridle::test
