"""A gRPC channel to fivetran-gateway configured from the environment.

    from fivetran.gateway.connect import channel_from_env
    with channel_from_env("gw.example:50051") as channel:
        ...

Environment (the same for the Go and Node.js examples and, as flags, fivetranctl):

    FIVETRAN_GATEWAY_CA_FILE      TLS, trusting the CAs in this PEM file
    FIVETRAN_GATEWAY_TLS=1        TLS, trusting the system's CAs
    FIVETRAN_GATEWAY_CERT, FIVETRAN_GATEWAY_KEY
                                  client certificate and key (PEM) for mutual TLS
    FIVETRAN_GATEWAY_SERVER_NAME  name to expect in the gateway's certificate
    FIVETRAN_GATEWAY_TOKEN        bearer token, else
    FIVETRAN_GATEWAY_TOKEN_FILE   a file holding it

Without TLS settings the channel is plaintext; a token is then only sent to a
loopback address (gRPC's local credentials refuse anything else).
"""

import os

import grpc

_TRUE = ("1", "true", "yes", "on")


def _read(variable: str) -> bytes:
    path = os.environ[variable]
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise ValueError(f"${variable}: cannot read {path!r}: {err.strerror}") from None


def token_from_env() -> str:
    """The bearer token, or "" for none. Never logged by this module."""
    token = os.environ.get("FIVETRAN_GATEWAY_TOKEN", "")
    if not token and os.environ.get("FIVETRAN_GATEWAY_TOKEN_FILE"):
        token = _read("FIVETRAN_GATEWAY_TOKEN_FILE").decode("ascii", "replace")
    token = token.strip()
    if any(c.isspace() or not c.isprintable() for c in token):
        raise ValueError("the gateway token must be one word of printable ASCII")
    return token


def channel_credentials_from_env():
    """(ChannelCredentials or None for plaintext, [channel options])."""
    env = os.environ
    cert, key = env.get("FIVETRAN_GATEWAY_CERT"), env.get("FIVETRAN_GATEWAY_KEY")
    if bool(cert) != bool(key):
        raise ValueError("FIVETRAN_GATEWAY_CERT and FIVETRAN_GATEWAY_KEY go together")
    ca = env.get("FIVETRAN_GATEWAY_CA_FILE")
    tls = bool(ca or cert) or env.get("FIVETRAN_GATEWAY_TLS", "").lower() in _TRUE
    options = []
    if not tls:
        if env.get("FIVETRAN_GATEWAY_SERVER_NAME"):
            raise ValueError("FIVETRAN_GATEWAY_SERVER_NAME needs TLS")
        return None, options
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read("FIVETRAN_GATEWAY_CA_FILE") if ca else None,
        private_key=_read("FIVETRAN_GATEWAY_KEY") if key else None,
        certificate_chain=_read("FIVETRAN_GATEWAY_CERT") if cert else None)
    if env.get("FIVETRAN_GATEWAY_SERVER_NAME"):
        options.append(("grpc.ssl_target_name_override", env["FIVETRAN_GATEWAY_SERVER_NAME"]))
    return credentials, options


def channel_from_env(address: str, options=()) -> grpc.Channel:
    """A channel to `address` with the TLS settings and token of the environment."""
    credentials, tls_options = channel_credentials_from_env()
    options = list(options) + tls_options
    token = token_from_env()
    if credentials is None and not token:
        return grpc.insecure_channel(address, options=options)
    if credentials is None:  # a token without TLS: loopback only
        credentials = grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP)
    if token:
        credentials = grpc.composite_channel_credentials(
            credentials, grpc.access_token_call_credentials(token))
    return grpc.secure_channel(address, credentials, options=options)
