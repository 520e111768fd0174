// The @mention tokenizer: which usernames a message's text names, and whether it says @all or
// @here. Pure (no I/O, no state), thread-safe; it reads untrusted text of any bytes, allocates at
// most O(text) and never fails (tests/fuzz/mentions_fuzz.cpp). The grammar is in docs/protocol.md
// ("Mentions"):
//   - a token is '@' followed by a run of username characters (A-Z a-z 0-9 _ . -), taken whole;
//   - the '@' must start the text or follow a byte that is not a username character and not '@'
//     (so "ana@example.com" and "@@bob" mention nobody);
//   - '.' characters at the end of the run are not part of it ("@bob." names bob);
//   - "all" and "here" (exactly, lower case) are the wildcards; any other run of 1 to 32
//     characters is a username; longer runs are not mentions.
// Which usernames exist and are members is storage's question (resolved under the conversation's
// lock at send time).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace confab::chat {

// The most distinct usernames one message may mention (more: the send gets invalid_field).
inline constexpr std::size_t max_mentioned_names = 50;

struct mention_tokens {
  std::vector<std::string> names;  // distinct, ascending (byte order)
  bool all = false;                // @all
  bool here = false;               // @here
};

mention_tokens parse_mentions(std::string_view text);

}  // namespace confab::chat
