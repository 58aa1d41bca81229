// IosFsSource: layouts, archives read in place, batched copies, and hostile inputs
// (zip-slip names, symlinks out, duplicates, truncation, non-UTF-8 names).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <random>

#include "core/util.hpp"
#include "support/fs_dump.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kSmsSql = "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT); INSERT INTO message VALUES (1, 'hi');";

ArtifactSpec sms_spec() { return {{}, {"private/var/mobile/Library/SMS/sms.db"}}; }

std::vector<std::string> entry_paths(IosSource& s) {
  std::vector<std::string> out;
  s.for_each_entry([&](const IosFsEntry& e) {
    out.push_back(e.path);
    return true;
  });
  return out;
}

bool has_problem(const IosSource& s, const std::string& needle, bool* unread = nullptr) {
  for (auto& d : s.acquisition_problems())
    if (d.message.find(needle) != std::string::npos || d.file.find(needle) != std::string::npos) {
      if (unread) *unread = d.unread;
      return true;
    }
  return false;
}

TEST(IosFsSource, FolderLayoutsAreNormalised) {
  for (std::string layout : {"private/var/", "dump/private/var/", "var/", "top/var/", "var-content"}) {
    Scratch d;
    std::string base = layout == "var-content" ? "" : layout;
    make_sqlite(d / (base + "mobile/Library/SMS/sms.db"), kSmsSql);
    if (layout == "var-content") write_file(d / "db/diagnostics/shutdown.log", "x");
    auto src = open_fs(d.path());
    ASSERT_TRUE(src) << layout;
    auto files = src->find(sms_spec());
    ASSERT_EQ(files.size(), 1u) << layout;
    EXPECT_EQ(files[0].relative_path, "private/var/mobile/Library/SMS/sms.db") << layout;
    SqliteError err;
    auto db = src->open_sqlite(files[0], &err);
    ASSERT_TRUE(db) << layout << ": " << err.message;
    auto paths = entry_paths(*src);
    EXPECT_NE(std::find(paths.begin(), paths.end(), "private/var/mobile/Library/SMS/sms.db"), paths.end()) << layout;
    EXPECT_EQ(paths.front(), "private") << layout;
  }
}

TEST(IosFsSource, NotADumpIsRefused) {
  Scratch d;
  write_file(d / "a" / "b.txt", "x");
  write_file(d / "c.txt", "x");
  std::string err;
  EXPECT_FALSE(IosFsSource::open(d.path(), &err));
  EXPECT_NE(err.find("not an iOS filesystem dump"), std::string::npos) << err;
  write_file(d / "garbage.tgz", std::string(5000, 'Z'));
  EXPECT_FALSE(IosFsSource::open(d / "garbage.tgz", &err));
  EXPECT_NE(err.find("cannot read"), std::string::npos) << err;
  EXPECT_FALSE(IosFsSource::open(d / "missing", &err));
  // An archive of something else.
  write_archive(d / "other.zip", {mfile("docs/readme.txt", "hello")}, ArchiveFormat::Zip);
  EXPECT_FALSE(IosFsSource::open(d / "other.zip", &err));
  EXPECT_NE(err.find("not an iOS filesystem dump"), std::string::npos) << err;
}

class Archives : public ::testing::TestWithParam<ArchiveFormat> {};

std::string ext(ArchiveFormat f) {
  return f == ArchiveFormat::Zip ? ".zip" : f == ArchiveFormat::Tar ? ".tar" : ".tar.gz";
}

