// Encrypted spill files (core/spill_file.hpp): keystream arithmetic, stdio behaviour against a
// std::vector model, ciphertext on disk, reopen by path, foreign/header-less files refused.
#include "core/spill_file.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/support.hpp"

extern char** environ;

using namespace bridle;
using bridle::test::Scratch;
namespace fs = std::filesystem;

namespace {

std::vector<char> random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::vector<char> v(n);
  for (auto& c : v) c = static_cast<char>(rng());
  return v;
}

std::string raw_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::set<int> open_fds() {
  std::set<int> listed, out;
  for (auto& e : fs::directory_iterator("/proc/self/fd")) listed.insert(std::stoi(e.path().filename().string()));
  for (int fd : listed)
    if (::fcntl(fd, F_GETFD) != -1) out.insert(fd);  // not the listing's own (closed) fd
  return out;
}

// The one fd opened by fn (spill streams have no fileno()).
template <class Fn>
int fd_opened_by(Fn&& fn) {
  auto before = open_fds();
  fn();
  auto after = open_fds();
  std::vector<int> fresh;
  for (int fd : after)
    if (!before.count(fd)) fresh.push_back(fd);
  return fresh.size() == 1 ? fresh[0] : -1;
}

// True when some 16-byte window of `plain` occurs in `raw` (windows indexed by their first 8
// bytes, a candidate confirmed by a search).
bool leaks_plaintext(const std::string& plain, const std::string& raw) {
  std::vector<std::uint64_t> heads;
  heads.reserve(plain.size());
  for (std::size_t i = 0; i + 16 <= plain.size(); ++i) {
    std::uint64_t h;
    std::memcpy(&h, plain.data() + i, 8);
    heads.push_back(h);
  }
  std::sort(heads.begin(), heads.end());
  for (std::size_t i = 0; i + 16 <= raw.size(); ++i) {
    std::uint64_t h;
    std::memcpy(&h, raw.data() + i, 8);
    if (std::binary_search(heads.begin(), heads.end(), h) && plain.find(raw.substr(i, 16)) != std::string::npos)
      return true;
  }
  return false;
}

std::string evidence_text(std::size_t n) {
  std::string s;
  for (int i = 0; s.size() < n; ++i)
    s += "SMS " + std::to_string(i) + ": meet me at https://evil.example.com/p?id=" + std::to_string(i * 7) + "\n";
  s.resize(n);
  return s;
}

}  // namespace

// ---- SpillCipher ------------------------------------------------------------------------------

TEST(SpillCipher, EncryptDecryptAndNonceMatters) {
  std::mt19937_64 rng(1);
  auto plain = random_bytes(rng, 4099);
  SpillCipher a, b;
  EXPECT_NE(a.nonce(), b.nonce());
  auto x = plain;
  a.apply(0, x.data(), x.size());
  EXPECT_NE(x, plain);
  auto y = plain;
  b.apply(0, y.data(), y.size());
  EXPECT_NE(x, y);  // another nonce, another keystream
  SpillCipher a2(a.nonce());
  a2.apply(0, x.data(), x.size());
  EXPECT_EQ(x, plain);  // same key and nonce: decrypts
}

TEST(SpillCipher, UnalignedPiecesEqualOneCall) {
  std::mt19937_64 rng(2);
  SpillCipher c;
  for (std::uint64_t base : {std::uint64_t{0}, std::uint64_t{7}, (std::uint64_t{1} << 32) - 37,
                             (std::uint64_t{1} << 40) + 3, (std::uint64_t{1} << 62) - 1000}) {
    SCOPED_TRACE(base);
    std::vector<char> whole(70000, 0);
    c.apply(base, whole.data(), whole.size());
    std::vector<char> pieces(whole.size(), 0);
    std::size_t at = 0;
    while (at < pieces.size()) {
      std::size_t n = std::min<std::size_t>(pieces.size() - at, 1 + rng() % 100);
      if (rng() % 4 == 0) n = std::min<std::size_t>(pieces.size() - at, 1 + rng() % 5000);
      c.apply(base + at, pieces.data() + at, n);
      at += n;
    }
    EXPECT_EQ(pieces, whole);
    // Any sub-range on its own, too.
    for (int k = 0; k < 50; ++k) {
      std::size_t from = rng() % whole.size(), n = rng() % (whole.size() - from);
      std::vector<char> part(n, 0);
      c.apply(base + from, part.data(), n);
      ASSERT_TRUE(std::equal(part.begin(), part.end(), whole.begin() + static_cast<std::ptrdiff_t>(from)));
    }
  }
}

