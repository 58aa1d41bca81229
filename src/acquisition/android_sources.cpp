#include "acquisition/android_sources.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "core/util.hpp"

namespace bridle {

namespace {

void set_err(std::string* err, std::string m) {
  if (err) *err = std::move(m);
}

Diagnostic problem(std::string file, std::string message, bool unread = true) {
  return Diagnostic{Diagnostic::Severity::Warning, "", std::move(file), std::move(message), unread};
}

// Applies the subdir view and returns the visible path, or "" when the member is outside it.
std::string apply_subdir(const std::string& subdir, const std::string& name) {
  if (subdir.empty()) return name;
  std::string pre = subdir + "/";
  if (name.size() <= pre.size() || name.compare(0, pre.size(), pre) != 0) return "";
  return name.substr(pre.size());
}

}  // namespace

std::optional<std::string> android_member_name(std::string_view raw, std::string* why) {
  if (raw.find('\0') != std::string_view::npos) {
    if (why) *why = "member name contains a NUL byte";
    return std::nullopt;
  }
  if (raw.empty()) {
    if (why) *why = "empty member name";
    return std::nullopt;
  }
  if (raw.front() == '/' || raw.front() == '\\' ||
      (raw.size() >= 2 && raw[1] == ':' && std::isalpha(static_cast<unsigned char>(raw[0])))) {
    if (why) *why = "absolute member name (not exposed)";
    return std::nullopt;
  }
  std::string out;
  std::size_t i = 0;
  while (i <= raw.size()) {
    std::size_t j = i;
    while (j < raw.size() && raw[j] != '/' && raw[j] != '\\') ++j;
    std::string_view comp = raw.substr(i, j - i);
    if (comp == "..") {
      if (why) *why = "member name escapes the archive (\"..\"), not exposed";
      return std::nullopt;
    }
    if (!comp.empty() && comp != ".") {
      if (!out.empty()) out += '/';
      out += comp;  // a '\\' is a separator for the checks above only; names keep '/'
    }
    if (j >= raw.size()) break;
    i = j + 1;
  }
  if (out.empty()) {
    if (why) *why = "member name has no file name";
    return std::nullopt;
  }
  return out;
}

// ---------------------------------------------------------------------------- FolderSource

std::unique_ptr<FolderSource> FolderSource::open(const fs::path& root, AndroidSourceOptions opts,
                                                 std::string* err) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    set_err(err, root.string() + ": not a folder");
    return nullptr;
  }
  std::unique_ptr<FolderSource> s(new FolderSource());
  s->root_ = fs::absolute(root, ec).lexically_normal();
  if (!s->root_.has_filename() && s->root_.has_parent_path()) s->root_ = s->root_.parent_path();
  if (opts.display.empty()) opts.display = root.string();
  s->opts_ = std::move(opts);
  fs::path base = s->root_;
  if (!s->opts_.subdir.empty()) base /= s->opts_.subdir;
  if (s->opts_.parent_relative) {
    std::string name = base.filename().string();
    if (name.empty()) name = "acquisition";
    s->prefix_ = name + "/";
  }
  auto canon_root = fs::weakly_canonical(base, ec);
  fs::recursive_directory_iterator it(base, fs::directory_options::none, ec), end;
  if (ec) {
    set_err(err, base.string() + ": cannot list: " + ec.message());
    return nullptr;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      s->problems_.push_back(problem("", "cannot list part of the folder: " + ec.message()));
      ec.clear();
      break;
    }
    const auto& p = it->path();
    std::string rel = p.lexically_relative(base).generic_string();
    std::error_code sec;
    auto st = it->symlink_status(sec);
    if (sec) {
      s->problems_.push_back(problem(rel, "cannot stat: " + sec.message()));
      continue;
    }
    if (fs::is_symlink(st)) {
      std::error_code lec;
      auto target = fs::read_symlink(p, lec);
      auto resolved = fs::weakly_canonical(p, lec);
      auto r = resolved.lexically_relative(canon_root);
      bool outside = lec || r.empty() || *r.begin() == "..";
      s->problems_.push_back(problem(
          rel, std::string("symbolic link ") + (outside ? "pointing outside the acquisition" : "inside the acquisition") +
                   " (-> " + target.string() + "), not followed",
          outside));
      continue;
    }
    if (fs::is_directory(st)) continue;
    if (!fs::is_regular_file(st)) {
      s->problems_.push_back(problem(rel, "not a regular file, skipped", false));
      continue;
    }
    if (s->files_.size() >= s->opts_.limits.max_files) {
      s->problems_.push_back(problem("", "too many files; the rest were not listed"));
      break;
    }
    AndroidFile f;
    f.path = s->prefix_ + rel;
    f.size = it->file_size(sec);
    struct stat sb {};
    if (::lstat(p.c_str(), &sb) == 0) f.mtime = sb.st_mtime;
    s->files_.push_back(std::move(f));
  }
  std::sort(s->files_.begin(), s->files_.end(),
            [](const AndroidFile& a, const AndroidFile& b) { return a.path < b.path; });
  return s;
}

