#include "cli/secrets.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <iostream>

namespace bridle::cli {

std::optional<std::string> prompt_password(const std::string& prompt) {
  if (!isatty(0)) return std::nullopt;
  std::cerr << prompt << std::flush;
  termios old{};
  bool restore = tcgetattr(0, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(0, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (restore) tcsetattr(0, TCSANOW, &old);
  std::cerr << "\n";
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void scrub_secret_args(int argc, char** argv) {
  static const char* opts[] = {"-p", "--password", "--backup-password"};
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    for (const char* o : opts) {
      std::size_t n = std::strlen(o);
      if (std::strcmp(a, o) == 0 && i + 1 < argc) {
        std::memset(argv[i + 1], '*', std::strlen(argv[i + 1]));
      } else if (std::strncmp(a, o, n) == 0 && a[n] == '=') {
        std::memset(a + n + 1, '*', std::strlen(a + n + 1));
      } else if (n == 2 && std::strncmp(a, o, 2) == 0 && a[2] != '\0' && a[1] != '-') {
        std::memset(a + 2, '*', std::strlen(a + 2));  // -pSECRET
      }
    }
  }
}

}  // namespace bridle::cli
