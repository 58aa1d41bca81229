// ObservationSink that buffers one scan's observations, deduplicated per (cat, key, module)
// with count and first/last event time; the caller writes them in one transaction at the end
// (Store::record). Only observables are kept, never record content.
#pragma once
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/engine.hpp"
#include "engine/store/store.hpp"

namespace bridle::store {

class StoreSink final : public ObservationSink {
 public:
  // module slug -> (class name, IOC level) for the modules of the scan.
  struct ModuleMeta {
    std::string name;
    Level ioc_level = Level::Critical;
  };
  explicit StoreSink(std::map<std::string, ModuleMeta> modules = {}) : modules_(std::move(modules)) {}
  void observe(const std::string& module, const std::string& record_ref, const std::vector<Observation>& obs,
               const std::string& event_time) override;
  std::vector<ObservationRow> rows() const;
  // Moves the rows out (the sink is empty afterwards): no copy of a large scan's observables.
  std::vector<ObservationRow> take();
  std::size_t size() const;

 private:
  std::map<std::string, ModuleMeta> modules_;
  mutable std::mutex mu_;
  // cat '\0' key '\0' module -> row (hashed: one lookup per observed key).
  std::unordered_map<std::string, ObservationRow> rows_;
};

}  // namespace bridle::store
