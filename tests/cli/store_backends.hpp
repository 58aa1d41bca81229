// The store URL a CLI test runs against, per backend: "sqlite" (a file in the test's scratch
// folder) or "postgresql" (a private schema, dropped and created here, on the throw-away server
// that scripts/with-postgres.sh starts and names in BRIDLE_TEST_PG_URL). Empty when the test
// must skip because that variable is not set.
#pragma once
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "engine/store/store.hpp"

namespace bridle::test {

inline constexpr const char* kNoPgReason =
    "skipped: BRIDLE_TEST_PG_URL is not set (scripts/with-postgres.sh starts a private PostgreSQL server)";

inline std::string test_store_url(const std::string& backend, const std::filesystem::path& dir) {
  if (backend == "sqlite") return (dir / "store.sqlite").string();
  const char* url = std::getenv("BRIDLE_TEST_PG_URL");
  if (!url || !*url) return "";
  static std::atomic<int> n{0};
  std::string schema = "bridle_cli" + std::to_string(getpid()) + "_" + std::to_string(n++);
  store::open_postgres(url)->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
  std::string u = url;
  return u + (u.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
}

}  // namespace bridle::test
