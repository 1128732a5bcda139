#include "client/fivetranctl/cmd_groups.h"

#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "fivetran/gateway/v1/group_service.grpc.pb.h"

namespace fivetranctl {
namespace {

constexpr char kListFooter[] = R"(
Examples:
  fivetranctl groups list
  fivetranctl groups list --page-size 2 --page-token TOKEN
  fivetranctl groups list --all --output json
)";

constexpr char kConnectionsFooter[] = R"(
Examples:
  fivetranctl groups connections amber_fjord
  fivetranctl groups connections amber_fjord --all --output jsonl
  fivetranctl groups connections projected_sickle --schema google_sheets.fivetran_sheet
)";

int ListGroups(const Runner& r, const Paging& paging) {
  return r.List<v1::ListGroupsRequest, v1::ListGroupsResponse, v1::Group>(
      paging, "groups", GroupColumns(),
      absl::StrCat("/", v1::GroupService::service_full_name(), "/ListGroups"),
      [&](const std::string& token) {
        v1::ListGroupsRequest request;
        request.set_page_size(paging.RequestPageSize());
        request.set_page_token(token);
        return request;
      },
      [](const v1::ListGroupsResponse& resp) -> const auto& { return resp.groups(); }, GroupRow);
}

int ListGroupConnections(const Runner& r, const std::string& group, const std::string& schema,
                         const Paging& paging) {
  return r.List<v1::ListGroupConnectionsRequest, v1::ListGroupConnectionsResponse, v1::Connection>(
      paging, "connections", ConnectionColumns(),
      absl::StrCat("/", v1::GroupService::service_full_name(), "/ListGroupConnections"),
      [&](const std::string& token) {
        v1::ListGroupConnectionsRequest request;
        request.set_group_id(group);
        request.set_schema(schema);
        request.set_page_size(paging.RequestPageSize());
        request.set_page_token(token);
        return request;
      },
      [](const v1::ListGroupConnectionsResponse& resp) -> const auto& {
        return resp.connections();
      },
      ConnectionRow);
}

class GroupsCommand : public Command {
 public:
  explicit GroupsCommand(CLI::App* app) {
    CLI::App* groups = app->add_subcommand("groups", "List groups and their connections");
    groups->require_subcommand(1);

    list_ = groups->add_subcommand("list", "List groups (one page, or --all)");
    AddPagingFlags(list_, &list_paging_);
    list_->footer(kListFooter);

    connections_ =
        groups->add_subcommand("connections", "List a group's connections (one page, or --all)");
    connections_->add_option("GROUP_ID", group_id_, "Group id")->required();
    connections_->add_option("--schema", schema_filter_,
                             "Only the connection with this schema name");
    AddPagingFlags(connections_, &connections_paging_);
    connections_->footer(kConnectionsFooter);
  }

  std::optional<int> Run(const Globals& g) override {
    if (list_->parsed()) return ListGroups(Runner(g), list_paging_);
    if (connections_->parsed()) {
      return ListGroupConnections(Runner(g), group_id_, schema_filter_, connections_paging_);
    }
    return std::nullopt;
  }

 private:
  CLI::App* list_;
  Paging list_paging_;
  CLI::App* connections_;
  std::string group_id_, schema_filter_;
  Paging connections_paging_;
};

}  // namespace

std::unique_ptr<Command> AddGroupsCommand(CLI::App* app) {
  return std::make_unique<GroupsCommand>(app);
}

}  // namespace fivetranctl
