#include "server/fivetran/cached_api.h"

#include <map>
#include <utility>
#include <variant>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace fivetran_gateway::fivetran {
namespace {

// Keys: a kind, then the arguments, each length-prefixed so that no two
// argument lists share a key. The listings of one group share a prefix.
std::string Field(absl::string_view s) { return absl::StrCat(s.size(), ":", s, "\n"); }
std::string PageKey(const PageRequest& page) {
  return absl::StrCat(page.limit, "\n", Field(page.cursor));
}
std::string ConnectionKey(const std::string& connection_id) {
  return absl::StrCat("c\n", Field(connection_id));
}
std::string GroupsKey(const PageRequest& page) { return absl::StrCat("g\n", PageKey(page)); }
constexpr absl::string_view kAllListings = "l\n";
std::string ListingPrefix(const std::string& group_id) {
  return absl::StrCat(kAllListings, Field(group_id));
}
std::string ListingKey(const std::string& group_id, const std::string& schema,
                       const PageRequest& page) {
  return absl::StrCat(ListingPrefix(group_id), Field(schema), PageKey(page));
}
std::string UsersKey(std::optional<bool> active, const PageRequest& page) {
  return absl::StrCat("u\n", active.has_value() ? (*active ? "t" : "f") : "-", "\n", PageKey(page));
}

// What an entry costs beyond its protobuf encoding (map nodes, key, ...).
constexpr size_t kEntryOverhead = 256;

size_t SizeOf(const SerializedConnection& c) { return c.ByteSizeLong(); }
template <typename T>
size_t SizeOf(const Page<T>& page) {
  size_t n = page.next_cursor.size();
  for (const T& item : page.items) n += item.ByteSizeLong();
  return n;
}

}  // namespace

class CachingFivetranApi::Store {
 public:
  using Value = std::variant<
      std::shared_ptr<const SerializedConnection>, std::shared_ptr<const Page<v1::Group>>,
      std::shared_ptr<const Page<SerializedConnection>>, std::shared_ptr<const Page<v1::User>>>;
  struct Hit {
    Value value;
    absl::Duration age;
    UpstreamInfo upstream;
  };

  Store(Timers* timers, ReadCacheOptions options) : timers_(timers), options_(options) {}

