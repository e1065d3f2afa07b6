#include "config/secrets.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace twinstar {

Secret::~Secret() {
  // volatile writes so the compiler cannot drop the wipe of memory about to be freed.
  volatile char* p = value_.data();
  for (std::size_t i = 0; i < value_.size(); ++i) p[i] = 0;
}

std::string Credentials::redacted_key() const {
  if (api_key.size() <= 4) return "***";
  return api_key.substr(0, 4) + "***";
}

namespace {

Result<Credentials> from_env(const AccountConfig& a, EnvLookup env) {
  Credentials c;
  const char* key = env(a.api_key_env.c_str());
  if (key == nullptr || *key == '\0') {
    return make_error(ErrorCode::config_error, "account {}: environment variable {} (api_key_env) is not set", a.name,
                      a.api_key_env);
  }
  c.api_key = key;
  if (a.api_secret_env.empty()) {
    return make_error(ErrorCode::config_error, "account {}: api_secret_env is required with api_key_env", a.name);
  }
  const char* secret = env(a.api_secret_env.c_str());
  if (secret == nullptr || *secret == '\0') {
    return make_error(ErrorCode::config_error, "account {}: environment variable {} (api_secret_env) is not set", a.name,
                      a.api_secret_env);
  }
  c.api_secret = Secret(secret);
  return c;
}

Result<Credentials> from_file(const AccountConfig& a) {
  const std::string& path = a.key_file;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return make_error(ErrorCode::config_error, "account {}: key file {}: {}", a.name, path, std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::config_error, "account {}: key file {} is not a regular file", a.name, path);
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::config_error,
                      "account {}: key file {} has mode {:03o}; it must be readable by its owner only (chmod 600 {})",
                      a.name, path, st.st_mode & 0777, path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::config_error, "account {}: cannot read key file {}", a.name, path);
  std::ostringstream text;
  text << in.rdbuf();
  toml::table t;
  try {
    t = toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    // The parser's description may quote the file's text, which is secret: give the line only.
    return make_error(ErrorCode::config_error, "account {}: key file {}:{} is not valid TOML (expected api_key = \"...\", api_secret = \"...\")",
                      a.name, path, e.source().begin.line);
  }
  Credentials c;
  auto key = t["api_key"].value<std::string>();
  auto secret = t["api_secret"].value<std::string>();
  if (!key || key->empty()) return make_error(ErrorCode::config_error, "account {}: key file {} has no api_key string", a.name, path);
  if (!secret || secret->empty()) {
    return make_error(ErrorCode::config_error, "account {}: key file {} has no api_secret string", a.name, path);
  }
  for (const auto& [k, v] : t) {
    if (k.str() != "api_key" && k.str() != "api_secret" && k.str() != "passphrase") {
      return make_error(ErrorCode::config_error, "account {}: key file {}:{}: unknown key {} (known: api_key, api_secret, passphrase)",
                        a.name, path, v.source().begin.line, k.str());
    }
  }
  c.api_key = *key;
  c.api_secret = Secret(*secret);
  if (auto pass = t["passphrase"].value<std::string>()) c.passphrase = Secret(*pass);
  return c;
}

}  // namespace

Result<Credentials> load_credentials(const AccountConfig& account, EnvLookup env) {
  if (env == nullptr) env = [](const char* name) -> const char* { return std::getenv(name); };
  if (!account.key_file.empty()) return from_file(account);
  if (!account.api_key_env.empty()) return from_env(account, env);
  return make_error(ErrorCode::config_error, "account {}: no credentials configured (set api_key_env and api_secret_env, or key_file)",
                    account.name);
}

}  // namespace twinstar
