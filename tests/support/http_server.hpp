// A minimal HTTP/1.1 static file server on 127.0.0.1 (free port) for tests only: one thread,
// one request per connection (Connection: close), bounded request size and timeouts. GET and
// HEAD only. Paths with ".." are refused. Responses can be overridden per path with raw bytes
// (to simulate broken servers).
#pragma once
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bridle::test {

class HttpServer {
 public:
  // Serves the files under root (which may be empty: then only overrides answer).
  explicit HttpServer(std::filesystem::path root);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:PORT"

  // The exact bytes sent for a request of `path` (query ignored); the connection is then
  // closed. With stall_ms > 0 the connection is held open that long (or until the server
  // stops) after the bytes were sent.
  void set_raw(const std::string& path, std::string raw_response, int stall_ms = 0);
  void clear_raw(const std::string& path);
  // Paths requested so far, in order.
  std::vector<std::string> requests() const;

 private:
  struct Raw {
    std::string bytes;
    int stall_ms = 0;
  };
  void loop();
  void handle(int fd);

  std::filesystem::path root_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, Raw> raw_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace bridle::test
