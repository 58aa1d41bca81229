#include "acquisition/ios_fs.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "core/util.hpp"

namespace bridle {

struct IosFsSource::Node {
  Stat st;
  bool hardlink = false;            // st.link_target is a logical path inside the archive
  bool implied = false;             // no member of its own (parent of members)
  std::size_t ordinal = SIZE_MAX;   // position in the archive
  std::string raw_name;             // member name as stored
  std::vector<std::string> children;
};

namespace {

constexpr std::size_t kNoOrdinal = SIZE_MAX;
constexpr int kMaxLinkHops = 16;
constexpr std::size_t kMaxListedProblems = 50;

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

std::string parent_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? "" : p.substr(0, s);
}

std::string base_of(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

std::vector<std::string> components(std::string_view p) {
  std::vector<std::string> out;
  for (auto& c : split(p, '/'))
    if (!c.empty() && c != ".") out.push_back(c);
  return out;
}

// Printable form of a name for messages (non-UTF-8 bytes as \xNN).
std::string printable(std::string_view s) { return utf8_backslashreplace(s); }

// A member name made relative and clean. nullopt + reason when it is unsafe (absolute, or
// with a ".." component); *sanitised then holds the name with those parts dropped.
std::optional<std::string> clean_member_name(std::string_view raw, std::string* why, std::string* sanitised) {
  bool absolute = !raw.empty() && raw.front() == '/';
  std::vector<std::string> kept;
  bool dotdot = false;
  for (auto& c : split(raw, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      dotdot = true;
      continue;
    }
    kept.push_back(c);
  }
  std::string clean;
  for (auto& c : kept) clean = join(clean, c);
  if (sanitised) *sanitised = clean;
  if (absolute) {
    if (why) *why = "absolute member name";
    return std::nullopt;
  }
  if (dotdot) {
    if (why) *why = "member name with a '..' component (would escape the dump when extracted)";
    return std::nullopt;
  }
  return clean;
}

// '*' matches any run of characters within one component; a leading '.' in a name is only
// matched by a pattern starting with '.' (as Python's glob, which MVT uses).
bool glob_match(std::string_view pat, std::string_view name) {
  if (!name.empty() && name.front() == '.' && (pat.empty() || pat.front() != '.')) return false;
  std::size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = n;
    } else if (p < pat.size() && pat[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool glob_match_path(const std::vector<std::string>& parts, const std::string& path) {
  auto comps = components(path);
  if (comps.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (!glob_match(parts[i], comps[i])) return false;
  return true;
}

struct ArchiveCloser {
  void operator()(archive* a) const {
    if (a) archive_read_free(a);
  }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

ArchivePtr open_reader(const fs::path& path, std::string* err) {
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_zip(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    if (err) {
      const char* e = archive_error_string(a.get());
      *err = e ? e : "cannot open";
    }
    return nullptr;
  }
  return a;
}

std::string entry_name(archive_entry* e) {
  // UTF-8 when libarchive can give it (zip UTF-8 names, pax paths), else the raw bytes.
  const char* u = archive_entry_pathname_utf8(e);
  if (u) return u;
  const char* r = archive_entry_pathname(e);
  return r ? r : "";
}

std::optional<double> stat_mtime(const struct stat& st) {
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

// What must be put in front of paths inside a folder/archive top level to make them
// canonical; nullopt when the top level is not an iOS filesystem.
std::optional<std::string> logical_prefix_for(const std::set<std::string>& top_dirs) {
  if (top_dirs.count("private")) return std::string();
  if (top_dirs.count("var")) return std::string("private/");
  if (top_dirs.count("mobile") && (top_dirs.count("db") || top_dirs.count("containers") ||
                                   top_dirs.count("wireless") || top_dirs.count("root") ||
                                   top_dirs.count("networkd") || top_dirs.count("Keychains")))
    return std::string("private/var/");
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Opening

bool looks_like_archive(const fs::path& path) {
  std::string err;
  auto a = open_reader(path, &err);
  if (!a) return false;
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a.get(), &e);
  return r == ARCHIVE_OK || r == ARCHIVE_WARN;
}

IosFsSource::~IosFsSource() { temp_.reset(); }

std::unique_ptr<IosFsSource> IosFsSource::open(const fs::path& path, std::string* err) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    if (err) *err = "no such file or folder: " + path.string();
    return nullptr;
  }
  std::unique_ptr<IosFsSource> s(new IosFsSource());
  bool ok = fs::is_directory(st) ? s->open_folder(path, err)
            : fs::is_regular_file(st)
                ? s->open_archive(path, err)
                : ((void)(err && (*err = path.string() + " is neither a folder nor an archive file", true)), false);
  if (!ok) return nullptr;
  return s;
}

bool IosFsSource::open_folder(const fs::path& path, std::string* err) {
  fs::path root = fs::absolute(path);
  std::error_code ec;
  for (int depth = 0; depth < 4; ++depth) {
    std::set<std::string> dirs;
    std::vector<fs::path> subdirs;
    for (auto& e : fs::directory_iterator(root, fs::directory_options::skip_permission_denied, ec)) {
      std::error_code ec2;
      if (!e.is_directory(ec2) || e.is_symlink(ec2)) continue;
      std::string name = e.path().filename().string();
      dirs.insert(name);
      if (!name.empty() && name.front() != '.') subdirs.push_back(e.path());
    }
    if (ec) {
      if (err) *err = "cannot list " + root.string() + ": " + ec.message();
      return false;
    }
    if (auto pre = logical_prefix_for(dirs)) {
      root_ = root;
      logical_prefix_ = *pre;
      return true;
    }
    if (subdirs.size() != 1) break;
    disk_prefix_ += subdirs[0].filename().string() + "/";
    root = subdirs[0];
  }
  if (err)
    *err = path.string() +
           " is not an iOS filesystem dump: no private/var (or var) folder in it or under a single top folder";
  return false;
}

bool IosFsSource::open_archive(const fs::path& path, std::string* err) {
  root_ = fs::absolute(path);
  archive_ = true;
  return index_archive(err);
}

bool IosFsSource::index_archive(std::string* err) {
  std::string e;
  auto a = open_reader(root_, &e);
  if (!a) {
    if (err) *err = "cannot read " + root_.string() + " as a .tar, .tar.gz or .zip archive: " + e;
    return false;
  }
  struct Raw {
    std::string clean;
    Node node;
  };
  std::vector<Raw> raws;
  struct Rejected {
    std::string raw, sanitised, why;
  };
  std::vector<Rejected> rejected;
  std::size_t ordinal = 0;
  std::size_t non_utf8 = 0, huge = 0;
  bool truncated = false;
  std::string truncation;
  for (;; ++ordinal) {
    archive_entry* ae = nullptr;
    int r = archive_read_next_header(a.get(), &ae);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_RETRY) continue;
    if (r == ARCHIVE_FATAL) {
      const char* m = archive_error_string(a.get());
      if (ordinal == 0) {
        if (err) *err = "cannot read " + root_.string() + " as a .tar, .tar.gz or .zip archive: " + (m ? m : "unknown format");
        return false;
      }
      truncated = true;
      truncation = m ? m : "read error";
      break;
    }
    std::string name = entry_name(ae);
    if (r == ARCHIVE_WARN || r == ARCHIVE_FAILED) {
      const char* m = archive_error_string(a.get());
      problem(Diagnostic::Severity::Warning, printable(name),
              std::string("archive member header: ") + (m ? m : "warning"), false);
      if (r == ARCHIVE_FAILED) continue;
    }
    if (name.empty()) {
      problem(Diagnostic::Severity::Warning, "", "archive member #" + std::to_string(ordinal) + " has no name: skipped", false);
      continue;
    }
    if (!is_valid_utf8(name) && ++non_utf8 <= kMaxListedProblems)
      problem(Diagnostic::Severity::Warning, printable(name), "member name is not UTF-8 (shown with \\x escapes)", false);
    Node n;
    n.raw_name = name;
    n.ordinal = ordinal;
    auto type = archive_entry_filetype(ae);
    const char* hl = archive_entry_hardlink(ae);
    if (hl && *hl) {
      n.st.type = Stat::Symlink;
      n.hardlink = true;
      n.st.link_target = hl;
    } else if (type == AE_IFDIR) {
      n.st.type = Stat::Dir;
    } else if (type == AE_IFREG) {
      n.st.type = Stat::File;
    } else if (type == AE_IFLNK) {
      n.st.type = Stat::Symlink;
      const char* t = archive_entry_symlink(ae);
      n.st.link_target = t ? t : "";
    } else {
      n.st.type = Stat::Other;
    }
    if (archive_entry_size_is_set(ae)) n.st.size = static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(ae)));
    if (archive_entry_mtime_is_set(ae))
      n.st.mtime = static_cast<double>(archive_entry_mtime(ae)) + static_cast<double>(archive_entry_mtime_nsec(ae)) * 1e-9;
    if (n.st.type == Stat::File && n.st.size > kMaxMemberSize && ++huge <= kMaxListedProblems)
      problem(Diagnostic::Severity::Warning, printable(name),
              "member of " + std::to_string(n.st.size) + " bytes is above the 4 GiB limit: it is listed but never read", false);
    std::string why, sanitised;
    auto clean = clean_member_name(name, &why, &sanitised);
    if (!clean) {
      rejected.push_back({name, sanitised, why});
      problem(Diagnostic::Severity::Warning, printable(name), why + ": never read", false);
      continue;
    }
    if (clean->empty()) continue;  // "./" itself
    raws.push_back({*clean, std::move(n)});
  }
  if (non_utf8 > kMaxListedProblems)
    problem(Diagnostic::Severity::Warning, "", std::to_string(non_utf8) + " member names are not UTF-8", false);
  if (raws.empty() && !truncated) {
    if (err) *err = root_.string() + " is an empty archive (or holds only unsafe member names)";
    return false;
  }

  // Where the dump's root is: strip single top folders until private/, var/ (or var's
  // content) shows up.
  std::string strip;
  std::optional<std::string> logical;
  for (int depth = 0; depth < 5; ++depth) {
    std::set<std::string> tops, top_dirs;
    for (auto& r : raws) {
      if (r.clean.compare(0, strip.size(), strip) != 0) continue;
      std::string rest = r.clean.substr(strip.size());
      if (rest.empty()) continue;
      auto slash = rest.find('/');
      std::string top = rest.substr(0, slash);
      tops.insert(top);
      if (slash != std::string::npos || r.node.st.type == Stat::Dir) top_dirs.insert(top);
    }
    logical = logical_prefix_for(top_dirs);
    if (logical || tops.size() != 1 || top_dirs.size() != 1) break;
    strip += *tops.begin() + "/";
  }
  if (!logical) {
    if (truncated) {
      if (err) *err = root_.string() + ": the archive is damaged or truncated (" + truncation +
                      ") before any iOS filesystem folder (private/var) could be read";
    } else if (err) {
      *err = root_.string() +
             " is not an iOS filesystem dump: no private/var (or var) folder in it or under a single top folder";
    }
    return false;
  }
  disk_prefix_ = strip;
  logical_prefix_ = *logical;
  auto to_logical = [&](const std::string& clean) -> std::optional<std::string> {
    if (clean.compare(0, strip.size(), strip) != 0) return std::nullopt;
    std::string rest = clean.substr(strip.size());
    if (rest.empty()) return std::nullopt;
    return logical_prefix_ + rest;
  };

  // Build the tree.
  auto root = std::make_unique<Node>();
  root->st.type = Stat::Dir;
  root->implied = true;
  nodes_[""] = std::move(root);
  std::function<Node*(const std::string&)> ensure_dir = [&](const std::string& p) -> Node* {
    auto it = nodes_.find(p);
    if (it != nodes_.end()) return it->second->st.type == Stat::Dir ? it->second.get() : nullptr;
    Node* parent = ensure_dir(parent_of(p));
    if (!parent) return nullptr;
    auto n = std::make_unique<Node>();
    n->st.type = Stat::Dir;
    n->implied = true;
    Node* raw = n.get();
    nodes_[p] = std::move(n);
    parent->children.push_back(base_of(p));
    return raw;
  };
  std::map<std::string, std::size_t> dup_count;
  for (auto& r : raws) {
    auto lp = to_logical(r.clean);
    if (!lp) {
      if (r.clean + "/" != strip)
        problem(Diagnostic::Severity::Warning, printable(r.node.raw_name),
                "member outside the dump's top folder " + strip + ": ignored", false);
      continue;
    }
    if (r.node.hardlink) {
      std::string why;
      auto hc = clean_member_name(r.node.st.link_target, &why, nullptr);
      auto ht = hc ? to_logical(*hc) : std::nullopt;
      if (!ht) {
        problem(Diagnostic::Severity::Warning, printable(*lp),
                "hard link to " + printable(r.node.st.link_target) + " outside the dump: never followed", false);
        r.node.st.link_target = "\x01";  // unresolvable marker
      } else {
        r.node.st.link_target = *ht;
      }
    }
    Node* parent = ensure_dir(parent_of(*lp));
    if (!parent) {
      problem(Diagnostic::Severity::Warning, printable(*lp), "a parent of this member is not a folder: ignored", false);
      continue;
    }
    auto it = nodes_.find(*lp);
    if (it != nodes_.end()) {
      Node& old = *it->second;
      if (old.st.type == Stat::Dir && r.node.st.type == Stat::Dir) {
        // Folder listed twice (or implied first): keep the children, take the header.
        r.node.children = std::move(old.children);
        old = std::move(r.node);
        continue;
      }
      if (old.st.type == Stat::Dir && !old.children.empty()) {
        problem(Diagnostic::Severity::Warning, printable(*lp),
                "member replaces a folder of the same name that has contents: ignored", false);
        continue;
      }
      ++dup_count[*lp];
      r.node.children = std::move(old.children);
      old = std::move(r.node);
      continue;
    }
    nodes_[*lp] = std::make_unique<Node>(std::move(r.node));
    parent->children.push_back(base_of(*lp));
  }
  for (auto& [p, n] : dup_count)
    problem(Diagnostic::Severity::Warning, printable(p),
            "duplicate member name (" + std::to_string(n + 1) + " copies): the last one is used, as extraction would",
            false);
  for (auto& [p, n] : nodes_) {
    std::sort(n->children.begin(), n->children.end());
    n->children.erase(std::unique(n->children.begin(), n->children.end()), n->children.end());
  }
  // Unsafe names that would land inside the dump are kept aside: find() reports them when a
  // module asks for that very path.
  for (auto& rj : rejected)
    if (auto lp = to_logical(rj.sanitised))
      blocked_[*lp] = "archive member '" + printable(rj.raw) + "' has an unsafe name (" + rj.why + "): not read";
  if (truncated)
    problem(Diagnostic::Severity::Error, root_.filename().string(),
            "the archive is damaged or truncated (" + truncation + "): only the " + std::to_string(raws.size()) +
                " members before the damage were listed; evidence after it could not be checked",
            true);
  return true;
}

void IosFsSource::problem(Diagnostic::Severity sev, std::string file, std::string message, bool unread) {
  std::lock_guard<std::mutex> lk(mu_);
  problems_.push_back({sev, "", std::move(file), std::move(message), unread});
}

std::vector<Diagnostic> IosFsSource::acquisition_problems() const {
  std::lock_guard<std::mutex> lk(mu_);
  return problems_;
}

std::size_t IosFsSource::extraction_passes() const {
  std::lock_guard<std::mutex> lk(mu_);
  return passes_;
}

std::optional<fs::path> IosFsSource::temp_folder() const {
  std::lock_guard<std::mutex> lk(mu_);
  if (!temp_) return std::nullopt;
  return temp_->path();
}

// ---------------------------------------------------------------------------------------
// Logical tree

fs::path IosFsSource::disk_path_of(const std::string& logical) const {
  std::string rest = logical;
  if (!logical_prefix_.empty()) {
    if (logical + "/" == logical_prefix_) return root_;
    if (logical.compare(0, logical_prefix_.size(), logical_prefix_) != 0) return {};
    rest = logical.substr(logical_prefix_.size());
  }
  return rest.empty() ? root_ : root_ / rest;
}

std::optional<IosFsSource::Stat> IosFsSource::lstat(const std::string& logical) const {
  if (archive_) {
    auto it = nodes_.find(logical);
    if (it == nodes_.end()) return std::nullopt;
    return it->second->st;
  }
  // Folders standing for the added prefix ("private" for a dump of /private).
  if (!logical_prefix_.empty()) {
    std::string pre = logical_prefix_.substr(0, logical_prefix_.size() - 1);  // no '/'
    if (logical.empty() || (pre.compare(0, logical.size(), logical) == 0 && pre.size() > logical.size() &&
                            pre[logical.size()] == '/')) {
      Stat s;
      s.type = Stat::Dir;
      return s;
    }
    if (logical == pre) {
      Stat s;
      s.type = Stat::Dir;
      struct stat st{};
      if (::lstat(root_.c_str(), &st) == 0) s.mtime = stat_mtime(st);
      return s;
    }
  }
  fs::path p = disk_path_of(logical);
  if (p.empty()) return std::nullopt;
  struct stat st{};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  Stat s;
  s.mtime = stat_mtime(st);
  s.size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISDIR(st.st_mode)) s.type = Stat::Dir;
  else if (S_ISREG(st.st_mode)) s.type = Stat::File;
  else if (S_ISLNK(st.st_mode)) {
    s.type = Stat::Symlink;
    std::error_code ec;
    s.link_target = fs::read_symlink(p, ec).string();
  } else s.type = Stat::Other;
  return s;
}

std::vector<std::string> IosFsSource::list(const std::string& dir) const {
  std::vector<std::string> out;
  if (archive_) {
    auto it = nodes_.find(dir);
    if (it != nodes_.end()) out = it->second->children;
    return out;
  }
  if (!logical_prefix_.empty()) {
    std::string pre = logical_prefix_.substr(0, logical_prefix_.size() - 1);
    std::string d = dir.empty() ? "" : dir + "/";
    if (pre.size() > dir.size() && pre.compare(0, d.size(), d) == 0) {
      std::string rest = pre.substr(d.size());
      out.push_back(rest.substr(0, rest.find('/')));
      return out;
    }
  }
  fs::path p = disk_path_of(dir);
  if (p.empty()) return out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(p, fs::directory_options::skip_permission_denied, ec))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> IosFsSource::resolve(const std::string& logical, std::string* why) const {
  std::vector<std::string> todo = components(logical);
  std::string cur;
  int hops = 0;
  std::size_t i = 0;
  while (i < todo.size()) {
    std::string cand = join(cur, todo[i]);
    auto st = lstat(cand);
    if (!st || st->type != Stat::Symlink) {
      cur = cand;
      ++i;
      continue;
    }
    if (++hops > kMaxLinkHops) {
      if (why) *why = "too many levels of symbolic links at " + printable(cand);
      return std::nullopt;
    }
    std::string target = st->link_target;
    std::vector<std::string> resolved;
    bool hard = false;
    if (archive_) {
      auto it = nodes_.find(cand);
      hard = it != nodes_.end() && it->second->hardlink;
    }
    if (hard) {
      if (target == "\x01") {
        if (why) *why = "hard link " + printable(cand) + " points outside the dump: not followed";
        return std::nullopt;
      }
      resolved = components(target);
    } else {
      // Absolute targets are device paths: relative to the dump root.
      if (target.empty() || target.front() != '/') resolved = components(cur);
      for (auto& c : split(target, '/')) {
        if (c.empty() || c == ".") continue;
        if (c == "..") {
          if (resolved.empty()) {
            if (why) *why = "symbolic link " + printable(cand) + " -> " + printable(target) + " leads outside the dump: not followed";
            return std::nullopt;
          }
          resolved.pop_back();
        } else {
          resolved.push_back(c);
        }
      }
    }
    for (std::size_t j = i + 1; j < todo.size(); ++j) resolved.push_back(todo[j]);
    todo = std::move(resolved);
    cur.clear();
    i = 0;
  }
  return cur;
}

void IosFsSource::glob(const std::vector<std::string>& parts, std::size_t i, const std::string& base,
                       std::vector<std::string>& out, std::set<std::string>& blocked, bool any_type) const {
  const std::string& pat = parts[i];
  std::vector<std::string> names;
  if (pat.find('*') == std::string::npos) names.push_back(pat);
  else
    for (auto& n : list(base))
      if (glob_match(pat, n)) names.push_back(n);
  bool last = i + 1 == parts.size();
  for (auto& n : names) {
    std::string cand = join(base, n);
    auto st = lstat(cand);
    if (!st) continue;
    if (st->type == Stat::Symlink) {
      std::string why;
      auto r = resolve(cand, &why);
      if (!r) {
        if (last) blocked.insert(cand + "\n" + why);
        continue;
      }
      auto rst = lstat(*r);
      if (!rst) continue;
      if (last) {
        if (rst->type == Stat::File || (any_type && rst->type == Stat::Dir)) out.push_back(cand + "\n" + *r);
      } else if (rst->type == Stat::Dir) {
        glob(parts, i + 1, *r, out, blocked, any_type);
      }
      continue;
    }
    if (last) {
      if (st->type == Stat::File || (any_type && st->type == Stat::Dir)) out.push_back(cand + "\n" + cand);
    } else if (st->type == Stat::Dir) {
      glob(parts, i + 1, cand, out, blocked, any_type);
    }
  }
}

std::vector<IosFile> IosFsSource::find(const ArtifactSpec& spec) {
  std::vector<IosFile> out;
  std::set<std::string> seen;
  for (const auto& g : spec.fs_globs) {
    auto parts = components(g);
    if (parts.empty()) continue;
    std::vector<std::string> hits;
    std::set<std::string> blocked;
    // Resolve symlinks in the literal leading part of the glob first ("private/var" may be
    // a link in some dumps).
    glob(parts, 0, "", hits, blocked);
    for (auto& h : hits) {
      auto nl = h.find('\n');
      std::string rel = h.substr(0, nl), real = h.substr(nl + 1);
      if (!seen.insert(real).second) continue;
      IosFile f;
      f.relative_path = rel;
      f.display = rel;
      if (!archive_) f.disk_path = disk_path_of(real);
      else {
        // Archive members: disk_path is filled when the member is copied out; keep the
        // resolved member path where read()/open_sqlite() find it.
        f.disk_path = fs::path();
        std::lock_guard<std::mutex> lk(mu_);
        aliases_[rel] = real;
      }
      out.push_back(std::move(f));
    }
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& b : blocked) {
      auto nl = b.find('\n');
      std::string rel = b.substr(0, nl);
      if (!seen.insert("!" + rel).second) continue;
      blocked_[rel] = b.substr(nl + 1);
      IosFile f;
      f.relative_path = rel;
      f.display = rel;
      out.push_back(std::move(f));
    }
    // Unsafe archive members standing where the module looks.
    for (auto& [p, why] : blocked_) {
      if (seen.count(p) || seen.count("!" + p) || !glob_match_path(parts, p)) continue;
      if (aliases_.count(p)) continue;
      seen.insert("!" + p);
      IosFile f;
      f.relative_path = p;
      f.display = p;
      out.push_back(std::move(f));
    }
  }
  if (archive_) prefetch(out);
  return out;
}