// The counter is the 128-bit nonce + block: a call that starts after a carry out of the low
// 64 bits (or a wrap of all 128) must match OpenSSL's own increment inside one long call.
TEST(SpillCipher, CounterCarriesLikeOpenSsl) {
  SpillCipher::Nonce near_carry{};
  for (int i = 8; i < 16; ++i) near_carry[static_cast<std::size_t>(i)] = 0xff;
  near_carry[15] = 0xf0;  // carry out of the low 64 bits after 16 blocks
  SpillCipher::Nonce all_ones;
  all_ones.fill(0xff);  // 128-bit wrap after one block
  SpillCipher::Nonce low32{};
  low32[12] = low32[13] = low32[14] = 0xff;
  low32[15] = 0xfe;  // carry out of the low 32 bits (OpenSSL's ctr32 fast path)
  for (const auto& nonce : {near_carry, all_ones, low32}) {
    SpillCipher c(nonce);
    std::vector<char> whole(16 * 64, 0);
    c.apply(0, whole.data(), whole.size());
    for (std::size_t from : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17}, std::size_t{255},
                             std::size_t{256}, std::size_t{300}}) {
      std::vector<char> part(whole.size() - from, 0);
      c.apply(from, part.data(), part.size());
      EXPECT_TRUE(std::equal(part.begin(), part.end(), whole.begin() + static_cast<std::ptrdiff_t>(from))) << from;
    }
  }
}

TEST(SpillCipher, ConcurrentApplyFromThreads) {
  std::mt19937_64 rng(3);
  auto plain = random_bytes(rng, std::size_t{8} << 20);
  SpillCipher c;
  const std::uint64_t base = (std::uint64_t{1} << 33) + 5;  // > 4 GiB and unaligned
  auto expect = plain;
  c.apply(base, expect.data(), expect.size());
  for (int round = 0; round < 3; ++round) {
    auto got = plain;
    const int kThreads = 8;
    std::vector<std::thread> ts;
    std::size_t per = got.size() / kThreads;
    for (int t = 0; t < kThreads; ++t) {
      ts.emplace_back([&, t] {
        std::size_t from = per * static_cast<std::size_t>(t), to = t == kThreads - 1 ? got.size() : from + per;
        std::mt19937_64 r(static_cast<std::uint64_t>(t * 100 + round));
        while (from < to) {  // uneven pieces, so calls interleave at odd offsets
          std::size_t n = std::min<std::size_t>(to - from, 1 + r() % 70000);
          c.apply(base + from, got.data() + from, n);
          from += n;
        }
      });
    }
    for (auto& t : ts) t.join();
    ASSERT_EQ(got, expect);
  }
}

// ---- Streams ----------------------------------------------------------------------------------