fs::path FolderSource::disk_path(const std::string& rel) const {
  if (rel.compare(0, prefix_.size(), prefix_) != 0) return {};
  fs::path base = root_;
  if (!opts_.subdir.empty()) base /= opts_.subdir;
  return base / rel.substr(prefix_.size());
}

std::optional<std::string> FolderSource::read(const AndroidFile& f, std::string* err,
                                              std::uint64_t max_bytes) {
  auto p = disk_path(f.path);
  if (p.empty()) {
    set_err(err, "not a member of this acquisition");
    return std::nullopt;
  }
  int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    set_err(err, std::string("cannot open: ") + std::strerror(errno));
    return std::nullopt;
  }
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ::close(fd);
    set_err(err, "not a regular file");
    return std::nullopt;
  }
  if (static_cast<std::uint64_t>(sb.st_size) > max_bytes) {
    ::close(fd);
    set_err(err, "file too large (" + std::to_string(sb.st_size) + " bytes, limit " +
                     std::to_string(max_bytes) + ")");
    return std::nullopt;
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(sb.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      set_err(err, std::string("read error: ") + std::strerror(errno));
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      set_err(err, "file grew beyond the limit while reading");
      return std::nullopt;
    }
  }
  ::close(fd);
  note_read(f.path);
  return out;
}

bool FolderSource::read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                               std::uint64_t max_bytes) {
  auto p = disk_path(f.path);
  if (p.empty()) {
    set_err(err, "not a member of this acquisition");
    return false;
  }
  int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    set_err(err, std::string("cannot open: ") + std::strerror(errno));
    return false;
  }
  struct stat sb {};
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ::close(fd);
    set_err(err, "not a regular file");
    return false;
  }
  if (static_cast<std::uint64_t>(sb.st_size) > max_bytes) {
    ::close(fd);
    set_err(err, "file too large (" + std::to_string(sb.st_size) + " bytes, limit " +
                     std::to_string(max_bytes) + ")");
    return false;
  }
  std::unique_ptr<char[]> buf(new char[kStreamChunk]);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kStreamChunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      set_err(err, std::string("read error: ") + std::strerror(errno));
      return false;
    }
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > max_bytes) {
      ::close(fd);
      set_err(err, "file grew beyond the limit while reading");
      return false;
    }
    if (!sink(std::string_view(buf.get(), static_cast<std::size_t>(n)))) break;
  }
  ::close(fd);
  note_read(f.path);
  return true;
}

