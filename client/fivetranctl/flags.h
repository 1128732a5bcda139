// Typed CLI11 flags that fill a request message after parsing ("appliers"): each flag records
// its value, and an applier sets the message field only when the flag was given.
#ifndef CLIENT_FIVETRANCTL_FLAGS_H_
#define CLIENT_FIVETRANCTL_FLAGS_H_

#include <google/protobuf/descriptor.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "wire/enum_names.h"

namespace fivetranctl {

template <typename M>
using Appliers = std::vector<std::function<void(M*)>>;

// A flag (bool) or option (other T) whose value is applied with `set` only when given.
template <typename M, typename T>
CLI::Option* AddField(CLI::App* cmd, Appliers<M>* apply, const std::string& names,
                      const std::string& help, std::function<void(M*, const T&)> set) {
  auto value = std::make_shared<T>();
  CLI::Option* option;
  if constexpr (std::is_same_v<T, bool>) {
    option = cmd->add_flag(names, *value, help);
  } else {
    option = cmd->add_option(names, *value, help);
  }
  apply->push_back([option, value, set](M* m) {
    if (option->count() > 0) set(m, *value);
  });
  return option;
}

// Fivetran's spellings of an enum (//wire's tables), minus `exclude`.
template <typename E>
std::vector<std::string> EnumChoices(const google::protobuf::EnumDescriptor* d,
                                     const std::set<int>& exclude = {}) {
  std::vector<std::string> out;
  for (int i = 0; i < d->value_count(); ++i) {
    const int number = d->value(i)->number();
    std::string s(::fivetran_gateway::wire::FivetranEnumString(static_cast<E>(number)));
    if (!s.empty() && exclude.count(number) == 0) out.push_back(s);
  }
  return out;
}

// An enum option taking Fivetran's spelling (case-insensitive).
template <typename M, typename E>
CLI::Option* AddEnum(CLI::App* cmd, Appliers<M>* apply, const std::string& names,
                     const std::string& help, const google::protobuf::EnumDescriptor* d,
                     std::function<void(M*, E)> set, const std::set<int>& exclude = {}) {
  CLI::Option* option =
      AddField<M, std::string>(cmd, apply, names, help, [set](M* m, const std::string& s) {
        E e{};
        if (::fivetran_gateway::wire::ParseFivetranEnum(s, &e)) set(m, e);
      });
  option->transform(CLI::IsMember(EnumChoices<E>(d, exclude), CLI::ignore_case));
  return option;
}

}  // namespace fivetranctl

#endif  // CLIENT_FIVETRANCTL_FLAGS_H_
