// Encrypted spill files (see spill_file.hpp): AES-256-CTR through OpenSSL EVP under a
// per-process random key, stdio streams through glibc fopencookie over a real fd.
#include "core/spill_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace bridle {
namespace {

// ---- Process key and keystream -------------------------------------------------------------

// Set once the key is wiped at exit; streams still open then (glibc flushes them after every
// destructor and OpenSSL's own cleanup) fail their writes instead of touching freed state.
std::atomic<bool> g_key_gone{false};

struct ProcessKey {
  unsigned char key[32];
  ProcessKey() {
    if (RAND_bytes(key, sizeof key) != 1) throw std::runtime_error("spill: no random key (RAND_bytes failed)");
  }
  ~ProcessKey() {
    g_key_gone.store(true);
    OPENSSL_cleanse(key, sizeof key);
  }
};

const unsigned char* process_key() {
  static ProcessKey k;  // generated once, on first use, thread-safe (magic static)
  return k.key;
}

// One AES-256-CTR context per thread, keyed once with the process key; each call only sets
// the counter (the key schedule is kept), so apply() shares no mutable state across threads.
thread_local bool t_ctx_gone = false;  // trivial: still readable after ThreadCtx is destroyed

struct ThreadCtx {
  EVP_CIPHER_CTX* ctx = nullptr;
  ~ThreadCtx() {
    EVP_CIPHER_CTX_free(ctx);  // wipes the key schedule
    ctx = nullptr;
    t_ctx_gone = true;
  }
};

EVP_CIPHER_CTX* thread_ctx() {
  if (t_ctx_gone || g_key_gone.load(std::memory_order_relaxed)) throw std::runtime_error("spill: used during exit");
  thread_local ThreadCtx t;
  if (!t.ctx) {
    const unsigned char* key = process_key();
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    if (!c || EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), nullptr, key, nullptr) != 1) {
      EVP_CIPHER_CTX_free(c);
      throw std::runtime_error("spill: cannot set up AES-256-CTR");
    }
    t.ctx = c;
  }
  return t.ctx;
}

// out[0, n) = in[0, n) XOR the keystream that starts `skip` bytes into counter block
// nonce + block (in == out, or not overlapping).
void ctr_xor(const SpillCipher::Nonce& nonce, std::uint64_t block, unsigned skip, const unsigned char* in,
             unsigned char* out, std::size_t n) {
  unsigned char iv[16];
  unsigned carry = 0;
  for (int i = 15; i >= 0; --i) {  // 128-bit big-endian nonce + block, as OpenSSL increments it
    unsigned add = i >= 8 ? static_cast<unsigned>((block >> (8 * (15 - i))) & 0xff) : 0;
    unsigned v = nonce[static_cast<std::size_t>(i)] + add + carry;
    iv[i] = static_cast<unsigned char>(v);
    carry = v >> 8;
  }
  EVP_CIPHER_CTX* c = thread_ctx();
  int len = 0;
  if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv) != 1) throw std::runtime_error("spill: AES-CTR failed");
  if (skip) {
    unsigned char dummy[16] = {};
    if (EVP_EncryptUpdate(c, dummy, &len, dummy, static_cast<int>(skip)) != 1) throw std::runtime_error("spill: AES-CTR failed");
  }
  while (n > 0) {
    int step = static_cast<int>(std::min<std::size_t>(n, std::size_t{1} << 30));
    if (EVP_EncryptUpdate(c, out, &len, in, step) != 1 || len != step) throw std::runtime_error("spill: AES-CTR failed");
    in += step;
    out += step;
    n -= static_cast<std::size_t>(step);
  }
}

// ---- File format ---------------------------------------------------------------------------

constexpr char kMagic[8] = {'B', 'R', 'D', 'L', 'S', 'P', 'L', '1'};
constexpr std::uint32_t kVersion = 1;
// Known plaintext of the check block, encrypted at counter block 2^64 - 1: data offsets are
// below 2^63, so data blocks stay below 2^59 and never reach it.
constexpr char kCheck[16] = {'b', 'r', 'i', 'd', 'l', 'e', ' ', 's', 'p', 'i', 'l', 'l', ' ', 'k', 'e', 'y'};
constexpr std::uint64_t kCheckBlock = ~std::uint64_t{0};
// Header: magic[8] version[4 LE] reserved[4] nonce[16] check[16] reserved[16].
constexpr std::size_t kNonceAt = 16, kCheckAt = 32;
static_assert(kSpillHeaderSize >= kCheckAt + 16);

