// ObservationSink that aggregates one scan's observations per (cat, key, module) with count,
// first/last event time and highest level. Only observables are kept, never record content.
//
// Aggregation is flat: one open-addressing table of fixed-size slots whose text (keys, values,
// record numbers, times) lives in one arena per chunk, so an observed key costs a hash probe
// and, when new, a few appends (no node or string allocations per row).
//
// Without stream_to() every distinct observation stays in memory until rows()/take() (tests,
// small callers). With stream_to(store), memory is bounded: each time the current chunk holds
// `chunk_keys` distinct observations it is sorted by (cat, key, module, artifact) and appended
// as one sorted run to an unlinked temporary file, encrypted under a process-only key
// (core/spill_file: the runs of a decrypted backup never reach the disk in clear). At the end
// the runs are merged (k-way; counts summed, first/last times min/max, highest level, the
// earliest run's kind/value/record kept) and the merged rows, unique and in key order, go to
// the store: record() -> Store::record_sorted; finish() -> Store::stage_sorted (then the
// caller's Store::record_staged). A scan that never filled a chunk is sorted in memory and
// handed over without a run file.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
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
  static constexpr std::size_t kDefaultChunk = 65536;
  explicit StoreSink(std::map<std::string, ModuleMeta> modules = {});
  ~StoreSink() override;
  StoreSink(const StoreSink&) = delete;
  StoreSink& operator=(const StoreSink&) = delete;

  void observe(const std::string& module, const std::string& record_ref, const std::vector<Observation>& obs,
               const std::string& event_time) override;
  // Spills sorted runs from now on and stages them in `store` at finish() (empties its staging
  // table first; the store must not be used by the caller until finish()).
  void stream_to(Store& store, std::size_t chunk_keys = kDefaultChunk);
  // Merges the runs and what is left into the store's staging table; the sink is empty after.
  void finish();
  // Merges the runs and what is left and records them with `acq` (Store::record_sorted, one
  // transaction; `rows`: how many). The sink is empty after. Requires stream_to().
  std::int64_t record(AcquisitionInfo acq, std::int64_t* rows = nullptr);
  // Without stream_to: every row; with it, only the rows of the current (unspilled) chunk.
  std::vector<ObservationRow> rows() const;
  // Moves the rows out (the sink is empty afterwards).
  std::vector<ObservationRow> take();
  std::size_t size() const;

  // One distinct (cat, key, module) of the current chunk; text in arena_.
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t count = 0;
    std::uint32_t ck_off = 0, ck_len = 0;  // cat '\0' key ['\0' rkey] (sorts as (cat, key): keys have no NUL)
    std::uint32_t value_off = 0, value_len = 0;
    std::uint32_t rec_off = 0, rec_len = 0;
    std::uint32_t first_off = 0, first_len = 0;
    std::uint32_t last_off = 0, last_len = 0;
    std::uint16_t module = 0;
    std::uint8_t kind = 0, level = 0;
  };
  struct Module {
    std::string slug, artifact;
    Level ioc_level = Level::Critical;
  };

 private:
  std::uint16_t module_index_locked(const std::string& slug);
  void clear_chunk_locked();
  void spill_locked();  // the current chunk as one sorted run to the run file
  // Slot indexes in (cat, key, module, artifact) order.
  std::vector<std::uint32_t> sorted_slots_locked() const;
  using MergedRows = std::function<const ObservationRow*()>;
  // Hands the rows of every run and of the current chunk, merged, to `consume`; empties the sink.
  void merge_locked(const std::function<void(const MergedRows&)>& consume);
  ObservationRow row_of(const Slot& s) const;
  std::string_view text(std::uint32_t off, std::uint32_t len) const { return {arena_.data() + off, len}; }

  std::map<std::string, ModuleMeta> meta_;
  mutable std::mutex mu_;
  std::vector<Module> modules_;
  std::unordered_map<std::string, std::uint16_t> module_ids_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> table_;  // slot index + 1, 0 = empty; power-of-two size
  std::string arena_;

  Store* store_ = nullptr;
  std::size_t chunk_keys_ = kDefaultChunk;
  std::FILE* runs_file_ = nullptr;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> runs_;  // (offset, bytes) in runs_file_
  std::uint64_t runs_end_ = 0;
};

}  // namespace bridle::store
