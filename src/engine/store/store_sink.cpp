#include "engine/store/store_sink.hpp"

#include "engine/store/observation_keys.hpp"

namespace bridle::store {

StoreSink::~StoreSink() { stop_writer(); }

void StoreSink::observe(const std::string& module, const std::string& record_ref, const std::vector<Observation>& obs,
                        const std::string& event_time) {
  std::vector<ObsKey> keys;
  std::string id;
  std::lock_guard lock(mu_);
  auto meta = modules_.find(module);
  for (auto& o : obs) {
    keys.clear();
    observation_keys(o, keys);
    Level level = o.level ? *o.level : (meta != modules_.end() ? meta->second.ioc_level : Level::Critical);
    for (auto& k : keys) {
      id.assign(k.cat).push_back('\0');
      id.append(k.key).push_back('\0');
      id.append(module);
      auto [it, fresh] = rows_.try_emplace(id);
      ObservationRow& r = it->second;
      if (fresh) {
        r.cat = k.cat;
        r.key = k.key;
        r.kind = std::string(obs_kind_name(o.kind));
        r.value = o.value;
        r.module = module;
        r.artifact = meta != modules_.end() ? meta->second.name : "";
        r.record_ref = record_ref;
        r.level = level;
      } else if (static_cast<int>(level) > static_cast<int>(r.level)) {
        r.level = level;
      }
      ++r.count;
      if (!event_time.empty()) {
        if (r.first_seen.empty() || event_time < r.first_seen) r.first_seen = event_time;
        if (r.last_seen.empty() || event_time > r.last_seen) r.last_seen = event_time;
      }
    }
  }
  if (store_ && rows_.size() >= chunk_keys_) hand_off_locked();
}

void StoreSink::stream_to(Store& store, std::size_t chunk_keys) {
  store.stage_begin();
  std::lock_guard lock(mu_);
  store_ = &store;
  chunk_keys_ = chunk_keys ? chunk_keys : 1;
  writer_ = std::thread([this] { writer_loop(); });
}

void StoreSink::hand_off_locked() {
  std::vector<ObservationRow> chunk;
  chunk.reserve(rows_.size());
  for (auto it = rows_.begin(); it != rows_.end(); it = rows_.erase(it)) chunk.push_back(std::move(it->second));
  // Handed over while mu_ is held: chunks reach the writer in observation order, so the first
  // staged kind/value/record of a key is the first observed.
  std::unique_lock q(qmu_);
  qcv_.wait(q, [this] { return queue_.size() < kMaxQueued; });
  queue_.push_back(std::move(chunk));
  qcv_.notify_all();
}

void StoreSink::writer_loop() {
  for (;;) {
    std::vector<ObservationRow> chunk;
    {
      std::unique_lock q(qmu_);
      qcv_.wait(q, [this] { return !queue_.empty() || closing_; });
      if (queue_.empty()) return;
      chunk = std::move(queue_.front());
      queue_.pop_front();
      qcv_.notify_all();
    }
    if (error_) continue;  // only written by this thread until it is joined
    try {
      store_->stage(chunk);
    } catch (...) {
      error_ = std::current_exception();
    }
  }
}

void StoreSink::stop_writer() noexcept {
  if (!writer_.joinable()) return;
  {
    std::lock_guard q(qmu_);
    closing_ = true;
  }
  qcv_.notify_all();
  writer_.join();
}

void StoreSink::finish() {
  if (!store_) return;
  {
    std::lock_guard lock(mu_);
    if (!rows_.empty()) hand_off_locked();
  }
  stop_writer();
  store_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

std::vector<ObservationRow> StoreSink::rows() const {
  std::lock_guard lock(mu_);
  std::vector<ObservationRow> out;
  out.reserve(rows_.size());
  for (auto& [k, r] : rows_) out.push_back(r);
  return out;
}

std::vector<ObservationRow> StoreSink::take() {
  std::lock_guard lock(mu_);
  std::vector<ObservationRow> out;
  out.reserve(rows_.size());
  for (auto it = rows_.begin(); it != rows_.end(); it = rows_.erase(it)) out.push_back(std::move(it->second));
  return out;
}

std::size_t StoreSink::size() const {
  std::lock_guard lock(mu_);
  return rows_.size();
}

}  // namespace bridle::store
