// Cancellable: the handle of any asynchronous operation the gateway starts
// (an HTTP transfer, an upstream call with its retries, a wait for another
// caller's create). The gRPC layer holds one per RPC and cancels it when
// the caller goes away.
#ifndef FIVETRAN_GATEWAY_SERVER_COMMON_CANCEL_H_
#define FIVETRAN_GATEWAY_SERVER_COMMON_CANCEL_H_

namespace fivetran_gateway {

class Cancellable {
 public:
  virtual ~Cancellable() = default;
  // Safe from any thread, at any time, and more than once. The operation's
  // callback still runs exactly once (with a cancelled status, unless it had
  // already finished).
  virtual void Cancel() = 0;
};

// The handle of an operation that was answered inside the call that started
// it (e.g. from a cache): nothing is left to cancel.
class AlreadyAnswered final : public Cancellable {
 public:
  void Cancel() override {}
};

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_COMMON_CANCEL_H_