  // The live entry of `key`; an expired one is dropped.
  std::optional<Hit> Find(const std::string& key) {
    const absl::Time now = timers_->Now();
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && now - it->second.read_at >= options_.ttl) {
      EraseLocked(it);
      it = entries_.end();
    }
    if (it == entries_.end()) return std::nullopt;
    ++hits_;
    return Hit{it->second.value, now - it->second.read_at, it->second.upstream};
  }

  // A read is sent: its answer may be stored only if nothing is dropped
  // meanwhile (same epoch).
  uint64_t BeginMiss() {
    absl::MutexLock lock(&mu_);
    ++misses_;
    return epoch_;
  }

  void Put(const std::string& key, uint64_t epoch, absl::Time sent_at, Value value, size_t size,
           const UpstreamInfo& upstream) {
    const absl::Time now = timers_->Now();
    size += key.size() + kEntryOverhead;
    absl::MutexLock lock(&mu_);
    if (epoch != epoch_ || now - sent_at >= options_.ttl) return;
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      if (it->second.read_at > sent_at) return;  // A later read already answered.
      EraseLocked(it);
    }
    if (size > options_.max_bytes) return;
    Entry& entry = entries_[key];
    entry.value = std::move(value);
    entry.read_at = sent_at;
    entry.upstream.http_status = upstream.http_status;
    entry.upstream.http_version = upstream.http_version;
    entry.size = size;
    entry.seq = ++seq_;
    by_age_[entry.seq] = key;
    bytes_ += size;
    // Make room, oldest first; expired entries at the old end go too.
    while (!by_age_.empty()) {
      auto oldest = entries_.find(by_age_.begin()->second);
      const bool over = entries_.size() > options_.max_entries || bytes_ > options_.max_bytes;
      if (!over && now - oldest->second.read_at < options_.ttl) break;
      EraseLocked(oldest);
    }
  }

  // The resource is gone (NOT_FOUND).
  void Drop(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) EraseLocked(it);
  }

  // A sync was triggered for the connection: its entry, and the listings of
  // its group (all listings when the group is unknown).
  void ConnectionChanged(const std::string& connection_id) {
    absl::MutexLock lock(&mu_);
    ++epoch_;
    std::string prefix(kAllListings);
    auto it = entries_.find(ConnectionKey(connection_id));
    if (it != entries_.end()) {
      // Parsed here, on a change, so that reads keep the bytes as they came;
      // bytes that do not parse (not expected) leave every listing to drop.
      const auto* c = std::get_if<std::shared_ptr<const SerializedConnection>>(&it->second.value);
      v1::Connection connection;
      if (c != nullptr && SerializedConnection::ParseInto((*c)->bytes, &connection) &&
          !connection.group_id().empty()) {
        prefix = ListingPrefix(connection.group_id());
      }
      EraseLocked(it);
    }
    ErasePrefixLocked(prefix);
  }

  // A connection was (or may have been) created in `group_id`; nullopt =
  // unknown group: every listing.
  void GroupChanged(const std::optional<std::string>& group_id) {
    absl::MutexLock lock(&mu_);
    ++epoch_;
    ErasePrefixLocked(group_id.has_value() ? ListingPrefix(*group_id) : std::string(kAllListings));
  }

  ReadCacheStats Stats() const {
    absl::MutexLock lock(&mu_);
    ReadCacheStats s;
    s.hits = hits_;
    s.misses = misses_;
    s.entries = entries_.size();
    s.bytes = bytes_;
    return s;
  }

 private:
  struct Entry {
    Value value;
    absl::Time read_at;  // When the request that read it was sent.
    UpstreamInfo upstream;
    size_t size = 0;
    uint64_t seq = 0;  // Key of by_age_.
  };

  void EraseLocked(std::map<std::string, Entry>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    bytes_ -= it->second.size;
    by_age_.erase(it->second.seq);
    entries_.erase(it);
  }
  void ErasePrefixLocked(const std::string& prefix) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = entries_.lower_bound(prefix);
    while (it != entries_.end() && absl::StartsWith(it->first, prefix)) EraseLocked(it++);
  }

  Timers* const timers_;
  const ReadCacheOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::string> by_age_ ABSL_GUARDED_BY(mu_);  // Oldest stored first.
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;  // Advanced by every change.
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

CachingFivetranApi::CachingFivetranApi(FivetranApi* inner, Timers* timers, ReadCacheOptions options)
    : inner_(inner), timers_(timers), store_(std::make_shared<Store>(timers, options)) {}

CachingFivetranApi::~CachingFivetranApi() = default;

ReadCacheStats CachingFivetranApi::stats() const { return store_->Stats(); }

template <typename T>
std::shared_ptr<Cancellable> CachingFivetranApi::Read(
    const std::string& key, ReadOptions read, ApiCallback<T> done,
    const std::function<std::shared_ptr<Cancellable>(ApiCallback<T>)>& send) {
  if (!read.fresh) {
    if (std::optional<Store::Hit> hit = store_->Find(key)) {
      if (const auto* value = std::get_if<std::shared_ptr<const T>>(&hit->value)) {
        UpstreamInfo info = hit->upstream;
        info.attempts = 0;
        info.cache = UpstreamInfo::Cache::kHit;
        info.cache_age = hit->age;
        done(T(**value), info);
        return std::make_shared<AlreadyAnswered>();
      }
    }
  }
  const uint64_t epoch = store_->BeginMiss();
  const absl::Time sent_at = timers_->Now();
  std::weak_ptr<Store> weak = store_;
  return send([weak, key, epoch, sent_at, done = std::move(done)](absl::StatusOr<T> result,
                                                                  const UpstreamInfo& upstream) {
    UpstreamInfo info = upstream;
    info.cache = UpstreamInfo::Cache::kMiss;
    info.cache_age = absl::ZeroDuration();
    if (auto store = weak.lock()) {
      if (result.ok()) {
        store->Put(key, epoch, sent_at, std::make_shared<const T>(*result), SizeOf(*result),
                   upstream);
      } else if (result.status().code() == absl::StatusCode::kNotFound) {
        store->Drop(key);
      }
    }
    done(std::move(result), info);
  });
}

