#include "net/http_client_pool.hpp"

namespace twinstar::net {

Result<std::unique_ptr<HttpClientPool>> HttpClientPool::create(std::string_view base_url, HttpClientOptions options,
                                                               std::size_t size) {
  if (size == 0) return make_error(ErrorCode::invalid_argument, "an HTTP client pool needs at least one connection");
  std::unique_ptr<HttpClientPool> pool(new HttpClientPool());
  for (std::size_t i = 0; i < size; ++i) {
    auto client = HttpClient::create(base_url, options);  // connects on first use
    if (!client) return std::unexpected(client.error());
    pool->clients_.push_back(std::move(*client));
  }
  // Reversed so that the first client is lent first.
  for (auto it = pool->clients_.rbegin(); it != pool->clients_.rend(); ++it) pool->free_.push_back(it->get());
  return pool;
}

HttpClientPool::Lease HttpClientPool::acquire() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [&] { return !free_.empty(); });
  HttpClient* client = free_.back();
  free_.pop_back();
  return Lease(*this, client);
}

void HttpClientPool::give_back(HttpClient* client) {
  {
    std::lock_guard lock(mutex_);
    free_.push_back(client);
  }
  freed_.notify_one();
}

std::uint64_t HttpClientPool::connections_opened() const noexcept {
  std::uint64_t n = 0;
  for (const auto& c : clients_) n += c->connections_opened();
  return n;
}

}  // namespace twinstar::net