TEST_P(Archives, MembersAreCopiedInOneBatchAndRemoved) {
  Scratch d;
  // A database in WAL mode with its sidecars, as on a live device.
  make_sqlite(d / "src" / "sms.db", kSmsSql);
  std::vector<ArchiveMember> m = {
      mdir("./dump/", 1600000000.5),
      mdir("./dump/private/var/mobile/Library/SMS", 1600000001.25),
      mfile("./dump/private/var/mobile/Library/SMS/sms.db", slurp(d / "src" / "sms.db")),
      mfile("./dump/private/var/mobile/Library/SMS/sms.db-wal", ""),
      mfile("./dump/private/var/db/diagnostics/shutdown.log", "SIGTERM: [1700000000]\n"),
      mfile("./dump/private/var/db/diagnostics/shutdown.0.log", "rotated\n"),
  };
  auto arc = d / ("dump" + ext(GetParam()));
  write_archive(arc, m, GetParam());
  auto before = sha256_file(arc);
  std::optional<fs::path> temp;
  {
    auto src = open_fs(arc);
    ASSERT_TRUE(src);
    EXPECT_TRUE(src->is_archive());
    EXPECT_EQ(src->stripped_prefix(), "dump/");
    auto logs = src->find({{}, {"private/var/db/diagnostics/shutdown.log", "private/var/db/diagnostics/shutdown.*.log"}});
    ASSERT_EQ(logs.size(), 2u);
    auto sms = src->find(sms_spec());
    ASSERT_EQ(sms.size(), 1u);
    // Everything found so far comes out in a single pass.
    std::string err;
    auto text = src->read(logs[0], &err, 1 << 20);
    ASSERT_TRUE(text) << err;
    EXPECT_EQ(*text, "SIGTERM: [1700000000]\n");
    SqliteError se;
    auto db = src->open_sqlite(sms[0], &se);
    ASSERT_TRUE(db) << se.message;
    int rows = 0;
    db->query("SELECT text FROM message", [&](const SqliteRow&) { return ++rows, true; });
    EXPECT_EQ(rows, 1);
    EXPECT_TRUE(src->read(logs[1], &err, 1 << 20));
    EXPECT_EQ(src->extraction_passes(), 1u);
    temp = src->temp_folder();
    ASSERT_TRUE(temp);
    struct stat st {};
    ASSERT_EQ(::stat(temp->c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    // Entries: implied folders listed, mtimes from the headers.
    bool saw_sms_dir = false;
    src->for_each_entry([&](const IosFsEntry& e) {
      if (e.path == "private/var/mobile/Library/SMS") {
        saw_sms_dir = true;
        EXPECT_TRUE(e.is_dir);
        EXPECT_TRUE(e.mtime);
        if (!e.mtime) return true;
        if (GetParam() != ArchiveFormat::Zip) {
          EXPECT_DOUBLE_EQ(*e.mtime, 1600000001.25);
        }
      }
      return true;
    });
    EXPECT_TRUE(saw_sms_dir);
  }
  EXPECT_FALSE(fs::exists(*temp)) << "private copies must be removed with the source";
  EXPECT_EQ(before, sha256_file(arc));
}

TEST_P(Archives, UnsafeNamesAndLinksAreReportedNeverFollowed) {
  Scratch d;
  write_file(d / "outside-secret", "secret");
  std::vector<ArchiveMember> m = {
      mfile("private/var/mobile/ok.txt", "ok"),
      mfile("../../outside-evil", "evil"),
      mfile("/etc/evil-absolute", "evil"),
      mfile("private/var/../../../escape", "evil"),
      // Stands where SMS looks, but with an unsafe name: the module must learn it was hidden.
      mfile("../private/var/mobile/Library/SMS/sms.db", "evil"),
      mlink("private/var/db/diagnostics/shutdown.log", "../../../../../outside-secret"),
      mlink("private/var/mobile/inside-link", "ok.txt"),
      mlink("private/var/mobile/abs-link", "/private/var/mobile/ok.txt"),
  };
  auto arc = d / ("evil" + ext(GetParam()));
  write_archive(arc, m, GetParam());
  auto before = tree_hashes(d.path());
  auto src = open_fs(arc);
  ASSERT_TRUE(src);
  EXPECT_TRUE(has_problem(*src, "outside-evil"));
  EXPECT_TRUE(has_problem(*src, "/etc/evil-absolute"));
  EXPECT_TRUE(has_problem(*src, "escape"));
  auto paths = entry_paths(*src);
  for (auto& p : paths) {
    EXPECT_EQ(p.find(".."), std::string::npos) << p;
    EXPECT_NE(p, "etc/evil-absolute");
  }
  // The hidden sms.db: found, and reading it says why it cannot be read.
  auto sms = src->find(sms_spec());
  ASSERT_EQ(sms.size(), 1u);
  SqliteError se;
  EXPECT_FALSE(src->open_sqlite(sms[0], &se));
  EXPECT_NE(se.message.find("unsafe name"), std::string::npos) << se.message;
  // A symlink out of the dump: found, never followed.
  auto log = src->find({{}, {"private/var/db/diagnostics/shutdown.log"}});
  ASSERT_EQ(log.size(), 1u);
  std::string err;
  EXPECT_FALSE(src->read(log[0], &err, 1 << 20));
  EXPECT_NE(err.find("outside the dump"), std::string::npos) << err;
  // Links inside the dump are followed (relative and device-absolute).
  for (auto* name : {"private/var/mobile/inside-link", "private/var/mobile/abs-link"}) {
    auto f = src->find({{}, {name}});
    ASSERT_EQ(f.size(), 1u) << name;
    auto t = src->read(f[0], &err, 1 << 20);
    ASSERT_TRUE(t) << name << ": " << err;
    EXPECT_EQ(*t, "ok");
  }
  src.reset();
  EXPECT_EQ(before, tree_hashes(d.path()));
  EXPECT_FALSE(fs::exists(d.path().parent_path() / "outside-evil"));
}

TEST_P(Archives, DuplicateNamesUseTheLastCopyAndAreReported) {
  Scratch d;
  std::vector<ArchiveMember> m = {
      mfile("private/var/mobile/a.txt", "first"),
      mfile("private/var/mobile/a.txt", "second"),
  };
  auto arc = d / ("dup" + ext(GetParam()));
  write_archive(arc, m, GetParam());
  auto src = open_fs(arc);
  ASSERT_TRUE(src);
  EXPECT_TRUE(has_problem(*src, "duplicate member name"));
  auto f = src->find({{}, {"private/var/mobile/a.txt"}});
  ASSERT_EQ(f.size(), 1u);
  std::string err;
  auto t = src->read(f[0], &err, 100);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(*t, "second");
  auto paths = entry_paths(*src);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), "private/var/mobile/a.txt"), 1);
}

