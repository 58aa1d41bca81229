#include "engine/store/store_sink.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <queue>
#include <stdexcept>

#include "core/spill_file.hpp"
#include "engine/store/observation_keys.hpp"

namespace bridle::store {
namespace {

// A chunk is also spilled when its text outgrows this (offsets are 32-bit).
constexpr std::size_t kMaxArena = 64u << 20;

std::uint64_t hash_of(std::string_view ck, std::uint16_t module) {
  // FNV-1a over the key bytes, then the module, then a final mix.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : ck) h = (h ^ c) * 1099511628211ull;
  h = (h ^ module) * 1099511628211ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

// "cat \0 key [\0 rkey]" -> row.cat, row.key, row.rkey.
void split_ck(std::string_view ck, ObservationRow& row) {
  auto nul = ck.find('\0');
  row.cat.assign(ck.substr(0, nul));
  ck.remove_prefix(nul + 1);
  auto second = ck.find('\0');
  row.key.assign(ck.substr(0, second));
  if (second == std::string_view::npos) row.rkey.clear();
  else row.rkey.assign(ck.substr(second + 1));
}

// Run record: u32 total length, then u32 ck_len, ck, u16 module, u8 kind, u8 level,
// u64 count, and u32-length-prefixed value, record, first, last.
template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_text(std::string& out, std::string_view t) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(t.size()));
  out.append(t);
}

struct RunRow {
  std::string_view ck, value, record, first, last;
  std::uint64_t count = 0;
  std::uint16_t module = 0;
  std::uint8_t kind = 0, level = 0;
};

// Sequential reader of one run (its own buffer: the current row's views stay valid until next()).
class RunReader {
 public:
  RunReader(std::FILE* f, std::uint64_t off, std::uint64_t len) : f_(f), pos_(off), end_(off + len) {}
  const RunRow& row() const { return row_; }
  bool next() {
    if (!fill(4)) return false;
    std::uint32_t total;
    std::memcpy(&total, buf_.data() + at_, 4);
    if (!fill(4 + std::size_t(total))) throw std::runtime_error("store: truncated run file");
    const char* p = buf_.data() + at_ + 4;
    auto u32 = [&p] {
      std::uint32_t v;
      std::memcpy(&v, p, 4);
      p += 4;
      return v;
    };
    auto txt = [&]() {
      std::uint32_t n = u32();
      std::string_view v(p, n);
      p += n;
      return v;
    };
    row_.ck = txt();
    std::memcpy(&row_.module, p, 2);
    p += 2;
    row_.kind = static_cast<std::uint8_t>(*p++);
    row_.level = static_cast<std::uint8_t>(*p++);
    std::memcpy(&row_.count, p, 8);
    p += 8;
    row_.value = txt();
    row_.record = txt();
    row_.first = txt();
    row_.last = txt();
    at_ += 4 + std::size_t(total);
    return true;
  }

 private:
  // At least n unread bytes in buf_ from at_ (false: the run ended exactly here).
  bool fill(std::size_t n) {
    if (have_ - at_ >= n) return true;
    std::memmove(buf_.data(), buf_.data() + at_, have_ - at_);
    have_ -= at_;
    at_ = 0;
    if (buf_.size() < std::max<std::size_t>(n, 1u << 16)) buf_.resize(std::max<std::size_t>(n, 1u << 16));
    while (have_ < n && pos_ < end_) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf_.size() - have_, end_ - pos_));
      ssize_t got = spill_pread(f_, buf_.data() + have_, want, pos_);
      if (got <= 0) throw std::runtime_error("store: cannot read the run file");
      have_ += static_cast<std::size_t>(got);
      pos_ += static_cast<std::uint64_t>(got);
    }
    if (have_ >= n) return true;
    if (have_ == 0) return false;
    throw std::runtime_error("store: truncated run file");
  }
  std::FILE* f_;
  std::uint64_t pos_, end_;
  std::string buf_;
  std::size_t at_ = 0, have_ = 0;
  RunRow row_;
};

}  // namespace

StoreSink::StoreSink(std::map<std::string, ModuleMeta> modules) : meta_(std::move(modules)) { table_.assign(1024, 0); }

StoreSink::~StoreSink() {
  if (runs_file_) std::fclose(runs_file_);
}

std::uint16_t StoreSink::module_index_locked(const std::string& slug) {
  auto it = module_ids_.find(slug);
  if (it != module_ids_.end()) return it->second;
  Module m;
  m.slug = slug;
  if (auto mt = meta_.find(slug); mt != meta_.end()) {
    m.artifact = mt->second.name;
    m.ioc_level = mt->second.ioc_level;
  }
  if (modules_.size() >= 0xffff) throw std::runtime_error("store: too many modules");
  auto id = static_cast<std::uint16_t>(modules_.size());
  modules_.push_back(std::move(m));
  module_ids_.emplace(slug, id);
  return id;
}

