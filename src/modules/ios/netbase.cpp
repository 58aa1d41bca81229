#include "modules/ios/netbase.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <system_error>
#include <unordered_set>

#include "core/util.hpp"
#include "modules/ios/common.hpp"

namespace bridle::ios {

namespace {

// A database with an absurd Z_PK (e.g. 2^62 after tampering) must not make us list billions
// of placeholders: past this many, the remaining gaps are summarised in one warning.
constexpr std::size_t kMaxMissing = 10'000;
// Bound of the file-name inventory of an fs dump (binary lookup heuristic).
constexpr std::size_t kMaxInventory = 20'000'000;

constexpr const char* kManipulatedName = "MANIPULATED [process record deleted]";

bool col_present(const std::vector<std::string>& cols, const std::string& name) {
  std::string l = to_lower(name);
  return std::any_of(cols.begin(), cols.end(), [&](const std::string& c) { return to_lower(c) == l; });
}

// "" for null (sort key; Python would refuse to compare None with str).
std::string sort_key(const Json& r, const char* key) {
  auto it = r.find(key);
  return it != r.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool truthy_int(const Json& r, const char* key) {
  auto it = r.find(key);
  if (it == r.end() || it->is_null()) return false;
  if (it->is_number()) return it->get<double>() != 0;
  if (it->is_string()) return !it->get<std::string>().empty();
  return true;
}

Json time_value(const SqliteRow& row, int col) {
  if (row.is_null(col)) return nullptr;
  return mac_value_iso(row, col);
}

bool is_placeholder(const std::string& name) {
  return name.find("MANIPULATED") != std::string::npos || name.find("MISSING") != std::string::npos;
}

}  // namespace

bool is_triangulation_backup_agent(const std::string& proc_name) {
  // ZPROCNAME is "<process>" or "<process>/<bundle id>".
  return proc_name.substr(0, proc_name.find('/')) == "BackupAgent";
}

void NetBase::run(ModuleContext& ctx) {
  std::unordered_set<std::string> inventory;  // file names of an fs dump, built on demand
  bool inventory_built = false;

  for (auto& db : open_databases(ctx, spec(), what())) {
    if (!db.db->has_table("ZPROCESS")) {
      ctx.unreadable(db.file.display, "no ZPROCESS table in the " + what() + " database");
      continue;
    }
    auto pcols = db.db->columns("ZPROCESS");
    if (!col_present(pcols, "Z_PK")) {
      ctx.unreadable(db.file.display, "ZPROCESS has no Z_PK column");
      continue;
    }
    bool have_live = db.db->has_table("ZLIVEUSAGE");
    auto lcols = have_live ? db.db->columns("ZLIVEUSAGE") : std::vector<std::string>{};
    if (have_live && !col_present(lcols, "ZHASPROCESS")) have_live = false;
    if (!have_live)
      ctx.unreadable(db.file.display,
                     "no usable ZLIVEUSAGE table: only the process list could be read");

    auto pc = [&](const char* c) { return col_present(pcols, c) ? std::string("p.") + c : std::string("NULL"); };
    auto pc_bare = [&](const char* c) { return col_present(pcols, c) ? std::string(c) : std::string("NULL"); };
    auto lc = [&](const char* c) { return col_present(lcols, c) ? std::string("l.") + c : std::string("NULL"); };
    // Older databases have no ZWIFIIN/ZWIFIOUT: they come out as null, like every other
    // column a schema lacks.
    std::string orphans = "SELECT " + pc_bare("ZFIRSTTIMESTAMP") + ", " + pc_bare("ZTIMESTAMP") + ", " +
                          pc_bare("ZPROCNAME") + ", " + pc_bare("ZBUNDLENAME") +
                          ", Z_PK, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM ZPROCESS";
    std::string sql;
    if (have_live) {
      // "IS NOT NULL" in the sub-select: with MVT's plain NOT IN, a single ZLIVEUSAGE row
      // without a process would hide every process that has no live row.
      sql = "SELECT " + pc("ZFIRSTTIMESTAMP") + ", " + pc("ZTIMESTAMP") + ", " + pc("ZPROCNAME") + ", " +
            pc("ZBUNDLENAME") + ", p.Z_PK, " + lc("ZWIFIIN") + ", " + lc("ZWIFIOUT") + ", " +
            lc("ZWWANIN") + ", " + lc("ZWWANOUT") + ", l.Z_PK, l.ZHASPROCESS, " + lc("ZTIMESTAMP") +
            " FROM ZLIVEUSAGE l LEFT JOIN ZPROCESS p ON l.ZHASPROCESS = p.Z_PK UNION " + orphans +
            " WHERE Z_PK NOT IN (SELECT ZHASPROCESS FROM ZLIVEUSAGE WHERE ZHASPROCESS IS NOT NULL)";
    } else {
      sql = orphans;
    }
    // The order SQLite gives a UNION (all columns ascending), made explicit.
    sql += " ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12";

    std::vector<Json> records;
    bool ok = run_query(ctx, db, sql, [&](const SqliteRow& row) {
      Json r = Json::object();
      r["first_isodate"] = time_value(row, 0);
      r["isodate"] = time_value(row, 1);
      r["proc_name"] = row.value(2);
      r["bundle_id"] = row.value(3);
      r["proc_id"] = row.value(4);
      r["wifi_in"] = row.value(5);
      r["wifi_out"] = row.value(6);
      r["wwan_in"] = row.value(7);
      r["wwan_out"] = row.value(8);
      r["live_id"] = row.value(9);
      r["live_proc_id"] = row.value(10);
      // Rows of ZLIVEUSAGE are dated by their own timestamp, process-only rows by the
      // process's first timestamp. (MVT tests ZHASPROCESS instead of the live row, which
      // leaves a live row without process reference undated.)
      bool live_row = !row.is_null(9);
      r["live_isodate"] = live_row ? Json(mac_value_iso(row, 11)) : r["first_isodate"];
      records.push_back(std::move(r));
      return true;
    });
    if (!ok && records.empty()) continue;
    ctx.info("Extracted information on " + std::to_string(records.size()) + " processes");
    const std::size_t db_records = records.size();

    // (a) fs dumps: processes without a bundle id whose binary is nowhere in the dump.
    IosSource* src = ctx.ios();
    auto candidate = [](const Json& r) {
      if (truthy_int(r, "bundle_id")) return false;
      auto it = r.find("proc_name");  // null: deleted process, handled below
      return it != r.end() && it->is_string() && !it->get<std::string>().empty();
    };
    if (src && !src->is_backup() && !ctx.options().fast &&
        std::any_of(records.begin(), records.end(), candidate)) {
      if (!inventory_built) {
        inventory_built = true;
        // The source lists folder dumps and archives alike (an archive's root() is the
        // archive file itself, so walking it on disk would find nothing).
        std::size_t n = 0;
        bool listed = src->for_each_entry([&](const IosFsEntry& e) {
          if (++n > kMaxInventory) {
            ctx.warn("File inventory of the dump stopped after " + std::to_string(kMaxInventory) + " entries");
            return false;
          }
          if (!e.is_dir) {
            auto slash = e.path.rfind('/');
            inventory.insert(slash == std::string::npos ? e.path : e.path.substr(slash + 1));
          }
          return true;
        });
        std::error_code ec;
        if (!listed && n == 0 && fs::is_directory(src->root(), ec)) {
          // A source without a listing: walk its folder (never following symlinks).
          for (auto it = fs::recursive_directory_iterator(src->root(), fs::directory_options::skip_permission_denied, ec);
               !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (++n > kMaxInventory) break;
            std::error_code ec2;
            if (it->is_regular_file(ec2)) inventory.insert(it->path().filename().string());
          }
        }
      }
      for (auto& r : records) {
        if (!candidate(r)) continue;
        std::string name = r["proc_name"].get<std::string>();
        if (inventory.count(name)) continue;
        std::string msg = "Could not find the binary associated with the process with name " + name;
        if (name.size() == 16) msg += " (the name may be truncated to 16 characters)";
        ctx.alert(Level::Medium, msg, jstr(r, "live_isodate"), r);
      }
    }

    // (b) live usage rows whose process row was deleted.
    {
      std::vector<std::size_t> idx;
      for (std::size_t i = 0; i < records.size(); ++i)
        if (!truthy_int(records[i], "proc_id")) idx.push_back(i);
      std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        return sort_key(records[a], "live_isodate") < sort_key(records[b], "live_isodate");
      });
      std::set<std::string> reported;
      for (auto i : idx) {
        Json& r = records[i];
        r["first_isodate"] = r["live_isodate"];
        r["isodate"] = r["live_isodate"];
        r["proc_name"] = kManipulatedName;
        std::string pid = pystr(r, "live_proc_id");
        if (reported.insert(pid).second)
          ctx.alert(Level::High,
                    "Found manipulated process entry " + pid + ". Entry on " + pystr(r, "live_isodate"),
                    jstr(r, "live_isodate"), r);
      }
    }