std::vector<IosFsEntry> IosFsSource::fs_glob(const std::string& pattern) {
  std::vector<IosFsEntry> out;
  auto parts = components(pattern);
  if (parts.empty()) return out;
  std::vector<std::string> hits;
  std::set<std::string> blocked;
  glob(parts, 0, "", hits, blocked, true);
  for (auto& h : hits) {
    auto nl = h.find('\n');
    auto st = lstat(h.substr(nl + 1));
    if (!st) continue;
    IosFsEntry e;
    e.path = h.substr(0, nl);
    e.is_dir = st->type == Stat::Dir;
    e.size = st->size;
    e.mtime = st->mtime;
    out.push_back(std::move(e));
  }
  return out;
}

void IosFsSource::want(const std::string& logical) {
  auto add = [&](const std::string& p) {
    auto it = nodes_.find(p);
    if (it == nodes_.end() || it->second->st.type != Stat::File || it->second->ordinal == kNoOrdinal) return;
    if (it->second->st.size > kMaxMemberSize) return;
    auto o = it->second->ordinal;
    if (!copied_.count(o) && !copy_errors_.count(o)) pending_.insert(o);
  };
  add(logical);
  for (const char* sfx : {"-wal", "-shm", "-journal"}) add(logical + sfx);
}

void IosFsSource::prefetch(const std::vector<IosFile>& files) {
  if (!archive_) return;
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& f : files) {
    auto it = aliases_.find(f.relative_path);
    if (it != aliases_.end()) want(it->second);
  }
}