std::unique_ptr<AndroidSource> FolderSource::open_nested_zip(const AndroidFile& f, AndroidSourceOptions opts,
                                                             std::string* err, std::uint64_t max_bytes) {
  auto p = disk_path(f.path);
  struct stat sb {};
  if (p.empty() || ::lstat(p.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode))
    return AndroidSource::open_nested_zip(f, std::move(opts), err, max_bytes);  // reports why
  if (static_cast<std::uint64_t>(sb.st_size) > max_bytes) {
    set_err(err, "file too large (" + std::to_string(sb.st_size) + " bytes, limit " + std::to_string(max_bytes) + ")");
    return nullptr;
  }
  // Read in place: only the central directory and the members a module reads are loaded.
  auto z = ZipSource::open(p, opts, err);
  if (!z) return AndroidSource::open_nested_zip(f, std::move(opts), err, max_bytes);  // same error text
  note_read(f.path);
  return z;
}

std::unique_ptr<AndroidSource> AndroidSource::open_nested_zip(const AndroidFile& f, AndroidSourceOptions opts,
                                                              std::string* err, std::uint64_t max_bytes) {
  auto bytes = read(f, err, max_bytes);
  if (!bytes) return nullptr;
  return ZipSource::open_bytes(std::move(*bytes), std::move(opts), err);
}

// ---------------------------------------------------------------------------- ZipSource

struct ZipSource::Impl {
  std::string bytes;  // for in-memory zips (must outlive the zip_t)
  fs::path path;      // for zips on disk
  zip_t* zip = nullptr;
  std::mutex mu;
  std::map<std::string, zip_uint64_t> index;  // visible path -> entry index
  ~Impl() {
    if (zip) zip_discard(zip);
  }
};

ZipSource::~ZipSource() = default;

std::unique_ptr<ZipSource> ZipSource::open(const fs::path& path, AndroidSourceOptions opts,
                                           std::string* err) {
  std::unique_ptr<ZipSource> s(new ZipSource());
  s->impl_ = std::make_unique<Impl>();
  if (opts.display.empty()) opts.display = path.string();
  s->opts_ = std::move(opts);
  s->impl_->path = path;
  int zerr = 0;
  s->impl_->zip = zip_open(path.c_str(), ZIP_RDONLY, &zerr);
  if (!s->impl_->zip) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, zerr);
    set_err(err, path.string() + ": not a readable zip archive (" + zip_error_strerror(&ze) + ")");
    zip_error_fini(&ze);
    return nullptr;
  }
  if (!s->index(path.stem().string(), err)) return nullptr;
  return s;
}

std::unique_ptr<ZipSource> ZipSource::open_bytes(std::string bytes, AndroidSourceOptions opts,
                                                 std::string* err) {
  std::unique_ptr<ZipSource> s(new ZipSource());
  s->impl_ = std::make_unique<Impl>();
  s->impl_->bytes = std::move(bytes);
  std::string stem = opts.display;
  if (auto slash = stem.find_last_of("/!"); slash != std::string::npos) stem = stem.substr(slash + 1);
  if (auto dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem = stem.substr(0, dot);
  if (stem.empty()) stem = "archive";
  s->opts_ = std::move(opts);
  zip_error_t ze;
  zip_error_init(&ze);
  zip_source_t* src = zip_source_buffer_create(s->impl_->bytes.data(), s->impl_->bytes.size(), 0, &ze);
  if (src) {
    s->impl_->zip = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!s->impl_->zip) zip_source_free(src);
  }
  if (!s->impl_->zip) {
    set_err(err, s->opts_.display + ": not a readable zip archive (" + zip_error_strerror(&ze) + ")");
    zip_error_fini(&ze);
    return nullptr;
  }
  zip_error_fini(&ze);
  if (!s->index(stem, err)) return nullptr;
  return s;
}