// Random writes, reads, seeks and single-byte calls against a std::vector model.
void random_ops(std::FILE* f, std::uint64_t seed, bool spill = true, int ops = 3000) {
  std::mt19937_64 rng(seed);
  const auto pool = random_bytes(rng, std::size_t{1} << 20);  // write data: random slices of it
  std::vector<char> model;
  std::uint64_t pos = 0;
  int last_dir = 0;  // 1 read, 2 write: C requires a seek or flush between the two
  auto direction = [&](int d) {
    if (last_dir != 0 && last_dir != d) {
      ASSERT_EQ(fseeko(f, 0, SEEK_CUR), 0);
    }
    last_dir = d;
  };
  for (int op = 0; op < ops; ++op) {
    int kind = static_cast<int>(rng() % 10);
    std::size_t n = rng() % 3 == 0 ? rng() % 600000 : rng() % 3000;
    if (kind <= 2 || (kind == 9 && rng() % 2)) {
      direction(2);
    } else if (kind <= 5 || kind == 9) {
      direction(1);
      if (kind == 9) kind = 10;
    } else {
      last_dir = 0;
    }
    if (kind <= 2) {  // write
      std::size_t from = rng() % (pool.size() - n);
      std::vector<char> data(pool.begin() + static_cast<std::ptrdiff_t>(from),
                             pool.begin() + static_cast<std::ptrdiff_t>(from + n));
      ASSERT_EQ(std::fwrite(data.data(), 1, n, f), n);
      if (model.size() < pos + n) model.resize(pos + n, 0);
      std::copy(data.begin(), data.end(), model.begin() + static_cast<std::ptrdiff_t>(pos));
      pos += n;
    } else if (kind <= 5) {  // read
      std::vector<char> got(n);
      std::size_t r = std::fread(got.data(), 1, n, f);
      std::size_t expect = pos >= model.size() ? 0 : std::min<std::size_t>(n, model.size() - pos);
      ASSERT_EQ(r, expect) << "op " << op;
      ASSERT_TRUE(std::equal(got.begin(), got.begin() + static_cast<std::ptrdiff_t>(r),
                             model.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(pos, model.size()))))
          << "op " << op;
      pos += r;
      if (r < n) {
        ASSERT_TRUE(std::feof(f));
        std::clearerr(f);
      }
    } else if (kind == 6) {  // seek set (sometimes a little past the end: a gap of zeros)
      std::uint64_t to = rng() % (model.size() + 5000);
      ASSERT_EQ(fseeko(f, static_cast<off_t>(to), SEEK_SET), 0);
      pos = to;
    } else if (kind == 7) {  // seek cur, backwards or forwards
      std::int64_t d = static_cast<std::int64_t>(rng() % 20000) - 10000;
      if (static_cast<std::int64_t>(pos) + d < 0) d = -static_cast<std::int64_t>(pos);
      ASSERT_EQ(fseeko(f, static_cast<off_t>(d), SEEK_CUR), 0);
      pos = static_cast<std::uint64_t>(static_cast<std::int64_t>(pos) + d);
    } else if (kind == 8) {  // seek end
      std::int64_t d = -static_cast<std::int64_t>(rng() % (model.size() + 1));
      ASSERT_EQ(fseeko(f, static_cast<off_t>(d), SEEK_END), 0);
      pos = static_cast<std::uint64_t>(static_cast<std::int64_t>(model.size()) + d);
    } else {  // single bytes: 9 writes one, 10 reads one
      if (kind == 9) {
        int ch = static_cast<int>(rng() % 256);
        ASSERT_EQ(std::fputc(ch, f), ch);
        if (model.size() < pos + 1) model.resize(pos + 1, 0);
        model[pos++] = static_cast<char>(ch);
      } else {
        int ch = std::fgetc(f);
        if (pos >= model.size()) {
          ASSERT_EQ(ch, EOF);
          std::clearerr(f);
        } else {
          ASSERT_EQ(ch, static_cast<unsigned char>(model[pos])) << "op " << op;
          ++pos;
        }
      }
    }
    ASSERT_EQ(static_cast<std::uint64_t>(ftello(f)), pos) << "op " << op;
    ASSERT_FALSE(std::ferror(f)) << "op " << op;
  }
  // Everything, from the start and through spill_pread.
  ASSERT_EQ(std::fflush(f), 0);
  if (!spill) return;
  std::vector<char> all(model.size() + 10);
  ASSERT_EQ(spill_pread(f, all.data(), all.size(), 0), static_cast<ssize_t>(model.size()));
  all.resize(model.size());
  ASSERT_EQ(all, model);
  rewind(f);
  std::vector<char> again(model.size());
  ASSERT_EQ(std::fread(again.data(), 1, again.size(), f), model.size());
  ASSERT_EQ(again, model);
}

TEST(SpillFile, RandomOpsModelOnPlainFile) {  // the model itself, on an ordinary FILE*
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  random_ops(f, 11, false);
  std::fclose(f);
}

TEST(SpillFile, RandomOpsTmpfile) {
  std::FILE* f = spill_tmpfile();
  ASSERT_NE(f, nullptr) << std::strerror(errno);
  EXPECT_TRUE(is_spill_file(f));
  random_ops(f, 11);
  EXPECT_EQ(std::fclose(f), 0);
}

// Small and default (glibc's own) stdio buffers: many more, smaller cookie calls.
TEST(SpillFile, RandomOpsSmallBuffers) {
  for (std::size_t buffer : {std::size_t{0}, std::size_t{4096}}) {
    SCOPED_TRACE(buffer);
    std::FILE* f = spill_tmpfile({}, buffer);
    ASSERT_NE(f, nullptr) << std::strerror(errno);
    random_ops(f, 20 + buffer, true, 1500);
    EXPECT_EQ(std::fclose(f), 0);
  }
}

