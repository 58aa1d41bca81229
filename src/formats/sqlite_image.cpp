// SqliteDb::open_image: a read-only SQLite VFS ("bridle-image") over a SqliteImageReader.
//
// The main database file of such a connection exists only as the reader: xRead asks it for
// the bytes, xWrite/xTruncate/xSync refuse, locks are no-ops and the file reports
// SQLITE_IOCAP_IMMUTABLE, so SQLite never looks for a hot journal or a WAL and never creates
// one (xAccess says nothing exists; opening any journal, WAL or super-journal fails). The
// VFS has no shared-memory methods, so WAL mode cannot be entered either.
//
// Temporary files (sorter spills, temporary b-trees of large sorts, GROUP BY, DISTINCT)
// would hold plaintext rows: they are stored through SQLite's default VFS (deleted when
// opened, as usual) but encrypted with AES-256-CTR (core/spill_file's SpillCipher: the
// process's random spill key, which lives only in memory, and a random nonce per file), so
// no plaintext reaches the disk even then.
#include "formats/sqlite.hpp"

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "core/spill_file.hpp"
#include "core/util.hpp"

namespace bridle {

struct SqliteDb::ImageState {
  std::unique_ptr<SqliteImageReader> reader;
  std::string last_error;  // the reader's last failure (read by the connection's thread)
};

namespace {

constexpr const char* kVfsName = "bridle-image";

// Readers waiting for the xOpen of their connection, by file name (registered just before
// sqlite3_open_v2 and removed right after it, whatever happened).
std::mutex g_pending_mu;
std::map<std::string, std::shared_ptr<SqliteDb::ImageState>>& pending() {
  static std::map<std::string, std::shared_ptr<SqliteDb::ImageState>> m;
  return m;
}
std::atomic<std::uint64_t> g_seq{0};

struct ImageFile {
  sqlite3_file base;  // must be first: SQLite sees an ImageFile as a sqlite3_file
  std::shared_ptr<SqliteDb::ImageState>* state;  // heap-allocated: ImageFile memory is raw
};

sqlite3_vfs* default_vfs() {
  static sqlite3_vfs* d = sqlite3_vfs_find(nullptr);
  return d;
}

ImageFile* as_image(sqlite3_file* f) { return reinterpret_cast<ImageFile*>(f); }

int img_close(sqlite3_file* f) {
  auto* self = as_image(f);
  delete self->state;
  self->state = nullptr;
  return SQLITE_OK;
}

int img_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  auto& st = **as_image(f)->state;
  if (amt < 0 || off < 0) return SQLITE_IOERR_READ;
  auto* out = static_cast<unsigned char*>(buf);
  const std::uint64_t size = st.reader->size();
  const auto uoff = static_cast<std::uint64_t>(off);
  std::size_t n = 0;
  if (uoff < size) n = static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(amt), size - uoff));
  if (n > 0) {
    std::string err;
    if (!st.reader->read(uoff, out, n, &err)) {
      st.last_error = err.empty() ? "read failed" : err;
      return SQLITE_IOERR_READ;
    }
    // A database last written in WAL mode (file format bytes 18/19 == 2): read it as a
    // rollback-journal database, as open_memory does with its private image.
    if (uoff <= 18 && uoff + n >= 20 && out[18 - uoff] == 2 && out[19 - uoff] == 2)
      out[18 - uoff] = out[19 - uoff] = 1;
  }
  if (n < static_cast<std::size_t>(amt)) {
    // SQLite requires the rest of the buffer zeroed on a short read.
    std::memset(out + n, 0, static_cast<std::size_t>(amt) - n);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int img_write(sqlite3_file*, const void*, int, sqlite3_int64) { return SQLITE_READONLY; }
int img_truncate(sqlite3_file*, sqlite3_int64) { return SQLITE_READONLY; }
int img_sync(sqlite3_file*, int) { return SQLITE_READONLY; }
int img_file_size(sqlite3_file* f, sqlite3_int64* size) {
  *size = static_cast<sqlite3_int64>((*as_image(f)->state)->reader->size());
  return SQLITE_OK;
}
int img_lock(sqlite3_file*, int) { return SQLITE_OK; }
int img_unlock(sqlite3_file*, int) { return SQLITE_OK; }
int img_check_reserved(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int img_file_control(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int img_sector_size(sqlite3_file*) { return 4096; }
int img_device_characteristics(sqlite3_file*) { return SQLITE_IOCAP_IMMUTABLE; }

const sqlite3_io_methods kImageMethods = {
    1,  // iVersion: no shared memory (no WAL), no mmap
    img_close,  img_read,        img_write,        img_truncate,     img_sync,
    img_file_size, img_lock,     img_unlock,       img_check_reserved, img_file_control,
    img_sector_size, img_device_characteristics,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

// ---------------------------------------------------------------------------------------
// Encrypted temporary files

struct TempFile {
  sqlite3_file base;      // must be first
  sqlite3_file* inner;    // the default VFS's file (sqlite3_malloc'd, szOsFile bytes)
  SpillCipher* cipher;    // AES-256-CTR: the process's spill key, a nonce of this file's
  std::vector<unsigned char>* buf;  // scratch for writes
};

TempFile* as_temp(sqlite3_file* f) { return reinterpret_cast<TempFile*>(f); }

// XORs the keystream for file offset `off` into data[0, n).
bool ctr_xor(TempFile* t, sqlite3_int64 off, unsigned char* data, std::size_t n) {
  try {
    t->cipher->apply(static_cast<std::uint64_t>(off), reinterpret_cast<char*>(data), n);
    return true;
  } catch (...) {
    return false;
  }
}

int tmp_close(sqlite3_file* f) {
  auto* t = as_temp(f);
  int rc = SQLITE_OK;
  if (t->inner) {
    if (t->inner->pMethods) rc = t->inner->pMethods->xClose(t->inner);
    sqlite3_free(t->inner);
    t->inner = nullptr;
  }
  delete t->cipher;
  t->cipher = nullptr;
  if (t->buf) {
    if (!t->buf->empty()) OPENSSL_cleanse(t->buf->data(), t->buf->size());
    delete t->buf;
    t->buf = nullptr;
  }
  return rc;
}

int tmp_read(sqlite3_file* f, void* out, int amt, sqlite3_int64 off) {
  auto* t = as_temp(f);
  int rc = t->inner->pMethods->xRead(t->inner, out, amt, off);
  if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;
  std::size_t valid = static_cast<std::size_t>(amt);
  if (rc == SQLITE_IOERR_SHORT_READ) {
    // Only the bytes the file holds are ciphertext; the rest stays zero-filled.
    sqlite3_int64 size = 0;
    if (t->inner->pMethods->xFileSize(t->inner, &size) != SQLITE_OK) return SQLITE_IOERR_READ;
    valid = size > off ? static_cast<std::size_t>(std::min<sqlite3_int64>(amt, size - off)) : 0;
  }
  if (!ctr_xor(t, off, static_cast<unsigned char*>(out), valid)) return SQLITE_IOERR_READ;
  return rc;
}

int tmp_write(sqlite3_file* f, const void* in, int amt, sqlite3_int64 off) {
  auto* t = as_temp(f);
  if (amt < 0 || off < 0) return SQLITE_IOERR_WRITE;
  try {
    t->buf->assign(static_cast<const unsigned char*>(in), static_cast<const unsigned char*>(in) + amt);
  } catch (...) {
    return SQLITE_IOERR_NOMEM;
  }
  if (!ctr_xor(t, off, t->buf->data(), t->buf->size())) return SQLITE_IOERR_WRITE;
  return t->inner->pMethods->xWrite(t->inner, t->buf->data(), amt, off);
}

int tmp_truncate(sqlite3_file* f, sqlite3_int64 size) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xTruncate(t->inner, size);
}
int tmp_sync(sqlite3_file* f, int flags) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xSync(t->inner, flags);
}
int tmp_file_size(sqlite3_file* f, sqlite3_int64* size) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xFileSize(t->inner, size);
}
int tmp_lock(sqlite3_file* f, int l) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xLock(t->inner, l);
}
int tmp_unlock(sqlite3_file* f, int l) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xUnlock(t->inner, l);
}
int tmp_check_reserved(sqlite3_file* f, int* out) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xCheckReservedLock(t->inner, out);
}
int tmp_file_control(sqlite3_file* f, int op, void* arg) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xFileControl(t->inner, op, arg);
}
int tmp_sector_size(sqlite3_file* f) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xSectorSize(t->inner);
}
int tmp_device_characteristics(sqlite3_file* f) {
  auto* t = as_temp(f);
  return t->inner->pMethods->xDeviceCharacteristics(t->inner);
}

