// Search (issue 13): the search operation. The query language is search/query.hpp; the index is
// storage's (store_search.cpp), kept from the event feed by confabd's "search" consumer.
#include "chat/pages.hpp"
#include "chat/service.hpp"
#include "search/highlight.hpp"

#include <boost/json/array.hpp>

namespace confab::chat {
namespace json = boost::json;
using protocol::bytes;
using protocol::int_range;

namespace {

struct search_req {
  bytes<1, search::max_query_bytes> q;
  std::optional<std::int64_t> conv;  // only this conversation
  std::optional<bytes<1, 64>> before;
  std::optional<int_range<1, 100>> limit;
  std::optional<bytes<1, 16>> sort;  // "newest" (the default) or "relevance"
};
BOOST_DESCRIBE_STRUCT(search_req, (), (q, conv, before, limit, sort))

// A relevance page's cursor: "r" and how many results come before it.
result<int> parse_offset(const std::optional<bytes<1, 64>>& before) {
  if (!before) return 0;
  const std::string& s = before->value;
  int n = -1;
  if (s.size() >= 2 && s.size() <= 5 && s[0] == 'r' && s.find_first_not_of("0123456789", 1) == std::string::npos) n = std::stoi(s.substr(1));
  if (n < 0 || n > storage::search_order::max_relevance_offset)
    return make_error(errc::invalid_field, "before: not a cursor of a relevance-sorted search");
  return n;
}

}  // namespace

void add_search_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  // A search reads much more than a page of history: it costs more of the device's rate.
  constexpr op_policy costly{.rate_cost = 5};
  t.add<search_req>("search", costly, [d](const op_context& c, const search_req& r) -> op_result {
    auto q = search::parse_query(r.q.value);
    if (!q) co_return q.error();
    const std::string sort = r.sort ? r.sort->value : "newest";
    if (sort != "newest" && sort != "relevance") co_return make_error(errc::invalid_field, "sort: newest or relevance");
    storage::search_order order{sort == "relevance", 0};
    std::optional<storage::keyset_cursor> before;
    if (order.relevance) {
      auto off = parse_offset(r.before);
      if (!off) co_return off.error();
      order.offset = *off;
    } else {
      auto cur = parse_cursor(r.before);
      if (!cur) co_return cur.error();
      before = *cur;
    }
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 20;
    auto page = co_await d->store.search(c.who->user_id, *q, r.conv, before, limit, d->lim.search_time_limit, order);
    if (!page) co_return page.error();
    json::object o = list_json("results", *page);
    if (order.relevance) {
      const int next = order.offset + limit;
      o["next"] = page->next && next <= storage::search_order::max_relevance_offset ? json::value("r" + std::to_string(next))
                                                                                     : json::value(nullptr);
    }
    auto& results = o["results"].as_array();
    for (std::size_t i = 0; i < results.size(); ++i) {
      json::array ranges;
      for (auto [b, e] : search::highlights(page->events[i].text, *q)) ranges.push_back(json::array{b, e});
      results[i].as_object()["highlights"] = std::move(ranges);
    }
    co_return o;
  });
}

}  // namespace confab::chat