void IosFsSource::extract_pass(std::set<std::size_t> ordinals) {
  // mu_ is held by the caller.
  if (ordinals.empty()) return;
  ++passes_;
  if (!temp_) temp_ = std::make_unique<TempDir>("bridle-fs");
  // Where each wanted member goes: <temp>/<n>/<name>, siblings in the same folder so a
  // database finds its -wal and -shm.
  std::map<std::size_t, fs::path> dest;
  for (auto& [p, n] : nodes_) {
    if (!ordinals.count(n->ordinal)) continue;
    std::string parent = parent_of(p);
    auto [it, inserted] = temp_dirs_.emplace(parent, temp_dirs_.size());
    fs::path dir = temp_->path() / std::to_string(it->second);
    std::error_code ec;
    if (inserted) fs::create_directory(dir, ec);
    dest[n->ordinal] = dir / base_of(p);
  }
  std::string err;
  auto a = open_reader(root_, &err);
  if (!a) {
    for (auto o : ordinals) copy_errors_[o] = "cannot reopen the archive: " + err;
    return;
  }
  const std::size_t last = *ordinals.rbegin();
  std::size_t ordinal = 0;
  std::string failure;
  std::uint64_t budget = kMaxExtractTotal;
  if (const char* e = std::getenv("BRIDLE_MAX_EXTRACT_BYTES"); e && *e) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(e, &end, 10);
    if (end && *end == '\0') budget = v;
  }
  for (;; ++ordinal) {
    if (ordinal > last) break;
    archive_entry* ae = nullptr;
    int r = archive_read_next_header(a.get(), &ae);
    if (r == ARCHIVE_RETRY) {
      --ordinal;
      continue;
    }
    if (r == ARCHIVE_EOF || r == ARCHIVE_FATAL) {
      const char* m = archive_error_string(a.get());
      failure = r == ARCHIVE_EOF ? "the archive ended before this member" : (m ? m : "read error");
      break;
    }
    if (!ordinals.count(ordinal)) continue;
    auto d = dest.find(ordinal);
    if (d == dest.end()) continue;
    int fd = ::open(d->second.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      copy_errors_[ordinal] = "cannot create a private copy";
      continue;
    }
    bool ok = true;
    std::string why;
    std::uint64_t total = 0;
    for (;;) {
      const void* buf = nullptr;
      size_t len = 0;
      la_int64_t off = 0;
      int rr = archive_read_data_block(a.get(), &buf, &len, &off);
      if (rr == ARCHIVE_EOF) break;
      if (rr < ARCHIVE_WARN) {
        const char* m = archive_error_string(a.get());
        why = std::string("cannot read the member's data: ") + (m ? m : "read error");
        ok = false;
        break;
      }
      // Sparse members: write at the offset given.
      if (off >= 0 && static_cast<std::uint64_t>(off) != total) {
        if (::lseek(fd, off, SEEK_SET) < 0) {
          ok = false;
          why = "cannot write the private copy";
          break;
        }
        total = static_cast<std::uint64_t>(off);
      }
      const char* p = static_cast<const char*>(buf);
      size_t left = len;
      while (left > 0) {
        ssize_t w = ::write(fd, p, left);
        if (w <= 0) {
          ok = false;
          why = "cannot write the private copy (disk full?)";
          break;
        }
        p += w;
        left -= static_cast<size_t>(w);
      }
      if (!ok) break;
      total += len;
      if (total > kMaxMemberSize) {
        ok = false;
        why = "member data above the 4 GiB limit";
        break;
      }
      if (extracted_bytes_ + total > budget) {
        ok = false;
        why = "not read: the archive's extraction budget (" + std::to_string(budget) +
              " bytes of private copies) is used up (archive bomb?)";
        break;
      }
    }
    ::close(fd);
    extracted_bytes_ += ok ? total : 0;
    if (ok) {
      copied_[ordinal] = d->second;
    } else {
      copy_errors_[ordinal] = why;
      std::error_code ec;
      fs::remove(d->second, ec);
    }
  }
  for (auto o : ordinals)
    if (!copied_.count(o) && !copy_errors_.count(o))
      copy_errors_[o] = failure.empty() ? "member not found in the archive" : failure;
}