void StoreSink::observe(const std::string& module, const std::string& record_ref, const std::vector<Observation>& obs,
                        const std::string& event_time) {
  // Keys are built before taking the lock (module threads build them in parallel).
  thread_local std::vector<ObsKey> keys;
  thread_local std::vector<std::uint32_t> owner;  // observation index of each key
  thread_local std::string ck;
  keys.clear();
  owner.clear();
  for (std::size_t i = 0; i < obs.size(); ++i) {
    observation_keys(obs[i], keys);
    owner.resize(keys.size(), static_cast<std::uint32_t>(i));
  }
  if (keys.empty()) return;
  std::lock_guard lock(mu_);
  std::uint16_t mod = module_index_locked(module);
  Level module_level = modules_[mod].ioc_level;
  std::uint32_t rec_off = 0;
  bool rec_added = false;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const Observation& o = obs[owner[k]];
    ck.assign(keys[k].cat).push_back('\0');
    ck.append(keys[k].key);
    if (!keys[k].rkey.empty()) ck.append(1, '\0').append(keys[k].rkey);  // a function of the key
    std::uint64_t h = hash_of(ck, mod);
    std::size_t mask = table_.size() - 1, pos = h & mask;
    Slot* s = nullptr;
    for (;; pos = (pos + 1) & mask) {
      std::uint32_t e = table_[pos];
      if (e == 0) break;
      Slot& c = slots_[e - 1];
      if (c.hash == h && c.module == mod && text(c.ck_off, c.ck_len) == ck) {
        s = &c;
        break;
      }
    }
    auto level = static_cast<std::uint8_t>(o.level ? *o.level : module_level);
    if (!s) {
      Slot n;
      n.hash = h;
      n.module = mod;
      n.kind = static_cast<std::uint8_t>(o.kind);
      n.level = level;
      n.ck_off = static_cast<std::uint32_t>(arena_.size());
      n.ck_len = static_cast<std::uint32_t>(ck.size());
      arena_.append(ck);
      n.value_off = static_cast<std::uint32_t>(arena_.size());
      n.value_len = static_cast<std::uint32_t>(o.value.size());
      arena_.append(o.value);
      if (!rec_added) {
        rec_off = static_cast<std::uint32_t>(arena_.size());
        arena_.append(record_ref);
        rec_added = true;
      }
      n.rec_off = rec_off;
      n.rec_len = static_cast<std::uint32_t>(record_ref.size());
      if (!event_time.empty()) {
        // first and last get their own copies: each is overwritten in place on update.
        n.first_off = static_cast<std::uint32_t>(arena_.size());
        arena_.append(event_time);
        n.last_off = static_cast<std::uint32_t>(arena_.size());
        arena_.append(event_time);
        n.first_len = n.last_len = static_cast<std::uint32_t>(event_time.size());
      }
      n.count = 1;
      slots_.push_back(n);
      table_[pos] = static_cast<std::uint32_t>(slots_.size());
      if (slots_.size() * 2 > table_.size()) {
        // Grow and re-insert (hashes are kept in the slots).
        std::vector<std::uint32_t> t(table_.size() * 2, 0);
        std::size_t m = t.size() - 1;
        for (std::uint32_t i = 0; i < slots_.size(); ++i) {
          std::size_t p = slots_[i].hash & m;
          while (t[p]) p = (p + 1) & m;
          t[p] = i + 1;
        }
        table_.swap(t);
      }
      continue;
    }
    if (level > s->level) s->level = level;
    ++s->count;
    if (!event_time.empty()) {
      auto set = [&](std::uint32_t& off, std::uint32_t& len) {
        if (event_time.size() > len) {  // own copy (each time is overwritten in place later)
          off = static_cast<std::uint32_t>(arena_.size());
          arena_.append(event_time);
        } else {
          std::memcpy(arena_.data() + off, event_time.data(), event_time.size());
        }
        len = static_cast<std::uint32_t>(event_time.size());
      };
      if (s->first_len == 0 || event_time < text(s->first_off, s->first_len)) set(s->first_off, s->first_len);
      if (s->last_len == 0 || event_time > text(s->last_off, s->last_len)) set(s->last_off, s->last_len);
    }
  }
  if (store_ && (slots_.size() >= chunk_keys_ || arena_.size() >= kMaxArena)) spill_locked();
}