// Largest plaintext offset: header + offset must fit in off_t.
constexpr std::uint64_t kMaxOffset = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()) - kSpillHeaderSize;

constexpr std::size_t kChunk = std::size_t{256} << 10;  // encrypt-and-write unit

void make_header(const SpillCipher& c, unsigned char (&h)[kSpillHeaderSize]) {
  std::memset(h, 0, sizeof h);
  std::memcpy(h, kMagic, 8);
  for (int i = 0; i < 4; ++i) h[8 + i] = static_cast<unsigned char>(kVersion >> (8 * i));
  std::memcpy(h + kNonceAt, c.nonce().data(), 16);
  std::memcpy(h + kCheckAt, kCheck, 16);
  ctr_xor(c.nonce(), kCheckBlock, 0, h + kCheckAt, h + kCheckAt, 16);
}

bool pread_full(int fd, void* buf, std::size_t n, std::uint64_t raw_off, std::size_t& got) {
  got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, static_cast<char*>(buf) + got, n - got, static_cast<off_t>(raw_off + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

bool pwrite_full(int fd, const void* buf, std::size_t n, std::uint64_t raw_off) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, static_cast<const char*>(buf) + done, n - done, static_cast<off_t>(raw_off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (r == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<std::size_t>(r);
  }
  return true;
}

// ---- The stream ----------------------------------------------------------------------------

struct Spill {
  int fd = -1;
  SpillCipher cipher;
  std::uint64_t pos = 0;   // plaintext position of the cookie (stdio keeps its own on top)
  std::uint64_t size = 0;  // plaintext size as far as this stream knows (grows as it writes)
  std::FILE* file = nullptr;
  std::unique_ptr<char[]> stdio_buf;
  std::unique_ptr<char[]> scratch;  // ciphertext of a write, kChunk bytes, allocated on first write
  explicit Spill(const SpillCipher& c) : cipher(c) {}
  ~Spill() {
    if (fd >= 0) ::close(fd);
  }
};

std::mutex& registry_mu() {
  static std::mutex m;
  return m;
}
std::unordered_map<std::FILE*, Spill*>& registry() {
  static auto* r = new std::unordered_map<std::FILE*, Spill*>();  // never destroyed: streams may outlive statics
  return *r;
}

Spill* find_spill(std::FILE* f) {
  std::lock_guard<std::mutex> lk(registry_mu());
  auto it = registry().find(f);
  return it == registry().end() ? nullptr : it->second;
}

// Plaintext [off, off + n) into buf; bytes read, -1 with errno.
ssize_t read_at(const Spill& s, char* buf, std::size_t n, std::uint64_t off) {
  if (n == 0 || off >= kMaxOffset) return 0;
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, kMaxOffset - off));
  n = std::min<std::size_t>(n, static_cast<std::size_t>(std::numeric_limits<ssize_t>::max()));
  std::size_t got = 0;
  if (!pread_full(s.fd, buf, n, kSpillHeaderSize + off, got) && got == 0) return -1;
  try {
    s.cipher.apply(off, buf, got);
  } catch (...) {
    errno = EIO;
    return -1;
  }
  return static_cast<ssize_t>(got);
}

// Encrypts src[0, n) (nullptr: zeros) for plaintext offset off and writes it.
bool write_at(Spill& s, const char* src, std::size_t n, std::uint64_t off) {
  if (!s.scratch) s.scratch = std::make_unique<char[]>(kChunk);
  while (n > 0) {
    std::size_t step = std::min(n, kChunk);
    auto* out = reinterpret_cast<unsigned char*>(s.scratch.get());
    if (src) {  // encrypted straight from the caller's buffer into scratch
      ctr_xor(s.cipher.nonce(), off / 16, static_cast<unsigned>(off % 16), reinterpret_cast<const unsigned char*>(src),
              out, step);
      src += step;
    } else {
      std::memset(out, 0, step);
      ctr_xor(s.cipher.nonce(), off / 16, static_cast<unsigned>(off % 16), out, out, step);
    }
    if (!pwrite_full(s.fd, s.scratch.get(), step, kSpillHeaderSize + off)) return false;
    off += step;
    n -= step;
    s.size = std::max(s.size, off);
  }
  return true;
}

bool raw_plain_size(int fd, std::uint64_t& size) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  size = st.st_size > static_cast<off_t>(kSpillHeaderSize) ? static_cast<std::uint64_t>(st.st_size) - kSpillHeaderSize : 0;
  return true;
}