    // (c) gaps in the ZPROCESS primary keys: deleted processes.
    {
      std::map<std::int64_t, std::size_t> by_id;  // last record of each process, as MVT
      for (std::size_t i = 0; i < records.size(); ++i) {
        auto it = records[i].find("proc_id");
        if (it != records[i].end() && it->is_number_integer() && it->get<std::int64_t>() != 0)
          by_id[it->get<std::int64_t>()] = i;
      }
      std::size_t missing = 0;
      std::int64_t unlisted = 0;
      std::vector<Json> placeholders;
      for (auto it = by_id.begin(); it != by_id.end(); ++it) {
        auto next = std::next(it);
        if (next == by_id.end()) break;
        std::int64_t gap_from = it->first + 1, gap_to = next->first;  // [from, to)
        if (gap_from >= gap_to) continue;
        const Json prev = records[it->second];
        for (std::int64_t id = gap_from; id < gap_to; ++id) {
          if (missing >= kMaxMissing) {
            unlisted += gap_to - id;
            break;
          }
          ++missing;
          ctx.alert(Level::Low,
                    "Missing process " + std::to_string(id) + ". Previous process at \"" +
                        pystr(prev, "first_isodate") + "\" (" + pystr(prev, "proc_name") + ")",
                    jstr(prev, "first_isodate"), prev);
          Json p = Json::object();
          for (auto& [k, v] : records.front().items()) p[k] = nullptr;
          p["first_isodate"] = prev["first_isodate"];
          p["isodate"] = prev["first_isodate"];
          p["live_isodate"] = prev["first_isodate"];
          p["proc_name"] = "MISSING [follows " + pystr(prev, "proc_name") + "]";
          p["proc_id"] = id;
          p["live_proc_id"] = id;
          p["bundle_id"] = nullptr;
          placeholders.push_back(std::move(p));
        }
      }
      if (unlisted > 0)
        ctx.warn(std::to_string(unlisted) + " more missing process ids in " + db.file.display +
                 " were not listed (limit " + std::to_string(kMaxMissing) + ")");
      for (auto& p : placeholders) records.push_back(std::move(p));
    }

