#include "support/support.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <archive.h>
#include <archive_entry.h>
#include <plist/plist.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/util.hpp"

namespace bridle::test {

Scratch::Scratch() {
  std::string tmpl = (fs::temp_directory_path() / "bridle-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

Scratch::~Scratch() {
  std::error_code ec;
  // Make everything writable again first (tests may chmod evidence read-only).
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_symlink()) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

void make_sqlite(const fs::path& path, const std::string& sql) {
  fs::create_directories(path.parent_path());
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("sqlite open failed");
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(db);
    throw std::runtime_error("fixture SQL failed: " + msg);
  }
  sqlite3_close(db);
}

void write_file(const fs::path& path, const std::string& data) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
plist_t to_plist(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.size() == 1 && v.contains("$data")) {
        auto bytes = base64_decode(v["$data"].get<std::string>()).value_or("");
        return plist_new_data(bytes.data(), bytes.size());
      }
      if (v.size() == 1 && v.contains("$uid")) return plist_new_uid(v["$uid"].get<uint64_t>());
      if (v.size() == 1 && v.contains("$real")) return plist_new_real(v["$real"].get<double>());
      plist_t d = plist_new_dict();
      for (auto& [k, x] : v.items()) plist_dict_set_item(d, k.c_str(), to_plist(x));
      return d;
    }
    case Json::value_t::array: {
      plist_t a = plist_new_array();
      for (auto& x : v) plist_array_append_item(a, to_plist(x));
      return a;
    }
    case Json::value_t::string: {
      auto s = v.get<std::string>();
      if (s.rfind("date:", 0) == 0) {
        double unix_s = std::stod(s.substr(5));
        double mac = unix_s - 978307200.0;
        int32_t sec = static_cast<int32_t>(mac);
        return plist_new_date(sec, static_cast<int32_t>((mac - sec) * 1e6));
      }
      return plist_new_string(s.c_str());
    }
    case Json::value_t::boolean: return plist_new_bool(v.get<bool>() ? 1 : 0);
    case Json::value_t::number_float: return plist_new_real(v.get<double>());
    case Json::value_t::number_unsigned:
    case Json::value_t::number_integer: return plist_new_uint(static_cast<uint64_t>(v.get<int64_t>()));
    default: return plist_new_string("");
  }
}
}  // namespace

std::string make_plist(const Json& value, bool binary) {
  plist_t p = to_plist(value);
  char* out = nullptr;
  uint32_t len = 0;
  if (binary) plist_to_bin(p, &out, &len);
  else plist_to_xml(p, &out, &len);
  std::string s(out, len);
  free(out);
  plist_free(p);
  return s;
}

std::optional<fs::path> shared_dir() {
  fs::path p = BRIDLE_SHARED_DIR;
  if (fs::exists(p / "corpus")) return fs::weakly_canonical(p);
  return std::nullopt;
}

RunResult run_bridle(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     const std::string& input) {
  Scratch tmp;
  fs::path outp = tmp / "out", errp = tmp / "err", inp = tmp / "in";
  write_file(inp, input);
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(inp.c_str(), O_RDONLY);
    int o = open(outp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(errp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0); dup2(o, 1); dup2(e, 2);
    for (auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    std::string bin = BRIDLE_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(outp);
  r.err = slurp(errp);
  return r;
}

std::map<std::string, std::string> tree_hashes(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    auto rel = fs::relative(e.path(), root).string();
    if (e.is_symlink()) out[rel] = "link:" + fs::read_symlink(e.path()).string();
    else if (e.is_regular_file()) out[rel] = sha256_file(e.path()).value_or("?");
    else if (e.is_directory()) out[rel + "/"] = "dir";
  }
  return out;
}

std::string encrypt_cbc(std::string_view key, std::string_view data, bool pad) {
  static const unsigned char iv[16] = {};
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key.data()), iv);
  EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0);
  std::string out(data.size() + 32, '\0');
  int len = 0, fl = 0;
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                    reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()));
  EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fl);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(len + fl));
  return out;
}

std::string zlib_compress(const std::string& s) {
  uLongf n = compressBound(static_cast<uLong>(s.size()));
  std::string out(n, '\0');
  if (compress(reinterpret_cast<Bytef*>(out.data()), &n, reinterpret_cast<const Bytef*>(s.data()),
               static_cast<uLong>(s.size())) != Z_OK)
    throw std::runtime_error("zlib compress failed");
  out.resize(n);
  return out;
}

std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files, long mtime) {
  std::size_t cap = 64 << 10;  // headers (pax extended headers included) and the end blocks
  for (auto& f : files) cap += f.second.size() + f.first.size() * 2 + 4096;
  std::string out(cap, '\0');
  size_t used = 0;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_memory(a, out.data(), out.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error("make_tar: cannot open the archive");
  for (auto& [name, data] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, mtime, 0);
    bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
              archive_write_data(a, data.data(), data.size()) == static_cast<la_ssize_t>(data.size());
    archive_entry_free(e);
    if (!ok) throw std::runtime_error("make_tar: cannot write " + name);
  }
  archive_write_close(a);
  archive_write_free(a);
  out.resize(used);
  return out;
}

}  // namespace bridle::test