std::optional<fs::path> IosFsSource::materialise(const std::string& logical, std::string* err) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = nodes_.find(logical);
  if (it == nodes_.end() || it->second->st.type != Stat::File || it->second->ordinal == kNoOrdinal) {
    if (err) *err = "no such file in the archive";
    return std::nullopt;
  }
  const Node& n = *it->second;
  if (n.st.size > kMaxMemberSize) {
    if (err) *err = "member of " + std::to_string(n.st.size) + " bytes is above the 4 GiB limit: not read";
    return std::nullopt;
  }
  auto done = [&]() -> std::optional<std::optional<fs::path>> {
    if (auto c = copied_.find(n.ordinal); c != copied_.end()) return std::optional<fs::path>(c->second);
    if (auto e = copy_errors_.find(n.ordinal); e != copy_errors_.end()) {
      if (err) *err = e->second;
      return std::optional<fs::path>();
    }
    return std::nullopt;
  };
  if (auto d = done()) return *d;
  want(logical);
  auto batch = std::move(pending_);
  pending_.clear();
  extract_pass(std::move(batch));
  if (auto d = done()) return *d;
  if (err) *err = "member could not be copied out of the archive";
  return std::nullopt;
}

std::optional<std::string> IosFsSource::real_path_of(const IosFile& f, std::string* err) {
  std::lock_guard<std::mutex> lk(mu_);
  if (auto b = blocked_.find(f.relative_path); b != blocked_.end() && !aliases_.count(f.relative_path)) {
    if (err) *err = b->second;
    return std::nullopt;
  }
  auto a = aliases_.find(f.relative_path);
  if (a == aliases_.end()) return f.relative_path;
  return a->second;
}