bool ZipSource::index(const std::string& stem, std::string* err) {
  (void)err;
  zip_t* z = impl_->zip;
  zip_int64_t n = zip_get_num_entries(z, 0);
  struct Entry {
    std::string name;
    zip_uint64_t idx;
    std::uint64_t size;
    std::int64_t mtime;
  };
  std::vector<Entry> entries;
  std::set<std::string> seen;
  std::uint64_t total = 0;
  bool total_exceeded = false;
  for (zip_int64_t i = 0; i < n; ++i) {
    auto idx = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z, idx, ZIP_FL_ENC_RAW, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) {
      problems_.push_back(problem("#" + std::to_string(i), "unreadable zip entry"));
      continue;
    }
    std::string raw = st.name;
    if (!raw.empty() && raw.back() == '/') continue;  // directory
    std::string why;
    auto name = android_member_name(raw, &why);
    if (!name) {
      problems_.push_back(problem(raw, why));
      continue;
    }
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(z, idx, 0, &opsys, &attr) == 0 && opsys == ZIP_OPSYS_UNIX) {
      unsigned mode = attr >> 16;
      if ((mode & S_IFMT) == S_IFLNK) {
        problems_.push_back(problem(*name, "symbolic link in the archive, not followed", false));
        continue;
      }
      if ((mode & S_IFMT) == S_IFDIR) continue;
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
      problems_.push_back(problem(*name, "encrypted zip member, cannot be read"));
      continue;
    }
    std::uint64_t size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
    std::uint64_t csize = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 0;
    const auto& lim = opts_.limits;
    if (size > lim.bomb_min_size && (csize == 0 || size / csize > lim.bomb_ratio)) {
      problems_.push_back(problem(*name, "compression ratio " + (csize ? std::to_string(size / csize) : std::string("inf")) +
                                             ":1 for " + std::to_string(size) +
                                             " bytes looks like a zip bomb; member skipped"));
      continue;
    }
    if (total_exceeded || total + size > lim.max_total_uncompressed) {
      if (!total_exceeded)
        problems_.push_back(problem(*name, "archive expands beyond " +
                                               std::to_string(lim.max_total_uncompressed) +
                                               " bytes; this and the following members skipped"));
      total_exceeded = true;
      continue;
    }
    if (!seen.insert(*name).second) {
      problems_.push_back(problem(*name, "duplicate member name; only the first one is used"));
      continue;
    }
    if (entries.size() >= lim.max_files) {
      problems_.push_back(problem("", "too many members; the rest were not listed"));
      break;
    }
    total += size;
    entries.push_back({*name, idx, size, (st.valid & ZIP_STAT_MTIME) ? static_cast<std::int64_t>(st.mtime) : 0});
  }
  // Visible layout.
  std::string prefix;
  if (opts_.parent_relative && opts_.subdir.empty()) {
    std::string top;
    bool single = !entries.empty();
    for (auto& e : entries) {
      auto slash = e.name.find('/');
      if (slash == std::string::npos) { single = false; break; }
      std::string t = e.name.substr(0, slash);
      if (top.empty()) top = t;
      else if (t != top) { single = false; break; }
    }
    if (!single) prefix = stem + "/";
  }
  for (auto& e : entries) {
    std::string vis = apply_subdir(opts_.subdir, e.name);
    if (vis.empty()) continue;
    if (opts_.parent_relative && !opts_.subdir.empty()) {
      std::string sd = opts_.subdir;
      if (auto sl = sd.find_last_of('/'); sl != std::string::npos) sd = sd.substr(sl + 1);
      vis = sd + "/" + vis;
    }
    vis = prefix + vis;
    impl_->index[vis] = e.idx;
    files_.push_back({vis, e.size, e.mtime});
  }
  std::sort(files_.begin(), files_.end(), [](const AndroidFile& a, const AndroidFile& b) { return a.path < b.path; });
  return true;
}