TEST(SpillFile, RandomOpsByPath) {
  Scratch dir;
  for (const char* mode : {"w+b", "w+"}) {
    std::FILE* f = spill_fopen(dir / "s", mode);
    ASSERT_NE(f, nullptr) << std::strerror(errno);
    random_ops(f, 12);
    EXPECT_EQ(std::fclose(f), 0);
  }
  // r+b on the existing file: the same operations go on from its content.
  std::FILE* f = spill_fopen(dir / "s", "r+b");
  ASSERT_NE(f, nullptr) << std::strerror(errno);
  ASSERT_EQ(fseeko(f, 0, SEEK_END), 0);
  off_t size = ftello(f);
  EXPECT_GT(size, 0);
  rewind(f);
  std::vector<char> old(static_cast<std::size_t>(size));
  ASSERT_EQ(std::fread(old.data(), 1, old.size(), f), old.size());
  ASSERT_EQ(fseeko(f, 100, SEEK_SET), 0);
  ASSERT_EQ(std::fwrite("patched", 1, 7, f), 7u);
  EXPECT_EQ(std::fclose(f), 0);
  std::copy_n("patched", 7, old.begin() + 100);
  f = spill_fopen(dir / "s", "rb");
  ASSERT_NE(f, nullptr);
  std::vector<char> now(old.size() + 1);
  EXPECT_EQ(std::fread(now.data(), 1, now.size(), f), old.size());
  now.resize(old.size());
  EXPECT_EQ(now, old);
  std::fclose(f);
}

