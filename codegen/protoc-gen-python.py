#!/usr/bin/env python3
"""buf plugin: Python messages, .pyi stubs and gRPC stubs through grpcio-tools.

buf has no builtin for grpc_python, and `python -m grpc_tools.protoc` cannot be
a buf plugin itself (it always adds its own -I). So this plugin writes the
request's files as a descriptor set, runs grpc_tools' protoc on it, and answers
with what protoc wrote, plus the __init__.py files that make an importable
package.
"""
import os
import sys
import tempfile

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2
from grpc_tools import protoc


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    response = plugin_pb2.CodeGeneratorResponse()
    response.supported_features = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL
    with tempfile.TemporaryDirectory() as tmp:
        descriptor_path = os.path.join(tmp, "request.binpb")
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        file_set = descriptor_pb2.FileDescriptorSet(file=request.proto_file)
        with open(descriptor_path, "wb") as f:
            f.write(file_set.SerializeToString())
        args = [
            "grpc_tools.protoc",
            f"--descriptor_set_in={descriptor_path}",
            f"--python_out={out}",
            f"--pyi_out={out}",
            f"--grpc_python_out={out}",
            *request.file_to_generate,
        ]
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed on " + ", ".join(request.file_to_generate)
        else:
            names = []
            for dirpath, _, filenames in os.walk(out):
                for filename in filenames:
                    path = os.path.join(dirpath, filename)
                    names.append(os.path.relpath(path, out))
            packages = {os.path.dirname(n) for n in names}
            for pkg in list(packages):
                while pkg:
                    packages.add(pkg)
                    pkg = os.path.dirname(pkg)
            for pkg in sorted(packages):
                init = os.path.join(pkg, "__init__.py")
                if init not in names:
                    response.file.add(name=init, content="")
            for name in sorted(names):
                with open(os.path.join(out, name), encoding="utf-8") as f:
                    response.file.add(name=name, content=f.read())
    sys.stdout.buffer.write(response.SerializeToString())


if __name__ == "__main__":
    main()
