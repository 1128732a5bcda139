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

Only for binaries that use nothing built on the shared gRPC or Abseil (no
TSan build, whose instrumented Abseil must be the shared one): see
//client:fivetranctl, which uses them in -c opt builds only.
"""

_ARCHIVES = [
    "grpc++",
    "grpc",
    "address_sorting",
    "re2",
    "upb",
    "cares",
    "gpr",
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