TEST_P(Archives, NonUtf8NamesDoNotBreakAnything) {
  Scratch d;
  std::vector<ArchiveMember> m = {
      mfile("private/var/mobile/caf\xe9\xff.txt", "x"),
      mfile("private/var/mobile/ok.txt", "ok"),
  };
  auto arc = d / ("names" + ext(GetParam()));
  write_archive(arc, m, GetParam());
  auto src = open_fs(arc);
  ASSERT_TRUE(src);
  auto run = run_fs_module(*src, d, "Filesystem", "filesystem");
  ASSERT_TRUE(run.doc.is_array());
  bool found = false;
  for (auto& r : run.doc) found = found || r["path"].get<std::string>().find("caf") != std::string::npos;
  EXPECT_TRUE(found) << run.doc.dump();
}

INSTANTIATE_TEST_SUITE_P(Formats, Archives,
                         ::testing::Values(ArchiveFormat::Tar, ArchiveFormat::TarGz, ArchiveFormat::Zip),
                         [](const auto& info) {
                           return std::string(info.param == ArchiveFormat::Zip   ? "zip"
                                              : info.param == ArchiveFormat::Tar ? "tar"
                                                                                 : "targz");
                         });

TEST(IosFsSource, TruncatedGzipKeepsTheReadablePart) {
  Scratch d;
  std::mt19937 rng(7);
  std::vector<ArchiveMember> m = {mfile("private/var/mobile/first.txt", "first")};
  for (int i = 0; i < 20; ++i) {
    std::string noise(64 * 1024, '\0');
    for (auto& c : noise) c = static_cast<char>(rng());
    m.push_back(mfile("private/var/mobile/blob" + std::to_string(i), noise));
  }
  m.push_back(mfile("private/var/mobile/last.txt", "last"));
  write_archive(d / "full.tar.gz", m, ArchiveFormat::TarGz);
  auto bytes = slurp(d / "full.tar.gz");
  write_file(d / "cut.tar.gz", bytes.substr(0, bytes.size() / 2));
  auto src = open_fs(d / "cut.tar.gz");
  ASSERT_TRUE(src);
  bool unread = false;
  EXPECT_TRUE(has_problem(*src, "truncated", &unread));
  EXPECT_TRUE(unread);
  auto f = src->find({{}, {"private/var/mobile/first.txt"}});
  ASSERT_EQ(f.size(), 1u);
  std::string err;
  auto t = src->read(f[0], &err, 100);
  ASSERT_TRUE(t) << err;
  EXPECT_EQ(*t, "first");
  EXPECT_TRUE(src->find({{}, {"private/var/mobile/last.txt"}}).empty());
}