TEST(SpillFile, NoPlaintextOnDisk) {
  Scratch dir;
  std::string plain = evidence_text(std::size_t{512} << 10);
  std::FILE* f = spill_fopen(dir / "run0", "wb");
  ASSERT_NE(f, nullptr);
  // A write larger than the stdio buffer (straight to the cookie), then small ones (buffered).
  const std::size_t big = kSpillBufferSize + 40000;
  ASSERT_EQ(std::fwrite(plain.data(), 1, big, f), big);
  for (std::size_t at = big; at < plain.size(); at += 100)
    ASSERT_EQ(std::fwrite(plain.data() + at, 1, std::min<std::size_t>(100, plain.size() - at), f),
              std::min<std::size_t>(100, plain.size() - at));
  ASSERT_EQ(std::fclose(f), 0);
  std::string raw = raw_file(dir / "run0");
  ASSERT_EQ(raw.size(), plain.size() + kSpillHeaderSize);
  EXPECT_EQ(raw.compare(0, 8, "BRDLSPL1"), 0);
  EXPECT_FALSE(leaks_plaintext(plain, raw));
  EXPECT_EQ(raw.find("evil.example"), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat((dir / "run0").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The unlinked temporary file, read through /proc/self/fd.
  std::FILE* t = nullptr;
  int fd = fd_opened_by([&] { t = spill_tmpfile(); });
  ASSERT_NE(t, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(std::fwrite(plain.data(), 1, plain.size(), t), plain.size());
  ASSERT_EQ(std::fflush(t), 0);
  std::string link = fs::read_symlink("/proc/self/fd/" + std::to_string(fd)).string();
  EXPECT_NE(link.find("(deleted)"), std::string::npos) << link;
  std::string traw = raw_file("/proc/self/fd/" + std::to_string(fd));
  ASSERT_EQ(traw.size(), plain.size() + kSpillHeaderSize);
  EXPECT_FALSE(leaks_plaintext(plain, traw));
  // Same plaintext, another nonce: other ciphertext.
  EXPECT_NE(traw.substr(kSpillHeaderSize), raw.substr(kSpillHeaderSize));
  std::fclose(t);
}

TEST(SpillFile, CreatedPrivateAndCloseOnExec) {
  Scratch dir;
  fs::path p = dir / "old";
  bridle::test::write_file(p, "public data");
  ::chmod(p.c_str(), 0644);
  mode_t old_mask = ::umask(0);
  std::FILE* f = nullptr;
  int fd = fd_opened_by([&] { f = spill_fopen(p, "wb"); });
  std::FILE* g = spill_fopen(dir / "new", "wb");
  ::umask(old_mask);
  ASSERT_NE(f, nullptr);
  ASSERT_NE(g, nullptr);
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  EXPECT_EQ(fileno(f), -1);
  std::fclose(f);
  std::fclose(g);
  // A symlink is not followed.
  fs::create_symlink(dir / "new", dir / "link");
  errno = 0;
  EXPECT_EQ(spill_fopen(dir / "link", "wb"), nullptr);
  EXPECT_EQ(errno, ELOOP);
  // "x": exclusive creation.
  errno = 0;
  EXPECT_EQ(spill_fopen(dir / "new", "wbx"), nullptr);
  EXPECT_EQ(errno, EEXIST);
  std::FILE* x = spill_fopen(dir / "fresh", "wbx");
  ASSERT_NE(x, nullptr);
  std::fclose(x);
}

// The engine's pattern: a writer keeps appending and flushing while readers reopen the path.
TEST(SpillFile, ReopenByPathWhileWriting) {
  Scratch dir;
  std::mt19937_64 rng(4);
  auto data = random_bytes(rng, 5'000'000);
  std::FILE* w = spill_fopen(dir / "elements", "wb");
  ASSERT_NE(w, nullptr);
  {  // header written at once: an empty spill opens
    std::FILE* r = spill_fopen(dir / "elements", "rb");
    ASSERT_NE(r, nullptr) << std::strerror(errno);
    EXPECT_EQ(std::fgetc(r), EOF);
    EXPECT_TRUE(std::feof(r));
    std::fclose(r);
  }
  std::size_t written = 0;
  while (written < data.size()) {
    std::size_t n = std::min<std::size_t>(data.size() - written, 1 + rng() % 400000);
    ASSERT_EQ(std::fwrite(data.data() + written, 1, n, w), n);
    written += n;
    ASSERT_EQ(std::fflush(w), 0);
    std::FILE* r = spill_fopen(dir / "elements", "rb");
    ASSERT_NE(r, nullptr);
    std::size_t from = rng() % written;
    ASSERT_EQ(fseeko(r, static_cast<off_t>(from), SEEK_SET), 0);
    std::vector<char> got(written - from);
    ASSERT_EQ(std::fread(got.data(), 1, got.size(), r), got.size());
    ASSERT_TRUE(std::equal(got.begin(), got.end(), data.begin() + static_cast<std::ptrdiff_t>(from)));
    ASSERT_EQ(std::fgetc(r), EOF);
    std::fclose(r);
  }
  ASSERT_EQ(std::fclose(w), 0);
}

TEST(SpillFile, EofSemantics) {
  Scratch dir;
  std::FILE* w = spill_fopen(dir / "e", "wb");
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(std::fputs("hello world", w), 1);  // glibc: a non-negative number
  std::fclose(w);
  std::FILE* r = spill_fopen(dir / "e", "rb");
  ASSERT_NE(r, nullptr);
  char buf[64];
  ASSERT_EQ(std::fread(buf, 1, 11, r), 11u);
  EXPECT_EQ(std::string(buf, 11), "hello world");
  EXPECT_FALSE(std::feof(r));  // exactly at the end: EOF not seen yet
  EXPECT_EQ(std::fread(buf, 1, 1, r), 0u);
  EXPECT_TRUE(std::feof(r));
  EXPECT_FALSE(std::ferror(r));
  std::clearerr(r);
  rewind(r);
  EXPECT_EQ(std::fread(buf, 1, sizeof buf, r), 11u);  // short read
  EXPECT_TRUE(std::feof(r));
  EXPECT_EQ(std::fgetc(r), EOF);
  ASSERT_EQ(fseeko(r, -5, SEEK_END), 0);
  EXPECT_FALSE(std::feof(r));  // a seek clears EOF
  EXPECT_EQ(std::fgetc(r), 'w');
  EXPECT_EQ(std::ungetc('W', r), 'W');
  EXPECT_EQ(std::fgetc(r), 'W');
  EXPECT_EQ(ftello(r), 7);
  std::uint32_t u = 0;
  EXPECT_EQ(std::fread(&u, 4, 1, r), 1u);  // "orld"
  EXPECT_EQ(std::fread(&u, 4, 1, r), 0u);  // the engine's get_str at the end of a run
  EXPECT_EQ(fseeko(r, -1, SEEK_SET), -1);  // before the start
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(fseeko(r, 1000, SEEK_SET), 0);  // past the end: reads nothing
  EXPECT_EQ(std::fread(buf, 1, 4, r), 0u);
  EXPECT_TRUE(std::feof(r));
  // Writing to a read-only stream fails like it would on a plain one.
  EXPECT_EQ(std::fputc('x', r), EOF);
  EXPECT_TRUE(std::ferror(r));
  std::fclose(r);
  // Reading a write-only stream fails too.
  w = spill_fopen(dir / "e2", "wb");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(std::fgetc(w), EOF);
  EXPECT_TRUE(std::ferror(w));
  std::fclose(w);
}

TEST(SpillFile, FormattedIoAndGap) {
  std::FILE* f = spill_tmpfile();
  ASSERT_NE(f, nullptr);
  ASSERT_GT(std::fprintf(f, "%s=%d\n", "count", 42), 0);
  ASSERT_EQ(fseeko(f, 100000, SEEK_SET), 0);  // a gap: reads back as zeros
  ASSERT_EQ(std::fputc('Z', f), 'Z');
  rewind(f);
  char word[16];
  int v = 0;
  ASSERT_EQ(std::fscanf(f, "%5s=%d", word, &v), 2);
  EXPECT_EQ(std::string(word), "count");
  EXPECT_EQ(v, 42);
  ASSERT_EQ(fseeko(f, 9, SEEK_SET), 0);
  std::vector<char> gap(100000 - 9, 'x');
  ASSERT_EQ(std::fread(gap.data(), 1, gap.size(), f), gap.size());
  EXPECT_EQ(std::count(gap.begin(), gap.end(), '\0'), static_cast<std::ptrdiff_t>(gap.size()));
  EXPECT_EQ(std::fgetc(f), 'Z');
  ASSERT_EQ(fseeko(f, 0, SEEK_END), 0);
  EXPECT_EQ(ftello(f), 100001);
  std::fclose(f);
}

TEST(SpillFile, LargeOffsets) {
  Scratch dir;
  std::FILE* w = spill_fopen(dir / "big", "w+b");
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(std::fwrite("abc", 1, 3, w), 3u);
  const off_t five_gib = off_t{5} << 30;
  ASSERT_EQ(fseeko(w, five_gib, SEEK_SET), 0);  // 64-bit positions through the cookie
  EXPECT_EQ(ftello(w), five_gib);
  char c;
  EXPECT_EQ(std::fread(&c, 1, 1, w), 0u);
  EXPECT_TRUE(std::feof(w));
  ASSERT_EQ(fseeko(w, -2, SEEK_END), 0);
  EXPECT_EQ(ftello(w), 1);
  EXPECT_EQ(std::fgetc(w), 'b');
  ASSERT_EQ(fseeko(w, five_gib, SEEK_CUR), 0);
  EXPECT_EQ(ftello(w), five_gib + 2);
  std::fclose(w);
  char buf[4];
  // Positional reads far past the end.
  std::FILE* r = spill_fopen(dir / "big", "rb");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(spill_pread(r, buf, 4, std::uint64_t{1} << 40), 0);
  EXPECT_EQ(spill_pread(r, buf, 4, 1), 2);
  EXPECT_EQ(std::string(buf, 2), "bc");
  std::fclose(r);
  // The keystream past 4 GiB is covered by SpillCipher.UnalignedPiecesEqualOneCall.
}

TEST(SpillFile, PreadIsPositionalAndConcurrent) {
  std::mt19937_64 rng(5);
  auto data = random_bytes(rng, 3'000'000);
  std::FILE* f = spill_tmpfile();
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  ASSERT_EQ(std::fflush(f), 0);
  off_t pos = ftello(f);
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 6; ++t) {
    ts.emplace_back([&, t] {
      std::mt19937_64 r(static_cast<std::uint64_t>(t));
      std::vector<char> buf(70000);
      for (int k = 0; k < 200; ++k) {
        std::size_t from = r() % data.size(), n = r() % buf.size();
        ssize_t got = spill_pread(f, buf.data(), n, from);
        std::size_t expect = std::min(n, data.size() - from);
        if (got != static_cast<ssize_t>(expect) ||
            !std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(expect),
                        data.begin() + static_cast<std::ptrdiff_t>(from)))
          ++bad;
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(ftello(f), pos);  // unmoved
  std::fclose(f);

  std::FILE* plain = std::tmpfile();
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(is_spill_file(plain));
  char c;
  errno = 0;
  EXPECT_EQ(spill_pread(plain, &c, 1, 0), -1);
  EXPECT_EQ(errno, EBADF);
  std::fclose(plain);
}

TEST(SpillFile, HeaderlessAndForeignRefused) {
  Scratch dir;
  auto expect_refused = [&](const std::string& name, const std::string& content, int err) {
    SCOPED_TRACE(name);
    bridle::test::write_file(dir / name, content);
    for (const char* mode : {"rb", "r+b"}) {
      errno = 0;
      EXPECT_EQ(spill_fopen(dir / name, mode), nullptr);
      EXPECT_EQ(errno, err) << std::strerror(errno);
    }
  };
  expect_refused("empty", "", EBADMSG);
  expect_refused("short", "BRDLSPL1", EBADMSG);
  expect_refused("plain", evidence_text(10000), EBADMSG);
  // A real spill file with its header damaged.
  std::FILE* w = spill_fopen(dir / "good", "wb");
  ASSERT_NE(w, nullptr);
  std::fputs("secret", w);
  std::fclose(w);
  std::string good = raw_file(dir / "good");
  std::string v2 = good;
  v2[8] = 2;  // unknown version
  expect_refused("version", v2, EBADMSG);
  std::string other_nonce = good;
  other_nonce[20] ^= 1;  // nonce no longer matches the check block: as another key would
  expect_refused("nonce", other_nonce, EKEYREJECTED);
  std::string other_check = good;
  other_check[40] ^= 0x80;
  expect_refused("check", other_check, EKEYREJECTED);
  // Missing file, bad modes.
  errno = 0;
  EXPECT_EQ(spill_fopen(dir / "missing", "rb"), nullptr);
  EXPECT_EQ(errno, ENOENT);
  for (const char* mode : {"", "a", "ab", "rq", "rx", "w+z"}) {
    errno = 0;
    EXPECT_EQ(spill_fopen(dir / "m", mode), nullptr) << mode;
    EXPECT_EQ(errno, EINVAL) << mode;
  }
  EXPECT_EQ(spill_fopen(dir / "m", nullptr), nullptr);
  EXPECT_FALSE(fs::exists(dir / "m"));
}

// A file written by another bridle process (another key), e.g. left behind by a crash.
TEST(SpillFile, OtherProcessFileRefused) {
  Scratch dir;
  fs::path out = dir / "from_child";
  std::string env = "BRIDLE_SPILL_CHILD_OUT=" + out.string();
  std::vector<std::string> args = {"/proc/self/exe"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(env.data());
  envp.push_back(nullptr);
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), envp.data()), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(fs::exists(out));
  EXPECT_EQ(fs::file_size(out), kSpillHeaderSize + 14);
  errno = 0;
  EXPECT_EQ(spill_fopen(out, "rb"), nullptr);
  EXPECT_EQ(errno, EKEYREJECTED);
  // Overwriting it ("w") is fine: a new file under this process's key.
  std::FILE* w = spill_fopen(out, "w+b");
  ASSERT_NE(w, nullptr);
  std::fclose(w);
}

// The child of OtherProcessFileRefused: the test binary re-run with BRIDLE_SPILL_CHILD_OUT set
// does its part before any test runs (a fresh process, hence a fresh key) and exits.
[[maybe_unused]] const bool kSpillChildDone = [] {
  const char* out = std::getenv("BRIDLE_SPILL_CHILD_OUT");
  if (!out) return false;
  bool ok = false;
  if (std::FILE* w = spill_fopen(out, "wb")) {
    ok = std::fwrite("child evidence", 1, 14, w) == 14;
    ok = std::fclose(w) == 0 && ok;
  }
  char buf[14] = {};
  if (std::FILE* r = spill_fopen(out, "rb")) {  // readable by its own process
    ok = ok && std::fread(buf, 1, 14, r) == 14 && std::string(buf, 14) == "child evidence";
    std::fclose(r);
  } else {
    ok = false;
  }
  std::_Exit(ok ? 0 : 1);
}();