ssize_t cookie_read(void* c, char* buf, std::size_t n) {
  Spill& s = *static_cast<Spill*>(c);
  ssize_t got = read_at(s, buf, n, s.pos);
  if (got > 0) s.pos += static_cast<std::uint64_t>(got);
  return got;
}

// Returns the bytes written; on error fewer (0 at worst, never negative: fopencookie(3)) with
// errno set, which stdio turns into ferror().
ssize_t cookie_write(void* c, const char* buf, std::size_t n) {
  Spill& s = *static_cast<Spill*>(c);
  // glibc (checked on 2.36) caches the stream's file position in _offset and advances it
  // after a write only for real files, not for cookie streams: a seek that flushes a write
  // which followed a reposition (read, seek, write, then fseeko/ftello) would otherwise
  // compute from a stale position. "Unknown" makes it ask cookie_seek instead.
  if (s.file) s.file->_offset = -1;
  if (n == 0) return 0;
  std::size_t done = 0;
  try {
    if (s.pos > kMaxOffset || n > kMaxOffset - s.pos) {
      errno = EFBIG;
      return 0;
    }
    if (s.pos > s.size) {  // past the end: the gap must read back as zeros
      std::uint64_t now = 0;
      if (!raw_plain_size(s.fd, now)) return 0;
      s.size = std::max(s.size, now);
      if (s.pos > s.size && !write_at(s, nullptr, static_cast<std::size_t>(s.pos - s.size), s.size)) return 0;
    }
    while (done < n) {
      std::size_t step = std::min(n - done, kChunk);
      if (!write_at(s, buf + done, step, s.pos)) break;
      s.pos += step;
      done += step;
    }
  } catch (...) {
    errno = EIO;
  }
  return static_cast<ssize_t>(done);
}

int cookie_seek(void* c, off64_t* offset, int whence) {
  Spill& s = *static_cast<Spill*>(c);
  std::uint64_t base = 0;
  switch (whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = s.pos; break;
    case SEEK_END:
      if (!raw_plain_size(s.fd, base)) return -1;
      base = std::max(base, s.size);
      break;
    default: errno = EINVAL; return -1;
  }
  std::int64_t d = *offset;
  std::uint64_t to;
  if (d < 0) {
    std::uint64_t back = static_cast<std::uint64_t>(-(d + 1)) + 1;
    if (back > base) {
      errno = EINVAL;
      return -1;
    }
    to = base - back;
  } else {
    to = base + static_cast<std::uint64_t>(d);
    if (to < base || to > kMaxOffset) {
      errno = EOVERFLOW;
      return -1;
    }
  }
  s.pos = to;
  *offset = static_cast<off64_t>(to);
  return 0;
}

int cookie_close(void* c) {
  Spill* s = static_cast<Spill*>(c);
  {
    std::lock_guard<std::mutex> lk(registry_mu());
    registry().erase(s->file);
  }
  int fd = s->fd;
  s->fd = -1;
  int rc = ::close(fd);
  int err = errno;
  delete s;  // frees the stdio buffer too: glibc no longer touches it once close is called
  errno = err;
  return rc == 0 ? 0 : -1;
}

// The stdio stream of a spill whose header is written/checked (s owns its fd; closed on failure).
std::FILE* make_stream(std::unique_ptr<Spill> s, const char* cookie_mode, std::size_t buffer_size) {
  if (buffer_size > 0) {
    s->stdio_buf = std::unique_ptr<char[]>(new (std::nothrow) char[buffer_size]);
    if (!s->stdio_buf) {
      errno = ENOMEM;
      return nullptr;
    }
  }
  cookie_io_functions_t io{cookie_read, cookie_write, cookie_seek, cookie_close};
  Spill* raw = s.get();
  std::FILE* f = fopencookie(raw, cookie_mode, io);
  if (!f) {
    int err = errno;
    s.reset();  // closes the fd
    errno = err;
    return nullptr;
  }
  s.release();
  raw->file = f;
  if (buffer_size > 0) std::setvbuf(f, raw->stdio_buf.get(), _IOFBF, buffer_size);
  std::lock_guard<std::mutex> lk(registry_mu());
  registry()[f] = raw;
  return f;
}

// New spill on an empty fd: fresh nonce, header written.
std::unique_ptr<Spill> create_on(int fd) {
  auto s = std::make_unique<Spill>(SpillCipher());
  unsigned char h[kSpillHeaderSize];
  make_header(s->cipher, h);
  if (!pwrite_full(fd, h, sizeof h, 0)) return nullptr;
  s->fd = fd;  // owned by s from here on
  return s;
}