std::optional<std::string> ZipSource::read(const AndroidFile& f, std::string* err,
                                           std::uint64_t max_bytes) {
  auto it = impl_->index.find(f.path);
  if (it == impl_->index.end()) {
    set_err(err, "not a member of this archive");
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lk(impl_->mu);
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(impl_->zip, it->second, 0, &st) != 0) {
    set_err(err, zip_strerror(impl_->zip));
    return std::nullopt;
  }
  std::uint64_t declared = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
  if (declared > max_bytes) {
    set_err(err, "member too large (" + std::to_string(declared) + " bytes, limit " +
                     std::to_string(max_bytes) + ")");
    return std::nullopt;
  }
  zip_file_t* zf = zip_fopen_index(impl_->zip, it->second, 0);
  if (!zf) {
    set_err(err, std::string("cannot open member: ") + zip_strerror(impl_->zip));
    return std::nullopt;
  }
  std::string out;
  out.reserve(static_cast<std::size_t>(declared));
  char buf[65536];
  for (;;) {
    zip_int64_t n = zip_fread(zf, buf, sizeof buf);
    if (n < 0) {
      set_err(err, std::string("corrupt member: ") + zip_file_strerror(zf));
      zip_fclose(zf);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > declared || out.size() > max_bytes) {
      set_err(err, "member expands beyond its declared size");
      zip_fclose(zf);
      return std::nullopt;
    }
  }
  int rc = zip_fclose(zf);
  if (rc != 0) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, rc);
    set_err(err, std::string("corrupt member: ") + zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return std::nullopt;
  }
  if (out.size() != declared) {
    set_err(err, "member is truncated (" + std::to_string(out.size()) + " of " +
                     std::to_string(declared) + " bytes)");
    return std::nullopt;
  }
  note_read(f.path);
  return out;
}

bool ZipSource::read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                            std::uint64_t max_bytes) {
  auto it = impl_->index.find(f.path);
  if (it == impl_->index.end()) {
    set_err(err, "not a member of this archive");
    return false;
  }
  // A zip handle of this stream's own: libzip handles are not thread-safe, and holding the
  // shared one while a module consumes a large member would stall every other reader.
  zip_t* z = nullptr;
  zip_error_t ze;
  zip_error_init(&ze);
  if (!impl_->path.empty()) {
    int zerr = 0;
    z = zip_open(impl_->path.c_str(), ZIP_RDONLY, &zerr);
    if (!z) zip_error_init_with_code(&ze, zerr);
  } else {
    zip_source_t* src = zip_source_buffer_create(impl_->bytes.data(), impl_->bytes.size(), 0, &ze);
    if (src) {
      z = zip_open_from_source(src, ZIP_RDONLY, &ze);
      if (!z) zip_source_free(src);
    }
  }
  if (!z) {
    set_err(err, std::string("cannot reopen the archive: ") + zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return false;
  }
  zip_error_fini(&ze);
  struct Closer {
    zip_t* z;
    ~Closer() { zip_discard(z); }
  } closer{z};
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(z, it->second, 0, &st) != 0) {
    set_err(err, zip_strerror(z));
    return false;
  }
  std::uint64_t declared = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
  if (declared > max_bytes) {
    set_err(err, "member too large (" + std::to_string(declared) + " bytes, limit " +
                     std::to_string(max_bytes) + ")");
    return false;
  }
  zip_file_t* zf = zip_fopen_index(z, it->second, 0);
  if (!zf) {
    set_err(err, std::string("cannot open member: ") + zip_strerror(z));
    return false;
  }
  std::unique_ptr<char[]> buf(new char[kStreamChunk]);
  std::uint64_t total = 0;
  bool stopped = false;
  for (;;) {
    zip_int64_t n = zip_fread(zf, buf.get(), kStreamChunk);
    if (n < 0) {
      set_err(err, std::string("corrupt member: ") + zip_file_strerror(zf));
      zip_fclose(zf);
      return false;
    }
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > declared || total > max_bytes) {
      set_err(err, "member expands beyond its declared size");
      zip_fclose(zf);
      return false;
    }
    if (!sink(std::string_view(buf.get(), static_cast<std::size_t>(n)))) {
      stopped = true;
      break;
    }
  }
  int rc = zip_fclose(zf);
  if (stopped) {
    note_read(f.path);
    return true;
  }
  if (rc != 0) {
    zip_error_t ce;
    zip_error_init_with_code(&ce, rc);
    set_err(err, std::string("corrupt member: ") + zip_error_strerror(&ce));
    zip_error_fini(&ce);
    return false;
  }
  if (total != declared) {
    set_err(err, "member is truncated (" + std::to_string(total) + " of " + std::to_string(declared) + " bytes)");
    return false;
  }
  note_read(f.path);
  return true;
}

