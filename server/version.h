#ifndef FIVETRAN_GATEWAY_SERVER_VERSION_H_
#define FIVETRAN_GATEWAY_SERVER_VERSION_H_

namespace fivetran_gateway {

// Sent upstream as "User-Agent: fivetran-gateway/<kVersion>".
inline constexpr char kVersion[] = "0.1.0";

}  // namespace fivetran_gateway

#endif  // FIVETRAN_GATEWAY_SERVER_VERSION_H_
