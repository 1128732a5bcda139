#include "server/idempotency.h"

#include <openssl/evp.h>

#include <utility>
#include <vector>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/common/status.h"

namespace fivetran_gateway {

std::string RequestFingerprint(const google::protobuf::Message& request) {
  std::string bytes = request.GetDescriptor()->full_name();
  bytes.push_back('\0');
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    // Never expected; the serialization itself still tells requests apart.
    return bytes;
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

IdempotencyCache::IdempotencyCache(IdempotencyOptions options, std::function<absl::Time()> clock)
    : options_(options), clock_(std::move(clock)) {}

std::string IdempotencyCache::MapKey(const Key& key) {
  std::string k = key.method;
  k.push_back('\0');
  k += key.request_id;
  return k;
}

bool IdempotencyCache::IsFinal(const Result& result) {
  if (result.status.ok()) return true;
  if (ErrorMetadataOf(result.status, "outcome") == "not_sent") return false;
  const int http = result.upstream.http_status;
  if (http >= 400 && http <= 499) return false;
  return true;
}

void IdempotencyCache::Purge(absl::Time now) {
  while (!finished_.empty()) {
    auto it = entries_.find(finished_.front());
    bool drop =
        it == entries_.end() || it->second.expires <= now || entries_.size() > options_.max_entries;
    if (!drop) break;
    if (it != entries_.end()) entries_.erase(it);
    finished_.pop_front();
  }
}

IdempotencyCache::Ticket IdempotencyCache::Join(const Key& key, absl::string_view fingerprint,
                                                Waiter waiter) {
  Ticket ticket;
  absl::MutexLock lock(&mu_);
  Purge(clock_());
  std::string k = MapKey(key);
  auto it = entries_.find(k);
  if (it == entries_.end()) {
    // Room for one more: drop the oldest finished entries beyond the bound.
    while (entries_.size() >= options_.max_entries && !finished_.empty()) {
      entries_.erase(finished_.front());
      finished_.pop_front();
    }
    Entry& entry = entries_[k];
    entry.fingerprint = std::string(fingerprint);
    ticket.verdict = Verdict::kStart;
    ticket.waiter_id = next_waiter_++;
    entry.waiters.emplace(ticket.waiter_id, std::move(waiter));
    return ticket;
  }
  Entry& entry = it->second;
  if (entry.fingerprint != fingerprint) {
    ticket.verdict = Verdict::kMismatch;
  } else if (entry.done) {
    ticket.verdict = Verdict::kReplay;
    ticket.replay = entry.result;
  } else {
    ticket.verdict = Verdict::kWait;
    ticket.waiter_id = next_waiter_++;
    entry.waiters.emplace(ticket.waiter_id, std::move(waiter));
  }
  return ticket;
}

void IdempotencyCache::Finish(const Key& key, Result result, std::optional<bool> keep) {
  std::vector<Waiter> waiters;
  {
    absl::MutexLock lock(&mu_);
    std::string k = MapKey(key);
    auto it = entries_.find(k);
    if (it == entries_.end() || it->second.done) return;
    Entry& entry = it->second;
    for (auto& [id, w] : entry.waiters) waiters.push_back(std::move(w));
    entry.waiters.clear();
    if (keep.value_or(IsFinal(result))) {
      entry.done = true;
      entry.result = result;
      entry.expires = clock_() + options_.window;
      finished_.push_back(k);
      Purge(clock_());
    } else {
      entries_.erase(it);
    }
  }
  for (Waiter& w : waiters) w(result);
}

bool IdempotencyCache::Leave(const Key& key, uint64_t waiter_id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(MapKey(key));
  if (it == entries_.end()) return false;
  return it->second.waiters.erase(waiter_id) > 0;
}

bool IdempotencyCache::HasWaiters(const Key& key) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(MapKey(key));
  return it != entries_.end() && !it->second.done && !it->second.waiters.empty();
}

size_t IdempotencyCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace fivetran_gateway