const sqlite3_io_methods kTempMethods = {
    1,  // no shared memory, no memory mapping (every byte goes through xRead/xWrite)
    tmp_close,  tmp_read,        tmp_write,        tmp_truncate,     tmp_sync,
    tmp_file_size, tmp_lock,     tmp_unlock,       tmp_check_reserved, tmp_file_control,
    tmp_sector_size, tmp_device_characteristics,
    nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};

int open_temp(const char* name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* d = default_vfs();
  auto* t = as_temp(f);
  t->inner = nullptr;
  t->cipher = nullptr;
  t->buf = nullptr;
  bool ok = true;
  try {
    t->cipher = new SpillCipher();  // random nonce; the key never leaves this process's memory
  } catch (...) {
    ok = false;
  }
  t->buf = new (std::nothrow) std::vector<unsigned char>();
  t->inner = static_cast<sqlite3_file*>(sqlite3_malloc(d->szOsFile));
  if (t->inner) std::memset(t->inner, 0, static_cast<std::size_t>(d->szOsFile));
  int rc = ok && t->buf && t->inner ? d->xOpen(d, name, t->inner, flags, out_flags) : SQLITE_NOMEM;
  if (rc != SQLITE_OK) {
    if (t->inner) t->inner->pMethods = nullptr;  // a failed xOpen leaves nothing to close
    tmp_close(f);
    return rc;
  }
  f->pMethods = &kTempMethods;
  return SQLITE_OK;
}