std::shared_ptr<Cancellable> CachingFivetranApi::GetConnection(const std::string& connection_id,
                                                               ReadOptions read,
                                                               absl::Time deadline,
                                                               ApiCallback<v1::Connection> done) {
  return GetSerializedConnection(connection_id, read, deadline, ParsedInto(std::move(done)));
}

std::shared_ptr<Cancellable> CachingFivetranApi::GetSerializedConnection(
    const std::string& connection_id, ReadOptions read, absl::Time deadline,
    ApiCallback<SerializedConnection> done) {
  return Read<SerializedConnection>(ConnectionKey(connection_id), read, std::move(done),
                                    [&](ApiCallback<SerializedConnection> cb) {
                                      return inner_->GetSerializedConnection(
                                          connection_id, read, deadline, std::move(cb));
                                    });
}

std::shared_ptr<Cancellable> CachingFivetranApi::CreateConnection(
    const NewConnection& connection, absl::Time deadline, ApiCallback<v1::Connection> done) {
  std::optional<std::string> group_id;
  auto it = connection.body().find("group_id");
  if (it != connection.body().end() && it->is_string()) group_id = it->get<std::string>();
  std::weak_ptr<Store> weak = store_;
  return inner_->CreateConnection(
      connection, deadline,
      [weak, group_id, done = std::move(done)](absl::StatusOr<v1::Connection> created,
                                               const UpstreamInfo& info) {
        if (auto store = weak.lock()) {
          store->GroupChanged(group_id);
          if (created.ok() && !created->group_id().empty() && created->group_id() != group_id) {
            store->GroupChanged(created->group_id());
          }
        }
        done(std::move(created), info);
      });
}

std::shared_ptr<Cancellable> CachingFivetranApi::TriggerSync(const std::string& connection_id,
                                                             bool force, absl::Time deadline,
                                                             ApiCallback<SyncTriggered> done) {
  std::weak_ptr<Store> weak = store_;
  return inner_->TriggerSync(
      connection_id, force, deadline,
      [weak, connection_id, done = std::move(done)](absl::StatusOr<SyncTriggered> triggered,
                                                    const UpstreamInfo& info) {
        if (auto store = weak.lock()) store->ConnectionChanged(connection_id);
        done(std::move(triggered), info);
      });
}

std::shared_ptr<Cancellable> CachingFivetranApi::ListGroups(const PageRequest& page,
                                                            ReadOptions read, absl::Time deadline,
                                                            ApiCallback<Page<v1::Group>> done) {
  return Read<Page<v1::Group>>(GroupsKey(page), read, std::move(done),
                               [&](ApiCallback<Page<v1::Group>> cb) {
                                 return inner_->ListGroups(page, read, deadline, std::move(cb));
                               });
}

std::shared_ptr<Cancellable> CachingFivetranApi::ListGroupConnections(
    const std::string& group_id, const std::string& schema, const PageRequest& page,
    ReadOptions read, absl::Time deadline, ApiCallback<Page<SerializedConnection>> done) {
  return Read<Page<SerializedConnection>>(
      ListingKey(group_id, schema, page), read, std::move(done),
      [&](ApiCallback<Page<SerializedConnection>> cb) {
        return inner_->ListGroupConnections(group_id, schema, page, read, deadline, std::move(cb));
      });
}

std::shared_ptr<Cancellable> CachingFivetranApi::ListUsers(std::optional<bool> active,
                                                           const PageRequest& page,
                                                           ReadOptions read, absl::Time deadline,
                                                           ApiCallback<Page<v1::User>> done) {
  return Read<Page<v1::User>>(
      UsersKey(active, page), read, std::move(done), [&](ApiCallback<Page<v1::User>> cb) {
        return inner_->ListUsers(active, page, read, deadline, std::move(cb));
      });
}

}  // namespace fivetran_gateway::fivetran