void StoreSink::clear_chunk_locked() {
  slots_.clear();
  arena_.clear();
  std::fill(table_.begin(), table_.end(), 0u);
}

void StoreSink::stream_to(Store& store, std::size_t chunk_keys) {
  store.stage_begin();
  std::lock_guard lock(mu_);
  store_ = &store;
  chunk_keys_ = chunk_keys ? chunk_keys : 1;
}

std::vector<std::uint32_t> StoreSink::sorted_slots_locked() const {
  // Module order of the table's primary key: (slug, artifact).
  std::vector<std::uint32_t> rank(modules_.size());
  {
    std::vector<std::uint32_t> order(modules_.size());
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [this](auto a, auto b) {
      return std::tie(modules_[a].slug, modules_[a].artifact) < std::tie(modules_[b].slug, modules_[b].artifact);
    });
    for (std::uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  }
  std::vector<std::uint32_t> idx(slots_.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(), [&](std::uint32_t a, std::uint32_t b) {
    const Slot &x = slots_[a], &y = slots_[b];
    int c = text(x.ck_off, x.ck_len).compare(text(y.ck_off, y.ck_len));
    return c != 0 ? c < 0 : rank[x.module] < rank[y.module];
  });
  return idx;
}

void StoreSink::spill_locked() {
  if (slots_.empty()) return;
  if (!runs_file_) {
    // Encrypted under a process-only key (core/spill_file): the runs of a decrypted backup
    // never reach the disk in clear.
    runs_file_ = spill_tmpfile();
    if (!runs_file_) throw std::runtime_error("store: cannot create a temporary file for the observations");
  }
  std::vector<std::uint32_t> idx = sorted_slots_locked();
  std::string out;
  std::uint64_t start = runs_end_;
  for (std::uint32_t i : idx) {
    const Slot& s = slots_[i];
    std::size_t at = out.size();
    put<std::uint32_t>(out, 0);
    put_text(out, text(s.ck_off, s.ck_len));
    put<std::uint16_t>(out, s.module);
    put<std::uint8_t>(out, s.kind);
    put<std::uint8_t>(out, s.level);
    put<std::uint64_t>(out, s.count);
    put_text(out, text(s.value_off, s.value_len));
    put_text(out, text(s.rec_off, s.rec_len));
    put_text(out, text(s.first_off, s.first_len));
    put_text(out, text(s.last_off, s.last_len));
    auto total = static_cast<std::uint32_t>(out.size() - at - 4);
    std::memcpy(out.data() + at, &total, 4);
    if (out.size() >= (4u << 20)) {
      if (std::fwrite(out.data(), 1, out.size(), runs_file_) != out.size())
        throw std::runtime_error("store: cannot write the run file");
      runs_end_ += out.size();
      out.clear();
    }
  }
  if (!out.empty() && std::fwrite(out.data(), 1, out.size(), runs_file_) != out.size())
    throw std::runtime_error("store: cannot write the run file");
  runs_end_ += out.size();
  runs_.emplace_back(start, runs_end_ - start);
  clear_chunk_locked();
}

void StoreSink::finish() {
  if (!store_) return;
  std::lock_guard lock(mu_);
  merge_locked([this](const MergedRows& next) { store_->stage_sorted(next); });
}

std::int64_t StoreSink::record(AcquisitionInfo acq, std::int64_t* rows) {
  if (!store_) throw std::logic_error("StoreSink::record without stream_to");
  std::lock_guard lock(mu_);
  std::int64_t id = 0;
  merge_locked([&](const MergedRows& next) { id = store_->record_sorted(std::move(acq), next, rows); });
  return id;
}

