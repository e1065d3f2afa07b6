#pragma once
// A few HttpClients to one origin, lent to one caller at a time: requests from several threads
// (orders for different symbols) go out on separate keep-alive connections instead of queueing
// behind one. The most recently returned client is lent first, so a caller that never overlaps
// with another keeps using one warm connection and the others stay unopened.

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "net/http_client.hpp"

namespace twinstar::net {

class HttpClientPool {
 public:
  // Errors: invalid_argument for a bad URL or size 0.
  static Result<std::unique_ptr<HttpClientPool>> create(std::string_view base_url, HttpClientOptions options,
                                                        std::size_t size);

  // A borrowed client; returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(HttpClientPool& pool, HttpClient* client) : pool_(&pool), client_(client) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), client_(other.client_) { other.client_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (client_ != nullptr) pool_->give_back(client_);
    }
    HttpClient* operator->() const noexcept { return client_; }
    HttpClient& operator*() const noexcept { return *client_; }

   private:
    HttpClientPool* pool_;
    HttpClient* client_;
  };

  // Waits until a client is free (at most `size` callers hold one at a time).
  Lease acquire();

  std::size_t size() const noexcept { return clients_.size(); }
  std::uint64_t connections_opened() const noexcept;

 private:
  HttpClientPool() = default;
  void give_back(HttpClient* client);

  std::vector<std::unique_ptr<HttpClient>> clients_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<HttpClient*> free_;  // guarded by mutex_; back() is the most recently returned
};

}  // namespace twinstar::net
