#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace confab::metrics {

namespace {

bool valid_name(std::string_view n, bool colon_ok) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':') ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

const char* type_name(kind k) {
  switch (k) {
    case kind::counter: return "counter";
    case kind::gauge: return "gauge";
    case kind::histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// --------------------------------------------------------------------------- histogram

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  if (!std::is_sorted(bounds_.begin(), bounds_.end()) || std::adjacent_find(bounds_.begin(), bounds_.end()) != bounds_.end())
    throw std::invalid_argument("histogram bounds must be strictly ascending");
  for (double b : bounds_)
    if (!std::isfinite(b)) throw std::invalid_argument("histogram bounds must be finite");
  counts_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v, std::uint64_t n) noexcept {
  if (!recording_on()) return;
  // The first bound >= v (le is "less than or equal"); past the last: +Inf.
  const auto i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(n, std::memory_order_relaxed);
  sum_.fetch_add(v * static_cast<double>(n), std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> power_of_two_buckets(double max) {
  std::vector<double> b;
  for (double x = 1; x <= max; x *= 2) b.push_back(x);
  return b;
}

// --------------------------------------------------------------------------- families

family_base::family_base(std::string name, std::string help, kind k, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), kind_(k), label_names_(std::move(label_names)) {
  if (!valid_name(name_, true)) throw std::invalid_argument("bad metric name: " + name_);
  if (k == kind::counter && !ends_with(name_, "_total")) throw std::invalid_argument("a counter's name ends in _total: " + name_);
  for (const auto& l : label_names_) {
    if (!valid_name(l, false) || l.starts_with("__")) throw std::invalid_argument("bad label name: " + l);
    if (k == kind::histogram && l == "le") throw std::invalid_argument("a histogram cannot have a label le: " + name_);
  }
}

void family_base::check_arity(std::size_t n) const {
  if (n != label_names_.size())
    throw std::invalid_argument(name_ + " takes " + std::to_string(label_names_.size()) + " label values, got " +
                                std::to_string(n));
}

void family_base::header(std::string& out) const {
  out += "# HELP " + name_ + ' ' + escape_help(help_) + '\n';
  out += "# TYPE " + name_ + ' ' + type_name(kind_) + '\n';
}

void family_base::sample(std::string& out, std::string_view suffix, const std::vector<std::string>& values,
                         std::string_view extra_label, std::string_view value) const {
  out += name_;
  out += suffix;
  if (!values.empty() || !extra_label.empty()) {
    out += '{';
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) out += ',';
      out += label_names_[i] + "=\"" + escape_label_value(values[i]) + '"';
    }
    if (!extra_label.empty()) {
      if (!values.empty()) out += ',';
      out += extra_label;
    }
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

template <class T>
T& family<T>::labels(std::initializer_list<std::string_view> values) {
  check_arity(values.size());
  std::vector<std::string> key(values.begin(), values.end());
  lock_guard lock(mu_);
  auto& slot = children_[std::move(key)];
  if (!slot) {
    if constexpr (std::is_same_v<T, histogram>)
      slot = std::make_unique<histogram>(bounds_);
    else
      slot = std::make_unique<T>();
  }
  return *slot;
}

template <class T>
void family<T>::render(std::string& out) const {
  header(out);
  lock_guard lock(mu_);
  for (const auto& [values, child] : children_) {
    if constexpr (std::is_same_v<T, histogram>) {
      const auto s = child->read();
      for (std::size_t i = 0; i < bounds_.size(); ++i)
        sample(out, "_bucket", values, "le=\"" + format_value(bounds_[i]) + '"', std::to_string(s.cumulative[i]));
      sample(out, "_bucket", values, "le=\"+Inf\"", std::to_string(s.cumulative.back()));
      sample(out, "_sum", values, {}, format_value(s.sum));
      sample(out, "_count", values, {}, std::to_string(s.cumulative.back()));
    } else if constexpr (std::is_same_v<T, gauge>) {
      sample(out, {}, values, {}, format_value(child->value()));
    } else {
      sample(out, {}, values, {}, std::to_string(child->value()));
    }
  }
}

template class family<counter>;
template class family<gauge>;
template class family<histogram>;

callback_family::handle& callback_family::handle::operator=(handle&& o) noexcept {
  if (this != &o) {
    if (f_) f_->remove(id_);
    f_ = o.f_;
    id_ = o.id_;
    o.f_ = nullptr;
  }
  return *this;
}

callback_family::handle::~handle() {
  if (f_) f_->remove(id_);
}

callback_family::handle callback_family::add(std::initializer_list<std::string_view> values, source fn) {
  check_arity(values.size());
  lock_guard lock(mu_);
  const auto id = next_id_++;
  sources_.emplace(id, std::make_pair(std::vector<std::string>(values.begin(), values.end()), std::move(fn)));
  return handle(this, id);
}

void callback_family::remove(std::uint64_t id) {
  lock_guard lock(mu_);
  sources_.erase(id);
}

void callback_family::render(std::string& out) const {
  std::vector<std::pair<std::vector<std::string>, source>> copy;
  {
    lock_guard lock(mu_);
    for (const auto& [id, s] : sources_) copy.push_back(s);
  }
  // Sum per label set; label sets in ascending order.
  std::map<std::vector<std::string>, double> values;
  for (const auto& [labels, fn] : copy) values[labels] += fn();
  header(out);
  for (const auto& [labels, v] : values) sample(out, {}, labels, {}, format_value(v));
}

// --------------------------------------------------------------------------- registry

template <class F>
F& registry::add(std::unique_ptr<F> f) {
  lock_guard lock(mu_);
  for (const auto& g : families_)
    if (g->name() == f->name()) throw std::invalid_argument("metric registered twice: " + f->name());
  auto& ref = *f;
  families_.push_back(std::move(f));
  return ref;
}

family<counter>& registry::counters(std::string name, std::string help, std::vector<std::string> label_names) {
  return add(std::make_unique<family<counter>>(std::move(name), std::move(help), kind::counter, std::move(label_names)));
}

family<gauge>& registry::gauges(std::string name, std::string help, std::vector<std::string> label_names) {
  return add(std::make_unique<family<gauge>>(std::move(name), std::move(help), kind::gauge, std::move(label_names)));
}

family<histogram>& registry::histograms(std::string name, std::string help, std::vector<double> bounds,
                                        std::vector<std::string> label_names) {
  histogram check(bounds);  // validates the bounds once, at registration
  return add(std::make_unique<family<histogram>>(std::move(name), std::move(help), kind::histogram, std::move(label_names),
                                                 std::move(bounds)));
}

callback_family& registry::callbacks(std::string name, std::string help, kind k, std::vector<std::string> label_names) {
  if (k == kind::histogram) throw std::invalid_argument("a callback metric is a counter or a gauge: " + name);
  return add(std::make_unique<callback_family>(std::move(name), std::move(help), k, std::move(label_names)));
}

std::string registry::render() const {
  std::vector<const family_base*> fams;
  {
    lock_guard lock(mu_);
    for (const auto& f : families_) fams.push_back(f.get());
  }
  std::string out;
  for (const auto* f : fams) f->render(out);
  return out;
}

registry& global() {
  static registry r;
  return r;
}

std::map<std::string, double> totals(std::string_view text) {
  std::map<std::string, double> out;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    const auto name_end = line.find_first_of("{ ");
    const auto last_space = line.rfind(' ');
    if (line.empty() || line[0] == '#' || name_end == 0 || name_end == std::string_view::npos ||
        last_space == std::string_view::npos || last_space < name_end)
      continue;
    const std::string name(line.substr(0, name_end));
    if (name.ends_with("_bucket")) continue;
    const std::string value(line.substr(last_space + 1));
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || end != value.c_str() + value.size()) continue;
    out[name] += v;
  }
  return out;
}

}  // namespace confab::metrics