constexpr int kTempKinds = SQLITE_OPEN_TEMP_DB | SQLITE_OPEN_TEMP_JOURNAL | SQLITE_OPEN_TRANSIENT_DB |
                           SQLITE_OPEN_SUBJOURNAL;

int vfs_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  f->pMethods = nullptr;
  if (!name || (flags & kTempKinds)) {
    // Temporary files: stored by SQLite's default VFS, encrypted with a throw-away key.
    return open_temp(name, f, flags, out_flags);
  }
  if (!(flags & SQLITE_OPEN_MAIN_DB) || (flags & (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)))
    return SQLITE_CANTOPEN;  // no journal, WAL or super-journal; never writable
  std::shared_ptr<SqliteDb::ImageState> st;
  {
    std::lock_guard<std::mutex> lk(g_pending_mu);
    auto it = pending().find(name);
    if (it == pending().end()) return SQLITE_CANTOPEN;
    st = it->second;
  }
  auto* self = as_image(f);
  self->state = new (std::nothrow) std::shared_ptr<SqliteDb::ImageState>(std::move(st));
  if (!self->state) return SQLITE_NOMEM;
  f->pMethods = &kImageMethods;
  if (out_flags) *out_flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB;
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char*, int) { return SQLITE_IOERR_DELETE; }
int vfs_access(sqlite3_vfs*, const char*, int, int* out) {
  *out = 0;  // no journal, WAL or other companion file exists
  return SQLITE_OK;
}
int vfs_full_pathname(sqlite3_vfs*, const char* name, int n_out, char* out) {
  std::size_t len = std::strlen(name);
  if (n_out <= 0 || len >= static_cast<std::size_t>(n_out)) return SQLITE_CANTOPEN;
  std::memcpy(out, name, len + 1);
  return SQLITE_OK;
}
int vfs_randomness(sqlite3_vfs*, int n, char* out) {
  sqlite3_vfs* d = default_vfs();
  return d->xRandomness(d, n, out);
}
int vfs_sleep(sqlite3_vfs*, int us) {
  sqlite3_vfs* d = default_vfs();
  return d->xSleep(d, us);
}
int vfs_current_time(sqlite3_vfs*, double* t) {
  sqlite3_vfs* d = default_vfs();
  return d->xCurrentTime(d, t);
}
int vfs_last_error(sqlite3_vfs*, int, char*) { return 0; }
int vfs_current_time64(sqlite3_vfs*, sqlite3_int64* t) {
  sqlite3_vfs* d = default_vfs();
  if (d->iVersion >= 2 && d->xCurrentTimeInt64) return d->xCurrentTimeInt64(d, t);
  double r = 0;
  int rc = d->xCurrentTime(d, &r);
  *t = static_cast<sqlite3_int64>(r * 86400000.0);
  return rc;
}

