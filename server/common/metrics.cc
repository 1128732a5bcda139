#include "server/common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace fivetran_gateway::metrics {
namespace {

// Separates label values in a series key; never part of a label value the
// gateway uses (they are ASCII names).
constexpr char kSep = '\xff';

[[noreturn]] void Fatal(const std::string& message) {
  std::fprintf(stderr, "metrics: %s\n", message.c_str());
  std::abort();
}

bool ValidName(absl::string_view name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = absl::ascii_isalpha(c) || c == '_' || (colons && c == ':') ||
                    (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

const char* TypeName(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest text that reads back as the same double ("0.005", "12", "1e+21").
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return absl::StrCat(value);
  return std::string(buf, end);
}

Histogram::Histogram(std::shared_ptr<const std::vector<double>> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_->size() + 1)) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  // The first bucket whose upper bound is >= value (`le` is inclusive).
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_->begin(), bounds_->end(), value) -
                                       bounds_->begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + value, std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.cumulative.reserve(bounds_->size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const auto* bounds = new std::vector<double>{
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return *bounds;
}

FamilyBase::FamilyBase(std::string name, std::string help, Type type,
                       std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), type_(type), labels_(std::move(labels)) {
  if (!ValidName(name_, /*colons=*/true)) Fatal(absl::StrCat("bad metric name \"", name_, "\""));
  for (const std::string& label : labels_) {
    if (!ValidName(label, /*colons=*/false) || absl::StartsWith(label, "__") ||
        (type_ == Type::kHistogram && label == "le")) {
      Fatal(absl::StrCat("bad label name \"", label, "\" of ", name_));
    }
  }
}

void FamilyBase::Key(std::initializer_list<absl::string_view> values, std::string* key) const {
  if (values.size() != labels_.size()) {
    Fatal(absl::StrCat(name_, " takes ", labels_.size(), " label values, not ", values.size()));
  }
  key->clear();
  bool first = true;
  for (absl::string_view v : values) {
    if (!first) key->push_back(kSep);
    first = false;
    key->append(v.data(), v.size());
  }
}

std::string FamilyBase::LabelText(absl::string_view key, absl::string_view extra) const {
  if (labels_.empty() && extra.empty()) return "";
  std::string out = "{";
  if (!labels_.empty()) {
    std::vector<absl::string_view> values = absl::StrSplit(key, kSep);
    for (size_t i = 0; i < labels_.size(); ++i) {
      if (i > 0) out += ',';
      absl::StrAppend(&out, labels_[i], "=\"", EscapeLabelValue(i < values.size() ? values[i] : ""),
                      "\"");
    }
  }
  if (!extra.empty()) {
    if (!labels_.empty()) out += ',';
    out.append(extra.data(), extra.size());
  }
  out += '}';
  return out;
}

template <typename T>
std::shared_ptr<T> Family<T>::Make() const {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_shared<Histogram>(bounds_);
  } else {
    return std::make_shared<T>();
  }
}

template <typename T>
T* Family<T>::With(std::initializer_list<absl::string_view> values) {
  // Reused per thread: no allocation once it has grown.
  thread_local std::string key;
  Key(values, &key);
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = series_.find(key);
    if (it != series_.end() && it->second.pinned != nullptr) return it->second.pinned.get();
  }
  absl::MutexLock lock(&mu_);
  Entry& e = series_[key];
  if (e.pinned == nullptr) {
    e.pinned = e.tracked.lock();
    if (e.pinned == nullptr) e.pinned = Make();
    e.tracked = e.pinned;
  }
  return e.pinned.get();
}

template <typename T>
std::shared_ptr<T> Family<T>::Track(std::initializer_list<absl::string_view> values) {
  std::string key;
  Key(values, &key);
  absl::MutexLock lock(&mu_);
  auto it = series_.find(key);
  if (it != series_.end()) {
    if (std::shared_ptr<T> held = it->second.tracked.lock()) return held;
  } else {
    // Forget the series nobody holds any more (only Track makes such).
    for (auto s = series_.begin(); s != series_.end();) {
      s = s->second.pinned == nullptr && s->second.tracked.expired() ? series_.erase(s)
                                                                     : std::next(s);
    }
    it = series_.emplace(key, Entry{}).first;
  }
  std::shared_ptr<T> made = Make();
  it->second.tracked = made;
  return made;
}

