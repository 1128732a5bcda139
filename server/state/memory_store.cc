#include "server/state/memory_store.h"

#include <algorithm>

namespace fivetran_gateway::state {

absl::Status InMemoryStateStore::Down() {
  return absl::UnavailableError("the state store is down");
}

InMemoryStateStore::Entry* InMemoryStateStore::Find(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.expires <= clock_()) {
    entries_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void InMemoryStateStore::Get(const std::string& key, ValueDone done) {
  absl::StatusOr<MaybeValue> result;
  {
    absl::MutexLock lock(&mu_);
    if (down_) {
      result = Down();
    } else if (Entry* e = Find(key)) {
      result = MaybeValue(e->value);
    } else {
      result = MaybeValue();
    }
  }
  done(std::move(result));
}

void InMemoryStateStore::SetIfAbsent(const std::string& key, const std::string& value,
                                     absl::Duration ttl, ValueDone done) {
  absl::StatusOr<MaybeValue> result;
  {
    absl::MutexLock lock(&mu_);
    if (down_) {
      result = Down();
    } else if (Entry* e = Find(key)) {
      result = MaybeValue(e->value);
    } else {
      entries_[key] = Entry{value, clock_() + std::max(ttl, absl::Milliseconds(1))};
      result = MaybeValue();
    }
  }
  done(std::move(result));
}

void InMemoryStateStore::Set(const std::string& key, const std::string& value, absl::Duration ttl,
                             Done done) {
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    if (down_) {
      result = Down();
    } else {
      entries_[key] = Entry{value, clock_() + std::max(ttl, absl::Milliseconds(1))};
    }
  }
  done(std::move(result));
}

void InMemoryStateStore::Delete(const std::string& key, Done done) {
  absl::Status result;
  {
    absl::MutexLock lock(&mu_);
    if (down_) {
      result = Down();
    } else {
      entries_.erase(key);
    }
  }
  done(std::move(result));
}

bool InMemoryStateStore::up() const {
  absl::MutexLock lock(&mu_);
  return !down_;
}

void InMemoryStateStore::SetDown(bool down) {
  absl::MutexLock lock(&mu_);
  down_ = down;
}

size_t InMemoryStateStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace fivetran_gateway::state
