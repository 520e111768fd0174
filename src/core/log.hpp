// Structured logging: one JSON object per line on stderr, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace confab::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

// Sets the minimum level that is written. Not synchronised with concurrent log calls: call at start-up.
void set_level(level l);
// Parses "debug" | "info" | "warn" | "error"; returns false for anything else.
bool parse_level(std::string_view s, level& out);
bool enabled(level l);
// s as a JSON string literal (quoted and escaped), for building fields.
std::string quote(std::string_view s);

// Writes {"ts":..., "level":..., "msg":..., <fields>} where fields is a (possibly empty) string of
// already-serialised JSON members such as R"("conv":12,"seq":4)".
void write(level l, std::string_view msg, std::string_view fields = {});

inline void debug(std::string_view m, std::string_view f = {}) { if (enabled(level::debug)) write(level::debug, m, f); }
inline void info(std::string_view m, std::string_view f = {}) { if (enabled(level::info)) write(level::info, m, f); }
inline void warn(std::string_view m, std::string_view f = {}) { if (enabled(level::warn)) write(level::warn, m, f); }
inline void error(std::string_view m, std::string_view f = {}) { write(level::error, m, f); }

}  // namespace confab::log
