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
};
BOOST_DESCRIBE_STRUCT(search_req, (), (q, conv, before, limit))

}  // namespace

void add_search_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  // A search reads much more than a page of history: it costs more of the device's rate.
  constexpr op_policy costly{.rate_cost = 5};
  t.add<search_req>("search", costly, [d](const op_context& c, const search_req& r) -> op_result {
    auto q = search::parse_query(r.q.value);
    if (!q) co_return q.error();
    auto cur = parse_cursor(r.before);
    if (!cur) co_return cur.error();
    auto page = co_await d->store.search(c.who->user_id, *q, r.conv, *cur, r.limit ? static_cast<int>(r.limit->value) : 20,
                                         d->lim.search_time_limit);
    if (!page) co_return page.error();
    json::object o = list_json("results", *page);
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