// Existing spill: header read and checked against the process key.
std::unique_ptr<Spill> open_existing(int fd) {
  unsigned char h[kSpillHeaderSize];
  std::size_t got = 0;
  if (!pread_full(fd, h, sizeof h, 0, got)) return nullptr;
  std::uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= std::uint32_t{h[8 + i]} << (8 * i);
  if (got != sizeof h || std::memcmp(h, kMagic, 8) != 0 || version != kVersion) {
    errno = EBADMSG;
    return nullptr;
  }
  SpillCipher::Nonce nonce;
  std::memcpy(nonce.data(), h + kNonceAt, 16);
  unsigned char expect[kSpillHeaderSize];
  auto s = std::make_unique<Spill>(SpillCipher(nonce));
  make_header(s->cipher, expect);
  if (CRYPTO_memcmp(h + kCheckAt, expect + kCheckAt, 16) != 0) {
    errno = EKEYREJECTED;
    return nullptr;
  }
  if (!raw_plain_size(fd, s->size)) return nullptr;
  s->fd = fd;  // owned by s from here on
  return s;
}

}  // namespace

SpillCipher::SpillCipher() {
  if (RAND_bytes(nonce_.data(), static_cast<int>(nonce_.size())) != 1)
    throw std::runtime_error("spill: no random nonce (RAND_bytes failed)");
}

void SpillCipher::apply(std::uint64_t offset, char* buf, std::size_t n) const {
  if (n == 0) return;
  auto* p = reinterpret_cast<unsigned char*>(buf);
  ctr_xor(nonce_, offset / 16, static_cast<unsigned>(offset % 16), p, p, n);
}

namespace {
// A spill stream on `fd`: a new file's header written (`create`) or an existing one's checked;
// on failure the fd is closed and nullptr returned with errno kept.
std::FILE* stream_on(int fd, bool create, const char* mode, std::size_t buffer_size) {
  std::unique_ptr<Spill> s;
  try {
    s = create ? create_on(fd) : open_existing(fd);
  } catch (...) {
    errno = EIO;
  }
  if (!s) {
    int err = errno;
    ::close(fd);
    errno = err;
    return nullptr;
  }
  return make_stream(std::move(s), mode, buffer_size);
}
}  // namespace

std::FILE* spill_fopen(const std::filesystem::path& p, const char* mode, std::size_t buffer_size) {
  if (!mode || (mode[0] != 'r' && mode[0] != 'w')) {
    errno = EINVAL;
    return nullptr;
  }
  bool write = mode[0] == 'w', plus = false, excl = false;
  for (const char* m = mode + 1; *m; ++m) {
    if (*m == '+') plus = true;
    else if (*m == 'x' && write) excl = true;
    else if (*m != 'b' && *m != 'e') {
      errno = EINVAL;
      return nullptr;
    }
  }
  int flags = O_CLOEXEC | O_NOFOLLOW | (plus ? O_RDWR : write ? O_WRONLY : O_RDONLY);
  if (write) flags |= O_CREAT | O_TRUNC | (excl ? O_EXCL : 0);
  int fd = ::open(p.c_str(), flags, 0600);
  if (fd < 0) return nullptr;
  if (write) (void)::fchmod(fd, 0600);  // an existing file keeps its mode through O_TRUNC otherwise
  return stream_on(fd, write, write ? (plus ? "w+" : "w") : (plus ? "r+" : "r"), buffer_size);
}

std::FILE* spill_tmpfile(const std::filesystem::path& dir_in, std::size_t buffer_size) {
  std::filesystem::path dir = dir_in;
  if (dir.empty()) {
    std::error_code ec;
    dir = std::filesystem::temp_directory_path(ec);
    if (ec) {
      errno = ec.value() ? ec.value() : ENOENT;
      return nullptr;
    }
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // File system without O_TMPFILE: a unique name, unlinked at once.
    std::string tmpl = (dir / "bridle-spill-XXXXXX").string();
    fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(tmpl.c_str());
  }
  if (fd < 0) return nullptr;
  return stream_on(fd, true, "w+", buffer_size);
}

ssize_t spill_pread(std::FILE* f, void* buf, std::size_t n, std::uint64_t offset) {
  Spill* s = find_spill(f);
  if (!s) {
    errno = EBADF;
    return -1;
  }
  return read_at(*s, static_cast<char*>(buf), n, offset);
}

bool is_spill_file(std::FILE* f) { return find_spill(f) != nullptr; }

}  // namespace bridle
