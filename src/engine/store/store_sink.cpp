#include "engine/store/store_sink.hpp"

#include "engine/store/observation_keys.hpp"

namespace bridle::store {

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