// Registers the VFS once (not as the default); nullptr when that failed.
sqlite3_vfs* image_vfs() {
  static sqlite3_vfs* vfs = []() -> sqlite3_vfs* {
    if (sqlite3_initialize() != SQLITE_OK) return nullptr;
    sqlite3_vfs* d = default_vfs();
    if (!d) return nullptr;
    static sqlite3_vfs v{};
    v.iVersion = 2;
    v.szOsFile = static_cast<int>(std::max(sizeof(ImageFile), sizeof(TempFile)));
    v.mxPathname = std::max(d->mxPathname, 512);
    v.zName = kVfsName;
    v.xOpen = vfs_open;
    v.xDelete = vfs_delete;
    v.xAccess = vfs_access;
    v.xFullPathname = vfs_full_pathname;
    v.xRandomness = vfs_randomness;
    v.xSleep = vfs_sleep;
    v.xCurrentTime = vfs_current_time;
    v.xGetLastError = vfs_last_error;
    v.xCurrentTimeInt64 = vfs_current_time64;
    if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) return nullptr;
    return &v;
  }();
  return vfs;
}

}  // namespace

std::string SqliteDb::image_error() const {
  return image_state_ ? image_state_->last_error : std::string();
}

void SqliteDb::clear_image_error() {
  if (image_state_) image_state_->last_error.clear();
}

std::unique_ptr<SqliteDb> SqliteDb::open_image(std::unique_ptr<SqliteImageReader> reader,
                                               const std::string& label, SqliteError* err) {
  auto fail = [&](std::string msg, bool corrupt) -> std::unique_ptr<SqliteDb> {
    if (err) {
      err->message = std::move(msg);
      err->corrupt = corrupt;
    }
    return nullptr;
  };
  try {
    if (err) *err = SqliteError{};
    if (!reader) return fail("cannot open " + label + ": no reader", false);
    sqlite3_vfs* vfs = image_vfs();
    if (!vfs) return fail("cannot open " + label + ": the image VFS could not be registered", false);
    std::unique_ptr<SqliteDb> self(new SqliteDb());
    self->image_state_ = std::make_shared<ImageState>();
    self->image_state_->reader = std::move(reader);
    // A name no real file has (this VFS resolves nothing else); unique per connection.
    std::string name = "/bridle-image/" + std::to_string(g_seq.fetch_add(1));
    {
      std::lock_guard<std::mutex> lk(g_pending_mu);
      pending()[name] = self->image_state_;
    }
    int rc = sqlite3_open_v2(name.c_str(), &self->db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                             kVfsName);
    {
      std::lock_guard<std::mutex> lk(g_pending_mu);
      pending().erase(name);
    }
    if (rc != SQLITE_OK) {
      std::string msg = self->db_ ? sqlite3_errmsg(self->db_) : sqlite3_errstr(rc);
      if (!self->image_state_->last_error.empty()) msg += ": " + self->image_state_->last_error;
      return fail("cannot open " + label + ": " + msg, (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB);
    }
    if (!self->finish_open(label, err)) return nullptr;
    return self;
  } catch (const std::exception& e) {
    return fail("cannot open " + label + ": " + e.what(), false);
  }
}

}  // namespace bridle
