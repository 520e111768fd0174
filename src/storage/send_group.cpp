#include "storage/send_group.hpp"

#include "storage/store_detail.hpp"

namespace confab::storage {
namespace {

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

bool send_group::run(connection& c, std::span<item* const> items) {
  // A string PostgreSQL cannot hold would fail the whole group's statement there: refuse that
  // send alone, on both backends (the API refuses it before; this keeps others' sends safe).
  std::vector<item*> ok;
  ok.reserve(items.size());
  for (auto* it : items) {
    const auto& rq = it->req.req;
    if (has_nul(rq.text) || has_nul(rq.client_id) || has_nul(rq.content_type))
      it->res.emplace(make_error(errc::invalid_field, "a send's strings must not contain NUL characters"));
    else
      ok.push_back(it);
  }
  const auto* s = c.strategy();
  if (!s) {
    for (auto* it : ok) it->res.emplace(make_error(errc::internal, "storage connection without a store strategy"));
    return false;
  }
  return s->run_sends(c, ok);
}

}  // namespace confab::storage
