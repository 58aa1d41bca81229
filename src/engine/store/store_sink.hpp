// ObservationSink that aggregates one scan's observations per (cat, key, module) with count,
// first/last event time and highest level. Only observables are kept, never record content.
//
// Without stream_to() every distinct observation stays in memory until rows()/take() (tests,
// small callers). With stream_to(store), memory is bounded: each time the current chunk holds
// `chunk_keys` distinct observations it is handed to a background writer thread that merges it
// into the store's staging table (Store::stage: counts add up, first/last times are min/max),
// so recording overlaps the scan; finish() flushes the rest and Store::record_staged() writes
// the acquisition at the end. At most kMaxQueued chunks wait for the writer (observe() blocks
// when the writer falls behind).
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
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
  static constexpr std::size_t kDefaultChunk = 20000;
  static constexpr std::size_t kMaxQueued = 2;
  explicit StoreSink(std::map<std::string, ModuleMeta> modules = {}) : modules_(std::move(modules)) {}
  ~StoreSink() override;
  StoreSink(const StoreSink&) = delete;
  StoreSink& operator=(const StoreSink&) = delete;

  void observe(const std::string& module, const std::string& record_ref, const std::vector<Observation>& obs,
               const std::string& event_time) override;
  // Streams observations to `store` from now on (empties its staging table first; the store
  // must not be used by the caller until finish()).
  void stream_to(Store& store, std::size_t chunk_keys = kDefaultChunk);
  // Stages what is left and waits for the writer; rethrows the writer's first error.
  void finish();
  // Without stream_to: every row; with it, only the rows not yet handed to the writer.
  std::vector<ObservationRow> rows() const;
  // Moves the rows out (the sink is empty afterwards): no copy of a large scan's observables.
  std::vector<ObservationRow> take();
  std::size_t size() const;

 private:
  void hand_off_locked();  // mu_ held: the current chunk to the writer queue
  void writer_loop();
  void stop_writer() noexcept;

  std::map<std::string, ModuleMeta> modules_;
  mutable std::mutex mu_;
  // cat '\0' key '\0' module -> row (hashed: one lookup per observed key).
  std::unordered_map<std::string, ObservationRow> rows_;

  Store* store_ = nullptr;
  std::size_t chunk_keys_ = kDefaultChunk;
  std::mutex qmu_;
  std::condition_variable qcv_;
  std::deque<std::vector<ObservationRow>> queue_;
  bool closing_ = false;
  std::exception_ptr error_;
  std::thread writer_;
};

}  // namespace bridle::store
