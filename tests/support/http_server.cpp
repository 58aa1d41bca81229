#include "support/http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bridle::test {
namespace {

constexpr std::size_t kMaxRequest = 16 * 1024;

bool send_all(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::string status_response(int code, const std::string& reason) {
  std::string body = std::to_string(code) + " " + reason + "\n";
  return "HTTP/1.1 " + std::to_string(code) + " " + reason + "\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

HttpServer::HttpServer(std::filesystem::path root) : root_(std::move(root)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 16) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { loop(); });
}

HttpServer::~HttpServer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::string HttpServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpServer::set_raw(const std::string& path, std::string raw_response, int stall_ms) {
  std::lock_guard<std::mutex> g(mu_);
  raw_[path] = Raw{std::move(raw_response), stall_ms};
}

void HttpServer::clear_raw(const std::string& path) {
  std::lock_guard<std::mutex> g(mu_);
  raw_.erase(path);
}

std::vector<std::string> HttpServer::requests() const {
  std::lock_guard<std::mutex> g(mu_);
  return requests_;
}

void HttpServer::loop() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 50);
    if (r <= 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    handle(fd);
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
  }
}

void HttpServer::handle(int fd) {
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos) {
    if (req.size() > kMaxRequest) {
      send_all(fd, status_response(431, "Request Header Fields Too Large"));
      return;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    req.append(buf, static_cast<std::size_t>(n));
  }
  std::istringstream line(req.substr(0, req.find("\r\n")));
  std::string method, target, version;
  line >> method >> target >> version;
  if (auto q = target.find_first_of("?#"); q != std::string::npos) target.resize(q);
  {
    std::lock_guard<std::mutex> g(mu_);
    requests_.push_back(target);
  }
  if (method != "GET" && method != "HEAD") {
    send_all(fd, status_response(405, "Method Not Allowed"));
    return;
  }
  Raw raw;
  bool have_raw = false;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (auto it = raw_.find(target); it != raw_.end()) {
      raw = it->second;
      have_raw = true;
    }
  }
  if (have_raw) {
    send_all(fd, raw.bytes);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(raw.stall_ms);
    while (!stop_.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return;
  }
  if (target.empty() || target[0] != '/' || target.find("..") != std::string::npos || root_.empty()) {
    send_all(fd, status_response(404, "Not Found"));
    return;
  }
  std::filesystem::path file = root_ / target.substr(1);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    send_all(fd, status_response(404, "Not Found"));
    return;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  const std::string data = body.str();
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
                     std::to_string(data.size()) + "\r\nConnection: close\r\n\r\n";
  send_all(fd, method == "HEAD" ? head : head + data);
}

}  // namespace bridle::test
