#include "support/android_mem_source.hpp"

#include <mutex>

#include <gtest/gtest.h>

#include "modules/android/dumpstate.hpp"

namespace bridle::test {

MemAndroidSource::MemAndroidSource(std::string kind, std::string display)
    : kind_(std::move(kind)), display_(std::move(display)) {}

void MemAndroidSource::add(std::string path, std::string bytes, std::int64_t mtime) {
  files_.push_back({path, bytes.size(), mtime});
  data_[path] = std::move(bytes);
}

std::optional<std::string> MemAndroidSource::read(const AndroidFile& f, std::string* err, std::uint64_t max_bytes) {
  auto it = data_.find(f.path);
  if (it == data_.end()) {
    if (err) *err = "no such member";
    return std::nullopt;
  }
  if (it->second.size() > max_bytes) {
    if (err) *err = "too large";
    return std::nullopt;
  }
  note_read(f.path);
  return it->second;
}

std::size_t ModuleCapture::count_level(Level l) const {
  std::size_t n = 0;
  for (auto& a : alerts) n += a.level == l;
  return n;
}

bool ModuleCapture::logged(const std::string& needle) const {
  for (auto& d : diags)
    if (d.message.find(needle) != std::string::npos) return true;
  return false;
}

namespace {
class CaptureContext final : public ModuleContext {
 public:
  CaptureContext(AndroidSource* src, ModuleOptions opts, ModuleCapture& cap) : src_(src), opts_(opts), cap_(cap) {}
  IosSource* ios() override { return nullptr; }
  AndroidSource* android() override { return src_; }
  const ModuleOptions& options() const override { return opts_; }
  void emit(Json record, const std::string& group) override {
    std::lock_guard<std::mutex> lk(mu_);
    cap_.records.push_back(std::move(record));
    cap_.groups.push_back(group);
  }
  void set_document(Json doc) override { emit(std::move(doc), ""); }
  void alert(Level level, std::string message, std::string event_time, Json record) override {
    std::lock_guard<std::mutex> lk(mu_);
    cap_.alerts.push_back({level, std::move(message), std::move(event_time), std::move(record)});
  }
  void collect_url(std::string, std::string, std::string) override {}
  void log(Diagnostic::Severity sev, std::string message) override {
    std::lock_guard<std::mutex> lk(mu_);
    cap_.diags.push_back({sev, "", "", std::move(message), false});
  }
  void diag(Diagnostic d) override {
    std::lock_guard<std::mutex> lk(mu_);
    cap_.diags.push_back(std::move(d));
  }

 private:
  AndroidSource* src_;
  ModuleOptions opts_;
  ModuleCapture& cap_;
  std::mutex mu_;
};
}  // namespace

std::unique_ptr<Module> make_module(const std::string& name) {
  for (auto& m : ModuleRegistry::instance().create_all())
    if (m->info().name == name) return std::move(m);
  return nullptr;
}

ModuleCapture run_module(const std::string& name, AndroidSource& src, ModuleOptions opts) {
  ModuleCapture cap;
  auto m = make_module(name);
  if (!m) {
    ADD_FAILURE() << "no module " << name;
    return cap;
  }
  CaptureContext ctx(&src, opts, cap);
  m->run(ctx);
  return cap;
}

ModuleCapture run_on_dumpstate(const std::string& name, const std::string& dumpstate_text) {
  MemAndroidSource src;
  src.dumpstate = Dumpstate::from_text(dumpstate_text, "dumpstate.txt");
  return run_module(name, src);
}

}  // namespace bridle::test
