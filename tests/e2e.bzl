"""e2e_test: a C++ end-to-end test against the real emulator and gateway."""

def e2e_test(name, srcs = None, data = [], deps = [], size = "medium", **kwargs):
    """A cc_test with the emulator and gateway binaries as data and the harness linked.

    Args:
      name: the test's name; its source is NAME.cc unless `srcs` says otherwise.
      srcs: sources (default [NAME + ".cc"]).
      data: further runtime files (other binaries the test starts).
      deps: further libraries.
      size: Bazel test size (default medium).
      **kwargs: passed to cc_test.
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs if srcs != None else [name + ".cc"],
        data = ["//emulator:fivetran_emulator", "//server:fivetran_gateway"] + data,
        deps = [":harness", "//third_party/gtest:gtest_main"] + deps,
        **kwargs
    )
