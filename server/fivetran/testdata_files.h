// The JSON fixtures of this folder, for the Fivetran layer's unit tests.
#ifndef FIVETRAN_GATEWAY_SERVER_FIVETRAN_TESTDATA_FILES_H_
#define FIVETRAN_GATEWAY_SERVER_FIVETRAN_TESTDATA_FILES_H_

#include <string>

namespace fivetran_gateway::fivetran::testing {

// The bytes of server/fivetran/testdata/`name` (from the test's runfiles, or
// the workspace when run by hand); "" and a test failure when missing.
std::string ReadTestdata(const std::string& name);

}  // namespace fivetran_gateway::fivetran::testing

#endif  // FIVETRAN_GATEWAY_SERVER_FIVETRAN_TESTDATA_FILES_H_