std::unique_ptr<SqliteDb> IosFsSource::open_sqlite(const IosFile& f, SqliteError* err) {
  std::string e;
  if (!archive_) {
    if (f.disk_path.empty()) {
      auto r = real_path_of(f, &e);
      if (err) err->message = r ? "not found" : e;
      return nullptr;
    }
    note_read(f.disk_path);
    return SqliteDb::open(f.disk_path, err);
  }
  auto real = real_path_of(f, &e);
  if (!real) {
    if (err) err->message = e;
    return nullptr;
  }
  note_read(root_);
  auto p = materialise(*real, &e);
  if (!p) {
    if (err) err->message = e;
    return nullptr;
  }
  return SqliteDb::open(*p, err);
}

std::optional<std::string> IosFsSource::read(const IosFile& f, std::string* err, std::uint64_t max_bytes) {
  if (!archive_) {
    if (f.disk_path.empty()) {
      std::string e;
      auto r = real_path_of(f, &e);
      if (err) *err = r ? "not found" : e;
      return std::nullopt;
    }
    note_read(f.disk_path);
    return read_file(f.disk_path, max_bytes, err);
  }
  auto real = real_path_of(f, err);
  if (!real) return std::nullopt;
  {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = nodes_.find(*real);
    if (it != nodes_.end() && it->second->st.size > max_bytes) {
      if (err) *err = "file of " + std::to_string(it->second->st.size) + " bytes is above the limit of " + std::to_string(max_bytes);
      return std::nullopt;
    }
  }
  note_read(root_);
  auto p = materialise(*real, err);
  if (!p) return std::nullopt;
  return read_file(*p, max_bytes, err);
}

bool IosFsSource::for_each_entry(const std::function<bool(const IosFsEntry&)>& fn) {
  bool go = true;
  std::function<void(const std::string&)> walk = [&](const std::string& dir) {
    for (auto& name : list(dir)) {
      if (!go) return;
      std::string p = join(dir, name);
      auto st = lstat(p);
      if (!st) continue;
      IosFsEntry e;
      e.path = p;
      e.is_dir = st->type == Stat::Dir;
      e.is_symlink = st->type == Stat::Symlink;
      e.size = st->size;
      e.mtime = st->mtime;
      if (!fn(e)) {
        go = false;
        return;
      }
      if (e.is_dir) {
        if (!archive_) {
          fs::path d = disk_path_of(p);
          if (!d.empty() && ::access(d.c_str(), R_OK | X_OK) != 0)
            problem(Diagnostic::Severity::Error, printable(p), "folder cannot be listed (permission denied)", true);
        }
        walk(p);
      }
    }
  };
  walk("");
  return true;
}

}  // namespace bridle
