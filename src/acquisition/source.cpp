#include "acquisition/source.hpp"

namespace bridle {

std::vector<fs::path> IosSource::files_read() const {
  std::lock_guard<std::mutex> lk(mu_);
  return {read_.begin(), read_.end()};
}

void IosSource::note_read(const fs::path& p) {
  std::lock_guard<std::mutex> lk(mu_);
  read_.insert(p);
}

}  // namespace bridle
