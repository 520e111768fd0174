// libFuzzer target for the relay decoder (protocol/relay.hpp): payloads come from the broker, which
// any process that reaches Redis can write to. Every input must decode or fail with a typed error;
// what decodes must encode back to bytes that decode to the same note.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g. (libFuzzer writes new inputs to the
// first folder, so give it a scratch one before the seed corpus):
//   mkdir -p /tmp/relay-corpus
//   build/clang/tests/fuzz/relay_fuzz -max_total_time=60 /tmp/relay-corpus tests/fuzz/corpus/relay
#include "protocol/relay.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace confab::protocol::relay;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = decode(in);
  if (!r) {
    if (r.error().code == confab::errc::ok) std::abort();  // an error must say what kind
    return 0;
  }
  auto again = decode(encode(*r));
  if (!again || !(*again == *r)) std::abort();
  (void)sender_of(in);
  return 0;
}
