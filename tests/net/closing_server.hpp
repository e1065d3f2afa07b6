#pragma once
// A raw-socket HTTP/1.1 server on 127.0.0.1 for tests of keep-alive edge cases that a
// well-behaved server never produces: after every `answers_per_connection` answers it ends
// the connection, one of two ways (or alternating per connection) —
//   - silent close: the last answer says keep-alive, then the socket is closed (an idle
//     reaper or a keep-alive limit racing the client);
//   - read then close: the next request is read and counted, then the socket is closed
//     without an answer (the request reached the server; the client cannot know).
// Every request read is counted, so a test can compare requests seen with limiter grants.
// POSIX sockets only: independent of the engine's Beast code under test.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace twinstar::testing {

class ClosingServer {
 public:
  enum class Close { silently, after_reading_next, alternate };
  // `answer(target)` gives the body of a 200 answer to "GET target"; called on connection threads.
  ClosingServer(int answers_per_connection, Close how, std::function<std::string(const std::string&)> answer)
      : per_connection_(answers_per_connection), how_(how), answer_(std::move(answer)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~ClosingServer() {
    stopping_ = true;
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : connections_) t.join();
    ::close(listen_fd_);
  }
  ClosingServer(const ClosingServer&) = delete;
  ClosingServer& operator=(const ClosingServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint64_t requests_seen() const { return seen_.load(); }           // every request read
  std::uint64_t unanswered() const { return unanswered_.load(); }        // read, then closed
  std::uint64_t silent_closes() const { return silent_closes_.load(); }  // answered keep-alive, then closed
  std::uint64_t connections() const { return accepted_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      const auto n = accepted_++;
      std::lock_guard lock(mutex_);
      const bool silent = how_ == Close::silently || (how_ == Close::alternate && n % 2 == 0);
      connections_.emplace_back([this, fd, silent] { serve(fd, silent); });
    }
  }

  // One request's head ("GET /x HTTP/1.1 ... \r\n\r\n"; GETs carry no body). False on EOF/stop.
  bool read_request(int fd, std::string& buffer, std::string& target) {
    for (;;) {
      if (const auto end = buffer.find("\r\n\r\n"); end != std::string::npos) {
        const auto sp1 = buffer.find(' ');
        const auto sp2 = buffer.find(' ', sp1 + 1);
        target = buffer.substr(sp1 + 1, sp2 - sp1 - 1);
        buffer.erase(0, end + 4);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      if (stopping_) return false;
      if (::poll(&p, 1, 20) <= 0) continue;
      char chunk[4096];
      const auto got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
  }

  void serve(int fd, bool silent_close) {
    std::string buffer, target;
    for (int answered = 0;; ++answered) {
      if (!read_request(fd, buffer, target)) break;
      ++seen_;
      if (answered >= per_connection_) {  // read, then closed without an answer
        ++unanswered_;
        if (!silent_close) break;
        continue;  // after a silent close, anything the client still sent is read and counted
      }
      const std::string body = answer_(target);
      const std::string all = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      if (::send(fd, all.data(), all.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(all.size())) break;
      if (silent_close && answered + 1 == per_connection_) {
        // FIN now, but keep reading until the client hangs up, so a request racing the FIN is
        // still seen (and counted) rather than lost in a reset.
        ::shutdown(fd, SHUT_WR);
        ++silent_closes_;
      }
    }
    ::close(fd);
  }

  int per_connection_;
  Close how_;
  std::function<std::string(const std::string&)> answer_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::atomic<std::uint64_t> seen_{0}, unanswered_{0}, silent_closes_{0}, accepted_{0};
  std::mutex mutex_;
  std::vector<std::thread> connections_;  // guarded by mutex_
};

}  // namespace twinstar::testing