template <typename T>
void Family<T>::WriteSeries(const std::string& key, const T& cell, std::string* out) const {
  if constexpr (std::is_same_v<T, Histogram>) {
    const Histogram::Snapshot s = cell.Read();
    const std::vector<double>& bounds = cell.bounds();
    for (size_t i = 0; i <= bounds.size(); ++i) {
      const std::string le = absl::StrCat(
          "le=\"", i < bounds.size() ? FormatValue(bounds[i]) : std::string("+Inf"), "\"");
      absl::StrAppend(out, name(), "_bucket", LabelText(key, le), " ", s.cumulative[i], "\n");
    }
    absl::StrAppend(out, name(), "_sum", LabelText(key), " ", FormatValue(s.sum), "\n");
    absl::StrAppend(out, name(), "_count", LabelText(key), " ", s.count(), "\n");
  } else {
    absl::StrAppend(out, name(), LabelText(key), " ", cell.Value(), "\n");
  }
}

template <typename T>
void Family<T>::Write(std::string* out) const {
  std::vector<std::pair<std::string, std::shared_ptr<T>>> live;
  {
    absl::ReaderMutexLock lock(&mu_);
    live.reserve(series_.size());
    for (const auto& [key, entry] : series_) {
      std::shared_ptr<T> cell = entry.pinned != nullptr ? entry.pinned : entry.tracked.lock();
      if (cell != nullptr) live.emplace_back(key, std::move(cell));
    }
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  absl::StrAppend(out, "# HELP ", name(), " ", EscapeHelp(help()), "\n");
  absl::StrAppend(out, "# TYPE ", name(), " ", TypeName(type()), "\n");
  for (const auto& [key, cell] : live) WriteSeries(key, *cell, out);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

FamilyBase* Registry::Find(const std::string& name, Type type, const std::string& help,
                           const std::vector<std::string>& labels) {
  auto it = families_.find(name);
  if (it == families_.end()) return nullptr;
  FamilyBase* f = it->second.get();
  if (f->type() != type || f->help() != help || f->labels() != labels) {
    Fatal(absl::StrCat(name, " is already registered with another type, help or labels"));
  }
  return f;
}

CounterFamily* Registry::AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  if (FamilyBase* f = Find(name, Type::kCounter, help, labels)) {
    return static_cast<CounterFamily*>(f);
  }
  auto family = std::make_unique<CounterFamily>(name, help, Type::kCounter, std::move(labels));
  CounterFamily* out = family.get();
  families_.emplace(name, std::move(family));
  return out;
}

GaugeFamily* Registry::AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> labels) {
  absl::MutexLock lock(&mu_);
  if (FamilyBase* f = Find(name, Type::kGauge, help, labels)) return static_cast<GaugeFamily*>(f);
  auto family = std::make_unique<GaugeFamily>(name, help, Type::kGauge, std::move(labels));
  GaugeFamily* out = family.get();
  families_.emplace(name, std::move(family));
  return out;
}

HistogramFamily* Registry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels,
                                        std::vector<double> bounds) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() ||
      std::isinf(bounds.back()) || std::isnan(bounds.back())) {
    Fatal(absl::StrCat(name, ": bucket bounds must be finite and strictly increasing"));
  }
  absl::MutexLock lock(&mu_);
  if (FamilyBase* f = Find(name, Type::kHistogram, help, labels)) {
    if (*static_cast<HistogramFamily*>(f)->bounds() != bounds) {
      Fatal(absl::StrCat(name, " is already registered with other bucket bounds"));
    }
    return static_cast<HistogramFamily*>(f);
  }
  auto family = std::make_unique<HistogramFamily>(
      name, help, Type::kHistogram, std::move(labels),
      std::make_shared<const std::vector<double>>(std::move(bounds)));
  HistogramFamily* out = family.get();
  families_.emplace(name, std::move(family));
  return out;
}

std::string Registry::Expose() const {
  std::string out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Write(&out);
  return out;
}

Registry& DefaultRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

}  // namespace fivetran_gateway::metrics
