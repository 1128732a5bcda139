"""cc_grpc_library: C++ gRPC stubs from a proto_library, using Debian's grpc_cpp_plugin.

Bazel 4 has no native gRPC rule. This runs protoc with the transitive descriptor sets
of `proto` and the system plugin, then wraps the generated *.grpc.pb.{h,cc} together
with the cc_proto_library in one cc_library. The macro must live in the same package
as its proto_library, and that proto_library must not use strip/import prefixes.
"""

def _import_path(src, root):
    p = src.path
    if root and root != "." and p.startswith(root + "/"):
        return p[len(root) + 1:]
    return p

def _grpc_codegen_impl(ctx):
    info = ctx.attr.proto[ProtoInfo]
    hdrs, srcs, names = [], [], []
    for src in info.direct_sources:
        ip = _import_path(src, info.proto_source_root)
        stem = "_grpc/" + ip[:-len(".proto")]
        hdrs.append(ctx.actions.declare_file(stem + ".grpc.pb.h"))
        srcs.append(ctx.actions.declare_file(stem + ".grpc.pb.cc"))
        names.append(ip)
    out_root = ctx.bin_dir.path
    if ctx.label.workspace_root:
        out_root += "/" + ctx.label.workspace_root
    if ctx.label.package:
        out_root += "/" + ctx.label.package
    out_root += "/_grpc"
    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-grpc=" + ctx.attr.plugin)
    args.add("--grpc_out=" + out_root)
    args.add_joined("--descriptor_set_in", info.transitive_descriptor_sets, join_with = ":")
    args.add_all(names)
    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = info.transitive_descriptor_sets,
        outputs = hdrs + srcs,
        mnemonic = "GrpcCppGen",
        progress_message = "Generating gRPC C++ for %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset(hdrs + srcs)),
        OutputGroupInfo(headers = depset(hdrs), sources = depset(srcs)),
    ]

_grpc_codegen = rule(
    implementation = _grpc_codegen_impl,
    attrs = {
        "proto": attr.label(mandatory = True, providers = [ProtoInfo]),
        "plugin": attr.string(default = "/usr/bin/grpc_cpp_plugin"),
        "_protoc": attr.label(
            default = "@com_google_protobuf//:protoc",
            executable = True,
            cfg = "host",
            allow_single_file = True,
        ),
    },
)

def cc_grpc_library(name, proto, deps = [], visibility = None, **kwargs):
    """C++ messages and gRPC stubs for `proto`; `deps` names the cc_proto_library of its imports."""
    native.cc_proto_library(name = name + "_pb", deps = [proto], visibility = visibility)
    _grpc_codegen(name = name + "_grpc_gen", proto = proto)
    native.filegroup(name = name + "_grpc_hdrs", srcs = [":" + name + "_grpc_gen"], output_group = "headers")
    native.filegroup(name = name + "_grpc_srcs", srcs = [":" + name + "_grpc_gen"], output_group = "sources")
    native.cc_library(
        name = name,
        hdrs = [":" + name + "_grpc_hdrs"],
        srcs = [":" + name + "_grpc_srcs"],
        strip_include_prefix = "_grpc",
        deps = [":" + name + "_pb", "@//third_party/grpc:grpc++"] + deps,
        visibility = visibility,
        **kwargs
    )