void StoreSink::merge_locked(const std::function<void(const MergedRows&)>& consume) {
  struct Done {  // the runs are dropped and the sink detached, also on errors
    StoreSink& s;
    ~Done() {
      s.runs_.clear();
      s.runs_end_ = 0;
      if (s.runs_file_) std::fclose(s.runs_file_);
      s.runs_file_ = nullptr;
      s.store_ = nullptr;
      s.clear_chunk_locked();
    }
  } done{*this};
  if (runs_.empty()) {
    // Everything fits in one chunk: sorted in memory, no run file.
    std::vector<std::uint32_t> idx = sorted_slots_locked();
    std::size_t at = 0;
    ObservationRow row;
    consume([&]() -> const ObservationRow* {
      if (at == idx.size()) return nullptr;
      const Slot& x = slots_[idx[at++]];
      split_ck(text(x.ck_off, x.ck_len), row);
      row.kind.assign(obs_kind_name(static_cast<ObsKind>(x.kind)));
      row.value.assign(text(x.value_off, x.value_len));
      row.module = modules_[x.module].slug;
      row.artifact = modules_[x.module].artifact;
      row.record_ref.assign(text(x.rec_off, x.rec_len));
      row.first_seen.assign(text(x.first_off, x.first_len));
      row.last_seen.assign(text(x.last_off, x.last_len));
      row.count = static_cast<std::int64_t>(x.count);
      row.level = static_cast<Level>(x.level);
      return &row;
    });
    return;
  }
  spill_locked();
  if (runs_file_ && std::fflush(runs_file_) != 0) throw std::runtime_error("store: cannot write the run file");
  std::vector<RunReader> readers;
  readers.reserve(runs_.size());
  for (auto& [off, len] : runs_) readers.emplace_back(runs_file_, off, len);
  auto less = [this, &readers](std::size_t a, std::size_t b) {  // row of a before row of b
    const RunRow &x = readers[a].row(), &y = readers[b].row();
    int c = x.ck.compare(y.ck);
    if (c != 0) return c < 0;
    if (x.module != y.module) {
      auto& mx = modules_[x.module];
      auto& my = modules_[y.module];
      return std::tie(mx.slug, mx.artifact) < std::tie(my.slug, my.artifact);
    }
    return a < b;  // the earlier run first: its kind/value/record are kept
  };
  auto greater = [&less](std::size_t a, std::size_t b) { return less(b, a); };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(greater)> heap(greater);
  for (std::size_t i = 0; i < readers.size(); ++i)
    if (readers[i].next()) heap.push(i);
  ObservationRow row;
  std::string cur;
  consume([&]() -> const ObservationRow* {
    if (heap.empty()) return nullptr;
    std::size_t r = heap.top();
    heap.pop();
    const RunRow& x = readers[r].row();
    split_ck(x.ck, row);
    row.kind.assign(obs_kind_name(static_cast<ObsKind>(x.kind)));
    row.value.assign(x.value);
    row.module = modules_[x.module].slug;
    row.artifact = modules_[x.module].artifact;
    row.record_ref.assign(x.record);
    row.first_seen.assign(x.first);
    row.last_seen.assign(x.last);
    row.count = static_cast<std::int64_t>(x.count);
    row.level = static_cast<Level>(x.level);
    std::uint16_t mod = x.module;
    cur.assign(x.ck);
    if (readers[r].next()) heap.push(r);
    // The same (cat, key, module) from later runs.
    while (!heap.empty()) {
      std::size_t q = heap.top();
      const RunRow& y = readers[q].row();
      if (y.module != mod || y.ck != cur) break;
      heap.pop();
      row.count += static_cast<std::int64_t>(y.count);
      if (static_cast<int>(y.level) > static_cast<int>(row.level)) row.level = static_cast<Level>(y.level);
      if (!y.first.empty() && (row.first_seen.empty() || y.first < row.first_seen)) row.first_seen.assign(y.first);
      if (!y.last.empty() && (row.last_seen.empty() || y.last > row.last_seen)) row.last_seen.assign(y.last);
      if (readers[q].next()) heap.push(q);
    }
    return &row;
  });
}

ObservationRow StoreSink::row_of(const Slot& s) const {
  ObservationRow r;
  split_ck(text(s.ck_off, s.ck_len), r);
  r.kind = std::string(obs_kind_name(static_cast<ObsKind>(s.kind)));
  r.value = std::string(text(s.value_off, s.value_len));
  r.module = modules_[s.module].slug;
  r.artifact = modules_[s.module].artifact;
  r.record_ref = std::string(text(s.rec_off, s.rec_len));
  r.first_seen = std::string(text(s.first_off, s.first_len));
  r.last_seen = std::string(text(s.last_off, s.last_len));
  r.count = static_cast<std::int64_t>(s.count);
  r.level = static_cast<Level>(s.level);
  return r;
}

std::vector<ObservationRow> StoreSink::rows() const {
  std::lock_guard lock(mu_);
  std::vector<ObservationRow> out;
  out.reserve(slots_.size());
  for (auto& s : slots_) out.push_back(row_of(s));
  return out;
}

std::vector<ObservationRow> StoreSink::take() {
  std::lock_guard lock(mu_);
  std::vector<ObservationRow> out;
  out.reserve(slots_.size());
  for (auto& s : slots_) out.push_back(row_of(s));
  clear_chunk_locked();
  return out;
}

std::size_t StoreSink::size() const {
  std::lock_guard lock(mu_);
  return slots_.size();
}

}  // namespace bridle::store