TEST(IosFsSource, FolderSymlinksAreNotFollowedOut) {
  Scratch d;
  write_file(d / "secret", "secret");
  write_file(d / "dump/private/var/mobile/ok.txt", "ok");
  fs::create_directories(d / "dump/private/var/db/diagnostics");
  fs::create_symlink("../../../../../secret", d / "dump/private/var/db/diagnostics/shutdown.log");
  fs::create_symlink("/", d / "dump/private/var/mobile/root-link");
  fs::create_symlink("../mobile", d / "dump/private/var/mobile/loop");
  auto before = tree_hashes(d.path());
  auto src = open_fs(d / "dump");
  ASSERT_TRUE(src);
  auto log = src->find({{}, {"private/var/db/diagnostics/shutdown.log"}});
  ASSERT_EQ(log.size(), 1u);
  std::string err;
  EXPECT_FALSE(src->read(log[0], &err, 100));
  EXPECT_NE(err.find("outside the dump"), std::string::npos) << err;
  // The walk lists links without following them (no loop, nothing from the host's "/").
  auto paths = entry_paths(*src);
  EXPECT_LT(paths.size(), 20u);
  EXPECT_NE(std::find(paths.begin(), paths.end(), "private/var/mobile/root-link"), paths.end());
  // Globs through a link pointing to the device root stay inside the dump.
  auto via = src->find({{}, {"private/var/mobile/root-link/private/var/mobile/ok.txt"}});
  ASSERT_EQ(via.size(), 1u);
  EXPECT_EQ(*src->read(via[0], &err, 100), "ok");
  src.reset();
  EXPECT_EQ(before, tree_hashes(d.path()));
}

}  // namespace

// A highly compressible archive (bomb-like) cannot make bridle write more than the
// extraction budget into private copies: members past it are not read, with a reason that
// names the budget, and the others are still read.
TEST(IosFsSource, ExtractionBudgetBoundsPrivateCopies) {
  Scratch d;
  const std::string mib(1u << 20, '\0');
  write_archive(d / "bomb.tar.gz",
                {mfile("private/var/mobile/a.bin", mib), mfile("private/var/mobile/b.bin", mib)},
                ArchiveFormat::TarGz);
  ASSERT_LT(fs::file_size(d / "bomb.tar.gz"), 64u * 1024);  // ratio > 30
  ::setenv("BRIDLE_MAX_EXTRACT_BYTES", "1572864", 1);  // 1.5 MiB
  auto src = open_fs(d / "bomb.tar.gz");
  ASSERT_TRUE(src);
  std::string err;
  auto fa = src->find({{}, {"private/var/mobile/a.bin"}});
  auto fb = src->find({{}, {"private/var/mobile/b.bin"}});
  ASSERT_EQ(fa.size(), 1u);
  ASSERT_EQ(fb.size(), 1u);
  auto a = src->read(fa[0], &err, 2u << 20);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->size(), mib.size());
  auto b = src->read(fb[0], &err, 2u << 20);
  ::unsetenv("BRIDLE_MAX_EXTRACT_BYTES");
  EXPECT_FALSE(b);
  EXPECT_NE(err.find("extraction budget"), std::string::npos) << err;
}
