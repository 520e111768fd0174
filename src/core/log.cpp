#include "core/log.hpp"

#include "core/time.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace confab::log {
namespace {
std::atomic<int> min_level{static_cast<int>(level::info)};
std::mutex out_mutex;
constexpr const char* names[] = {"debug", "info", "warn", "error"};
}  // namespace

void set_level(level l) { min_level = static_cast<int>(l); }

bool parse_level(std::string_view s, level& out) {
  for (int i = 0; i < 4; ++i)
    if (s == names[i]) {
      out = static_cast<level>(i);
      return true;
    }
  return false;
}

std::string quote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

bool enabled(level l) { return static_cast<int>(l) >= min_level.load(std::memory_order_relaxed); }

void write(level l, std::string_view msg, std::string_view fields) {
  std::string line;
  line.reserve(64 + msg.size() + fields.size());
  line += "{\"ts\":";
  line += std::to_string(now_ms());
  line += ",\"level\":\"";
  line += names[static_cast<int>(l)];
  line += "\",\"msg\":";
  line += boost::json::serialize(boost::json::string(msg));
  if (!fields.empty()) {
    line += ',';
    line += fields;
  }
  line += "}\n";
  std::lock_guard lock(out_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace confab::log
