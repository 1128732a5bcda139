"""Linker flags for a binary that links gRPC, protobuf and Abseil statically.

Debian 12 ships static archives of gRPC, protobuf and Abseil beside their
shared libraries. A short-lived command that links the shared ones spends
about half of a small run's CPU in the dynamic loader (symbol lookups and
relocations over some 57 shared objects, most of them Abseil's). These flags
name the archives in the order `pkg-config --static --libs grpc++ protobuf`
gives, inside one group, so their members resolve the binary's references;
`--as-needed` then drops the shared libraries that the //third_party targets'
`-l` flags name afterwards, as nothing is left for them to provide. OpenSSL,
zlib, libstdc++ and libc stay shared.

For a long-running server the loader's work is paid once, but every call
into those libraries goes through the PLT and their thread-locals through
`__tls_get_addr`; the gateway linked so spent about 15% less CPU per
sequential GetConnection (170-175 against 200-210 us, four alternating
runs; no measurable change at 50x10).

Only for binaries that use nothing built on the shared gRPC or Abseil: a
library still linked shared that uses Abseil would bring a second copy of it.
Abseil's flags libraries are in the list for the gateway. Not for TSan
builds, whose instrumented Abseil must be the shared one: //client:fivetranctl,
//server:fivetran_gateway and //tools/bench:relay_floor take them through
static_grpc_linkopts_in_opt(), in -c opt builds only.
"""

_ARCHIVES = [
    "grpc++_reflection",
    "grpc++",
    "grpc",
    "address_sorting",
    "re2",
    "upb",
    "cares",
    "gpr",
    "absl_flags_parse",
    "absl_flags_usage",
    "absl_flags_usage_internal",
    "absl_flags_config",
    "absl_flags_internal",
    "absl_flags_reflection",
    "absl_flags_private_handle_accessor",
    "absl_flags_commandlineflag",
    "absl_flags_commandlineflag_internal",
    "absl_flags_marshalling",
    "absl_flags_program_name",
    "absl_throw_delegate",
    "absl_raw_logging_internal",
    "absl_raw_hash_set",
    "absl_hashtablez_sampler",
    "absl_hash",
    "absl_city",
    "absl_low_level_hash",
    "absl_random_distributions",
    "absl_random_seed_sequences",
    "absl_random_internal_pool_urbg",
    "absl_random_internal_randen",
    "absl_random_internal_randen_hwaes",
    "absl_random_internal_randen_hwaes_impl",
    "absl_random_internal_randen_slow",
    "absl_random_internal_platform",
    "absl_random_internal_seed_material",
    "absl_random_seed_gen_exception",
    "absl_statusor",
    "absl_status",
    "absl_cord",
    "absl_cordz_info",
    "absl_cord_internal",
    "absl_cordz_functions",
    "absl_exponential_biased",
    "absl_cordz_handle",
    "absl_bad_optional_access",
    "absl_strerror",
    "absl_str_format_internal",
    "absl_synchronization",
    "absl_graphcycles_internal",
    "absl_stacktrace",
    "absl_symbolize",
    "absl_debugging_internal",
    "absl_demangle_internal",
    "absl_malloc_internal",
    "absl_time",
    "absl_civil_time",
    "absl_strings",
    "absl_strings_internal",
    "absl_base",
    "absl_spinlock_wait",
    "absl_int128",
    "absl_time_zone",
    "absl_bad_variant_access",
    "absl_log_severity",
    "protobuf",
]

STATIC_GRPC_LINKOPTS = (
    ["-Wl,--as-needed", "-Wl,--start-group"] +
    ["-l:lib%s.a" % name for name in _ARCHIVES] +
    ["-Wl,--end-group", "-lssl", "-lcrypto", "-lz", "-lrt", "-ldl", "-latomic"]
)

def static_grpc_linkopts_in_opt():
    """STATIC_GRPC_LINKOPTS in -c opt builds, nothing in the others.

    Test builds (fastbuild, ASan, TSan with its instrumented shared Abseil)
    link the shared libraries.
    """
    return select({
        "//third_party/grpc:opt": STATIC_GRPC_LINKOPTS,
        "//conditions:default": [],
    })
