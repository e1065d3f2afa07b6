#include "ratelimit/budget_share.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <sstream>

#include "core/process_identity.hpp"

namespace twinstar {

namespace {

// One line per claim: "<pid> <start_ticks> <boot_id> <share raw> <label>".
struct Line {
  detail::ProcessIdentity who;
  Ratio share;
  std::string label;
};

class LockedFile {
 public:
  static Result<LockedFile> open(const std::filesystem::path& file) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) return make_error(ErrorCode::io_error, "cannot create {}: {}", file.parent_path().string(), ec.message());
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(ErrorCode::io_error, "cannot open {}: {}", file.string(), std::strerror(errno));
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return make_error(ErrorCode::io_error, "cannot lock {}: {}", file.string(), std::strerror(err));
    }
    return LockedFile(fd, file);
  }
  LockedFile(LockedFile&& o) noexcept : fd_(std::exchange(o.fd_, -1)), file_(std::move(o.file_)) {}
  LockedFile(const LockedFile&) = delete;
  ~LockedFile() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }

  Result<std::vector<Line>> read() const {
    std::string text;
    char buf[4096];
    if (::lseek(fd_, 0, SEEK_SET) < 0) return io_error("seek");
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("read");
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
    }
    std::vector<Line> lines;
    std::istringstream in(text);
    std::string row;
    while (std::getline(in, row)) {
      if (row.empty()) continue;
      std::istringstream fields(row);
      Line l;
      std::int64_t raw = 0;
      if (!(fields >> l.who.pid >> l.who.start_ticks >> l.who.boot_id >> raw)) continue;  // a damaged line claims nothing
      std::getline(fields >> std::ws, l.label);
      l.who.host = detail::current_process().host;
      l.share = Ratio::from_raw(raw);
      lines.push_back(std::move(l));
    }
    return lines;
  }

  Status write(const std::vector<Line>& lines) const {
    std::string text;
    for (const auto& l : lines) {
      text += fmt::format("{} {} {} {} {}\n", l.who.pid, l.who.start_ticks, l.who.boot_id, l.share.raw(), l.label);
    }
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) < 0) return io_error("truncate");
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("write");
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

 private:
  LockedFile(int fd, std::filesystem::path file) : fd_(fd), file_(std::move(file)) {}
  std::unexpected<Error> io_error(std::string_view what) const {
    return make_error(ErrorCode::io_error, "cannot {} {}: {}", what, file_.string(), std::strerror(errno));
  }
  int fd_ = -1;
  std::filesystem::path file_;
};

bool same_process(const detail::ProcessIdentity& a, const detail::ProcessIdentity& b) {
  return a.pid == b.pid && a.start_ticks == b.start_ticks && a.boot_id == b.boot_id;
}

// Claims whose holder is provably gone (or that this process makes again) are dropped.
std::vector<Line> live_others(std::vector<Line> lines) {
  const auto& me = detail::current_process();
  std::erase_if(lines, [&](const Line& l) {
    return same_process(l.who, me) || detail::process_liveness(l.who) == detail::Liveness::dead;
  });
  return lines;
}

Result<std::filesystem::path> share_file(const std::filesystem::path& dir, std::string_view preset) {
  if (preset.empty() || preset.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string_view::npos) {
    return make_error(ErrorCode::invalid_argument, "rate budget share: bad preset name '{}'", preset);
  }
  return dir / (std::string(preset) + ".shares");
}

}  // namespace

Result<BudgetShareClaim> BudgetShareClaim::claim(const std::filesystem::path& dir, std::string_view preset, Ratio share,
                                                 std::string_view label) {
  if (share.raw() <= 0 || share > Ratio::from_units(1)) {
    return make_error(ErrorCode::invalid_argument, "rate_limits share must be in (0, 1], got {}", share.to_string());
  }
  auto file = share_file(dir, preset);
  if (!file) return std::unexpected(file.error());
  auto locked = LockedFile::open(*file);
  if (!locked) return std::unexpected(locked.error());
  auto lines = locked->read();
  if (!lines) return std::unexpected(lines.error());
  auto others = live_others(std::move(*lines));
  Ratio taken;
  std::string who;
  for (const auto& l : others) {
    taken += l.share;
    who += fmt::format("{}pid {} holds {} ({})", who.empty() ? "" : ", ", l.who.pid, l.share.to_string(), l.label);
  }
  if (taken + share > Ratio::from_units(1)) {
    const Ratio left = taken >= Ratio::from_units(1) ? Ratio{} : Ratio::from_units(1) - taken;
    return make_error(ErrorCode::limit_exceeded,
                      "the {} rate budget is already shared out: {}; {} is left, this process asked for {} "
                      "(set [[rate_limits]] share in each process's config so the shares sum to at most 1)",
                      preset, who, left.to_string(), share.to_string());
  }
  std::string clean_label(label);
  std::replace(clean_label.begin(), clean_label.end(), '\n', ' ');
  others.push_back(Line{detail::current_process(), share, clean_label});
  if (auto ok = locked->write(others); !ok) return std::unexpected(ok.error());
  return BudgetShareClaim(*file, share);
}

Result<std::vector<ShareHolder>> BudgetShareClaim::holders(const std::filesystem::path& dir, std::string_view preset) {
  auto file = share_file(dir, preset);
  if (!file) return std::unexpected(file.error());
  if (!std::filesystem::exists(*file)) return std::vector<ShareHolder>{};
  auto locked = LockedFile::open(*file);
  if (!locked) return std::unexpected(locked.error());
  auto lines = locked->read();
  if (!lines) return std::unexpected(lines.error());
  std::vector<ShareHolder> out;
  for (const auto& l : *lines) {
    if (detail::process_liveness(l.who) == detail::Liveness::dead) continue;
    out.push_back(ShareHolder{l.who.pid, l.share, l.label});
  }
  return out;
}

BudgetShareClaim::BudgetShareClaim(BudgetShareClaim&& other) noexcept
    : file_(std::exchange(other.file_, {})), share_(other.share_) {}

BudgetShareClaim& BudgetShareClaim::operator=(BudgetShareClaim&& other) noexcept {
  if (this != &other) {
    release();
    file_ = std::exchange(other.file_, {});
    share_ = other.share_;
  }
  return *this;
}

BudgetShareClaim::~BudgetShareClaim() { release(); }

void BudgetShareClaim::release() {
  if (file_.empty()) return;
  const auto file = std::exchange(file_, {});
  auto locked = LockedFile::open(file);
  if (!locked) return;
  auto lines = locked->read();
  if (!lines) return;
  (void)locked->write(live_others(std::move(*lines)));
}

}  // namespace twinstar
