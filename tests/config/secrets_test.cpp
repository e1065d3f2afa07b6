#include "config/secrets.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace twinstar {
namespace {

constexpr const char* kSecretValue = "s3cr3t-VALUE-that-must-never-print";

const char* fake_env(const char* name) {
  if (std::string_view(name) == "K") return "APIKEY123456";
  if (std::string_view(name) == "S") return kSecretValue;
  return nullptr;
}

std::filesystem::path write_key_file(const std::string& body, mode_t mode) {
  auto dir = std::filesystem::temp_directory_path() / ("twinstar-secrets-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "keys.toml";
  std::filesystem::remove(path);
  { std::ofstream(path) << body; }
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(Secrets, reads_keys_from_the_environment) {
  AccountConfig a;
  a.api_key_env = "K";
  a.api_secret_env = "S";
  auto c = load_credentials(a, fake_env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->api_key, "APIKEY123456");
  EXPECT_EQ(c->api_secret.reveal(), kSecretValue);
  EXPECT_EQ(c->redacted_key(), "APIK***");
}

TEST(Secrets, never_print_their_value) {
  Secret s(kSecretValue);
  EXPECT_EQ(fmt::format("{}", s), "***");
  EXPECT_EQ(fmt::format("secret={}", s).find(kSecretValue), std::string::npos);
}

TEST(Secrets, missing_variable_names_the_variable_not_a_value) {
  AccountConfig a;
  a.name = "main";
  a.api_key_env = "K";
  a.api_secret_env = "MISSING";
  auto c = load_credentials(a, fake_env);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "account main: environment variable MISSING (api_secret_env) is not set");
}

TEST(Secrets, key_file_must_be_owner_only) {
  AccountConfig a;
  a.name = "main";
  a.key_file = write_key_file(fmt::format("api_key = \"AK\"\napi_secret = \"{}\"\n", kSecretValue), 0644);
  auto c = load_credentials(a);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("has mode 644"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("chmod 600"), std::string::npos);
  EXPECT_EQ(c.error().message.find(kSecretValue), std::string::npos);

  ::chmod(a.key_file.c_str(), 0600);
  auto ok = load_credentials(a);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->api_secret.reveal(), kSecretValue);
}

TEST(Secrets, malformed_key_file_error_does_not_quote_the_file) {
  AccountConfig a;
  a.name = "main";
  a.key_file = write_key_file(fmt::format("api_key = \"AK\"\napi_secret = {}\n", kSecretValue), 0600);
  auto c = load_credentials(a);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("keys.toml:2 is not valid TOML"), std::string::npos) << c.error().message;
  EXPECT_EQ(c.error().message.find(kSecretValue), std::string::npos);
  EXPECT_EQ(c.error().message.find("s3cr3t"), std::string::npos);
}

TEST(Secrets, no_credentials_configured_is_an_error) {
  AccountConfig a;
  a.name = "x";
  EXPECT_FALSE(load_credentials(a));
}

}  // namespace
}  // namespace twinstar
