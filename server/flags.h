// fivetran_gateway's command-line flags -> GatewayFlags (config.h checks
// them). Exits on --help and on flags it cannot parse, as Abseil does.
#ifndef FIVETRAN_GATEWAY_SERVER_FLAGS_H_
#define FIVETRAN_GATEWAY_SERVER_FLAGS_H_

#include "server/config.h"

namespace fivetran_gateway {

GatewayFlags ParseGatewayFlags(int argc, char** argv);

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_FLAGS_H_
