// Members made in bulk by SQL, straight in the server's database (issue 12: a channel of 100 000
// members, most of them without a device, for which registering through the API would take the
// benchmark's whole time budget). Safe beside a running confabd: the server keeps no cache of
// members (every rule is read under the write's lock; the channel's member_count is kept by a
// trigger on members), and the users made here never connect.
#pragma once

#include <cstdint>
#include <string>

namespace confab::bench {

// Adds `count` users named <prefix><i> (password hash "x": they cannot log in) to channel conv
// as members joined at its current last seq, in one statement each. db: sqlite:PATH or
// postgres:DSN. Throws on failure. Returns the seconds it took.
double bulk_members(const std::string& db, std::int64_t conv, int count, const std::string& prefix);

}  // namespace confab::bench