    // (d) Operation Triangulation (Kaspersky triangle_check): a BackupAgent process.
    {
      std::set<std::string> seen;
      for (std::size_t i = 0; i < db_records; ++i) {
        const Json& r = records[i];
        if (!is_triangulation_backup_agent(jstr(r, "proc_name"))) continue;
        if (!seen.insert(pystr(r, "proc_id")).second) continue;
        ctx.alert(Level::Critical,
                  "Operation Triangulation: BackupAgent process seen in " + what() + " (first seen " +
                      pystr(r, "first_isodate") + ", last seen " + pystr(r, "isodate") + ")",
                  jstr(r, "first_isodate"), r);
      }
    }

    std::stable_sort(records.begin(), records.end(), [](const Json& a, const Json& b) {
      return sort_key(a, "first_isodate") < sort_key(b, "first_isodate");
    });
    for (auto& r : records) ctx.emit(std::move(r));
  }
}

void NetBase::observe(const Json& r, std::vector<Observation>& out) const {
  std::string name = jstr(r, "proc_name");
  if (name.rfind("MANIPULATED [", 0) == 0 || name.rfind("MISSING [", 0) == 0) return;
  if (!name.empty()) out.push_back({ObsKind::Process, name, {}});
  // Bundle ids can be process indicators too (MVT only checks proc_name).
  std::string bundle = jstr(r, "bundle_id");
  std::string base = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
  if (!bundle.empty() && bundle != base) out.push_back({ObsKind::Process, bundle, {}});
}

void NetBase::timeline(const Json& r, std::vector<TimelineRow>& out) const {
  std::string data = pystr(r, "proc_name") + " (Bundle ID: " + pystr(r, "bundle_id") +
                     ", ID: " + pystr(r, "proc_id") + ")";
  out.push_back({jstr(r, "live_isodate"), "live_usage",
                 data + " WWAN IN: " + pystr(r, "wwan_in") + ", WWAN OUT: " + pystr(r, "wwan_out")});
  auto lp = r.find("live_proc_id");
  if (is_placeholder(jstr(r, "proc_name")) || lp == r.end() || lp->is_null()) return;
  out.push_back({jstr(r, "first_isodate"), "first_usage", data});
  out.push_back({jstr(r, "isodate"), "current_usage", data});
}

std::string NetBase::event_time(const Json& r) const { return jstr(r, "first_isodate"); }

}  // namespace bridle::ios
