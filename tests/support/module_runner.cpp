#include "support/module_runner.hpp"

#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "acquisition/ios_fs.hpp"

namespace bridle::test {

std::vector<const Alert*> ModuleRun::alerts(std::optional<Level> l) const {
  std::vector<const Alert*> out;
  for (auto& a : result.alerts)
    if (!l || a.level == *l) out.push_back(&a);
  return out;
}

std::vector<const TimelineEntry*> ModuleRun::rows(const std::string& event) const {
  std::vector<const TimelineEntry*> out;
  for (auto& t : result.timeline)
    if (event.empty() || t.event == event) out.push_back(&t);
  return out;
}

ModuleRun run_ios_module(IosSource& src, const std::string& module, const std::string& stix,
                         const ModuleRunOptions& o) {
  IndicatorSet set;
  if (!stix.empty()) {
    EXPECT_TRUE(set.load_bundle(stix, "test.stix2"));
  }
  const IndicatorSet& use = o.indicators ? *o.indicators : set;
  IndicatorIndex index(use);
  auto mods = ModuleRegistry::instance().create(src.is_backup() ? kIosBackup : kIosFs);
  std::string err;
  EXPECT_TRUE(select_modules(mods, {module}, &err)) << err;
  EXPECT_EQ(mods.size(), 1u) << module;
  std::string slug = mods.empty() ? to_slug(module) : mods.front()->info().slug;
  ModuleRun r;
  if (o.out_dir.empty()) {
    r.scratch = std::make_shared<Scratch>();
    r.out_dir = r.scratch->path() / "out";
  } else {
    r.out_dir = o.out_dir;
  }
  fs::create_directories(r.out_dir);
  ScanOptions opts;
  opts.output_dir = r.out_dir;
  opts.threads = 1;
  opts.module_options.fast = o.fast;
  opts.module_options.have_indicators = !use.empty();
  r.result = Engine(&use, &index).run(std::move(mods), &src, nullptr, opts);
  auto file = r.out_dir / (slug + ".json");
  if (fs::exists(file)) r.records = Json::parse(slurp(file));
  return r;
}

ModuleRun run_ios_module(const fs::path& source, const std::string& module, const std::string& stix,
                         const ModuleRunOptions& o) {
  std::string err;
  std::unique_ptr<IosSource> src;
  if (o.fs_dump) src = IosFsSource::open(source, &err);
  else src = IosBackupSource::open(source, &err);
  EXPECT_TRUE(src) << source << ": " << err;
  if (!src) return {};
  return run_ios_module(*src, module, stix, o);
}

ModuleRun run_ios_module(const fs::path& source, const std::string& module, const std::string& stix,
                         bool fs_dump) {
  ModuleRunOptions o;
  o.fs_dump = fs_dump;
  return run_ios_module(source, module, stix, o);
}

bool has_timeline_row(const ScanResult& r, const std::string& ts, const std::string& event,
                      const std::string& desc) {
  for (auto& t : r.timeline)
    if (t.timestamp == ts && t.event == event && t.description == desc) return true;
  return false;
}

std::string stix_with(const std::string& pattern) {
  return R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":")" + pattern + R"(","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";
}

}  // namespace bridle::test