// ---------------------------------------------------------------------------- TarSource

std::unique_ptr<TarSource> TarSource::open_bytes(std::string tar, AndroidSourceOptions opts,
                                                 std::string* err) {
  std::unique_ptr<TarSource> s(new TarSource());
  if (opts.display.empty()) opts.display = "tar";
  s->opts_ = std::move(opts);
  if (tar.size() > s->opts_.limits.max_tar_bytes) {
    set_err(err, "tar stream too large to check (" + std::to_string(tar.size()) + " bytes)");
    return nullptr;
  }
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_format_gnutar(a);
  if (archive_read_open_memory(a, tar.data(), tar.size()) != ARCHIVE_OK) {
    set_err(err, std::string("not a tar stream: ") + archive_error_string(a));
    archive_read_free(a);
    return nullptr;
  }
  std::uint64_t total = 0;
  archive_entry* e = nullptr;
  bool any = false;
  for (;;) {
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_FATAL) {
      if (!any && tar.find_first_not_of('\0') != std::string::npos) {
        set_err(err, std::string("not a tar stream: ") + archive_error_string(a));
        archive_read_free(a);
        return nullptr;
      }
      if (any) s->problems_.push_back(problem("", std::string("tar stream is damaged after the last listed member: ") +
                                                      archive_error_string(a)));
      break;
    }
    any = true;
    const char* pn = archive_entry_pathname(e);
    std::string raw = pn ? pn : "";
    auto type = archive_entry_filetype(e);
    if (type == AE_IFDIR) continue;
    std::string why;
    auto name = android_member_name(raw, &why);
    if (!name) {
      s->problems_.push_back(problem(raw, why));
      continue;
    }
    if (type == AE_IFLNK || archive_entry_hardlink(e)) {
      s->problems_.push_back(problem(*name, "link in the archive, not followed", false));
      continue;
    }
    if (type != AE_IFREG) {
      s->problems_.push_back(problem(*name, "not a regular file, skipped", false));
      continue;
    }
    std::string vis = apply_subdir(s->opts_.subdir, *name);
    if (vis.empty()) continue;
    if (s->data_.count(vis)) {
      s->problems_.push_back(problem(vis, "duplicate member name; only the first one is used"));
      continue;
    }
    std::string data;
    auto declared = archive_entry_size(e);
    if (declared > 0) data.reserve(static_cast<std::size_t>(std::min<la_int64_t>(declared, 1 << 26)));
    char buf[65536];
    bool bad = false;
    for (;;) {
      la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      if (n < 0) {
        s->problems_.push_back(problem(vis, std::string("damaged member: ") + archive_error_string(a)));
        bad = true;
        break;
      }
      if (n == 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      if (total + data.size() > s->opts_.limits.max_tar_bytes) {
        s->problems_.push_back(problem(vis, "tar content too large; member skipped"));
        bad = true;
        break;
      }
    }
    if (bad) continue;
    total += data.size();
    AndroidFile f{vis, data.size(), static_cast<std::int64_t>(archive_entry_mtime(e))};
    s->files_.push_back(f);
    s->data_.emplace(vis, std::move(data));
  }
  archive_read_free(a);
  std::string().swap(tar);
  std::sort(s->files_.begin(), s->files_.end(), [](const AndroidFile& x, const AndroidFile& y) { return x.path < y.path; });
  return s;
}

