#include "client/fivetranctl/cmd_users.h"

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "fivetran/gateway/v1/user_service.grpc.pb.h"

namespace fivetranctl {
namespace {

constexpr char kListFooter[] = R"(
Examples:
  fivetranctl users list
  fivetranctl users list --all --suspended --output json
)";

// `active_filter`: 1 = active users only, -1 = suspended users only, 0 = all.
int ListUsers(const Runner& r, int active_filter, const Paging& paging) {
  return r.List<v1::ListUsersRequest, v1::ListUsersResponse, v1::User>(
      paging, "users", UserColumns(),
      absl::StrCat("/", v1::UserService::service_full_name(), "/ListUsers"),
      [&](const std::string& token) {
        v1::ListUsersRequest request;
        request.set_page_size(paging.RequestPageSize());
        request.set_page_token(token);
        if (active_filter != 0) request.set_active(active_filter > 0);
        return request;
      },
      [](const v1::ListUsersResponse& resp) -> const auto& { return resp.users(); }, UserRow);
}

class UsersCommand : public Command {
 public:
  explicit UsersCommand(CLI::App* app) {
    CLI::App* users = app->add_subcommand("users", "List users");
    users->require_subcommand(1);
    list_ = users->add_subcommand("list", "List users (one page, or --all)");
    CLI::Option* active_flag = list_->add_flag("--active", only_active_, "Active users only");
    list_->add_flag("--suspended", only_suspended_, "Suspended users only")->excludes(active_flag);
    AddPagingFlags(list_, &paging_);
    list_->footer(kListFooter);
  }

  std::optional<int> Run(const Globals& g) override {
    if (list_->parsed()) {
      return ListUsers(Runner(g), only_active_ ? 1 : only_suspended_ ? -1 : 0, paging_);
    }
    return std::nullopt;
  }

 private:
  CLI::App* list_;
  bool only_active_ = false, only_suspended_ = false;
  Paging paging_;
};

}  // namespace

std::unique_ptr<Command> AddUsersCommand(CLI::App* app) {
  return std::make_unique<UsersCommand>(app);
}

}  // namespace fivetranctl
