#include "server/fivetran/testdata_files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace fivetran_gateway::fivetran::testing {

std::string ReadTestdata(const std::string& name) {
  const std::string rel = "server/fivetran/testdata/" + name;
  std::vector<std::string> candidates = {rel};
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    candidates.push_back(std::string(srcdir) + "/fivetran_gateway/" + rel);
  }
  for (const auto& path : candidates) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      return ss.str();
    }
  }
  ADD_FAILURE() << "cannot read testdata " << name;
  return "";
}

}  // namespace fivetran_gateway::fivetran::testing