std::optional<std::string> TarSource::read(const AndroidFile& f, std::string* err,
                                           std::uint64_t max_bytes) {
  auto it = data_.find(f.path);
  if (it == data_.end()) {
    set_err(err, "not a member of this archive");
    return std::nullopt;
  }
  if (it->second.size() > max_bytes) {
    set_err(err, "member too large");
    return std::nullopt;
  }
  note_read(f.path);
  return it->second;
}

// ---------------------------------------------------------------------------- SubdirSource

SubdirSource::SubdirSource(AndroidSource& parent, std::string prefix, std::string kind, bool parent_relative)
    : parent_(parent), prefix_(std::move(prefix)), kind_(std::move(kind)) {
  while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  display_ = parent.display() + "!" + prefix_;
  if (parent_relative) {
    auto sl = prefix_.find_last_of('/');
    shown_ = (sl == std::string::npos ? prefix_ : prefix_.substr(sl + 1)) + "/";
  }
  std::string pre = prefix_ + "/";
  for (auto& f : parent.files())
    if (f.path.size() > pre.size() && f.path.compare(0, pre.size(), pre) == 0)
      files_.push_back({shown_ + f.path.substr(pre.size()), f.size, f.mtime});
}

std::optional<std::string> SubdirSource::read(const AndroidFile& f, std::string* err, std::uint64_t max_bytes) {
  if (f.path.compare(0, shown_.size(), shown_) != 0) {
    set_err(err, "not a member of this acquisition");
    return std::nullopt;
  }
  AndroidFile pf = f;
  pf.path = prefix_ + "/" + f.path.substr(shown_.size());
  auto data = parent_.read(pf, err, max_bytes);
  if (data) note_read(f.path);
  return data;
}

bool SubdirSource::read_stream(const AndroidFile& f, const ChunkSink& sink, std::string* err,
                               std::uint64_t max_bytes) {
  if (f.path.compare(0, shown_.size(), shown_) != 0) {
    set_err(err, "not a member of this acquisition");
    return false;
  }
  AndroidFile pf = f;
  pf.path = prefix_ + "/" + f.path.substr(shown_.size());
  bool ok = parent_.read_stream(pf, sink, err, max_bytes);
  if (ok) note_read(f.path);
  return ok;
}

// ---------------------------------------------------------------------------- factory

std::unique_ptr<AndroidSource> open_android(const fs::path& path, AndroidSourceOptions opts,
                                            std::string* err, AndroidInputKind hint) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    set_err(err, path.string() + ": not found");
    return nullptr;
  }
  if (hint == AndroidInputKind::Auto) {
    if (fs::is_directory(path, ec)) hint = AndroidInputKind::Folder;
    else {
      char magic[4] = {};
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      ssize_t n = fd >= 0 ? ::read(fd, magic, 4) : -1;
      if (fd >= 0) ::close(fd);
      if (n == 4 && std::memcmp(magic, "PK", 2) == 0) hint = AndroidInputKind::Zip;
      else {
        set_err(err, path.string() + ": neither a folder nor a zip archive");
        return nullptr;
      }
    }
  }
  switch (hint) {
    case AndroidInputKind::Folder: return FolderSource::open(path, std::move(opts), err);
    case AndroidInputKind::Zip: return ZipSource::open(path, std::move(opts), err);
    case AndroidInputKind::Tar: {
      std::string e2;
      auto data = read_file(path, opts.limits.max_tar_bytes, &e2);
      if (!data) {
        set_err(err, path.string() + ": " + e2);
        return nullptr;
      }
      if (opts.display.empty()) opts.display = path.string();
      return TarSource::open_bytes(std::move(*data), std::move(opts), err);
    }
    default: break;
  }
  set_err(err, "unsupported input");
  return nullptr;
}

}  // namespace bridle
