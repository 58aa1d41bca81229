// The shutdown.log parser of the ShutdownLog module, exposed for tests and fuzzing.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bridle {

struct ShutdownLogParse {
  struct Client {
    std::string pid, client;
    double delay = 0.0;     // seconds waited so far in this shutdown when the line was written
    int times_delayed = 0;  // "After N s, these clients are still here" lines so far
  };
  struct Shutdown {
    std::string isodate;  // of its SIGTERM line ("" when the line has no usable time)
    std::vector<Client> clients;
    double delay = 0.0;
    int times_delayed = 0;
  };
  std::vector<Shutdown> shutdowns;   // in file order
  std::size_t trailing_clients = 0;  // client lines after the last SIGTERM line
};

// Parses the text of shutdown.log (any bytes: lines are split on '\n', nothing is assumed).
ShutdownLogParse parse_shutdown_log(std::string_view text);

}  // namespace bridle
