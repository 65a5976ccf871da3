// Shared plumbing for the small protoc plugins in this folder: read the
// CodeGeneratorRequest from stdin, write a CodeGeneratorResponse to stdout.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  CodeGeneratorRequestSchema,
  CodeGeneratorResponseSchema,
  CodeGeneratorResponse_Feature,
} from '@bufbuild/protobuf/wkt';

export async function runPlugin(generate) {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const request = fromBinary(CodeGeneratorRequestSchema, Buffer.concat(chunks));
  const files = await generate(request);
  const response = create(CodeGeneratorResponseSchema, {
    // proto3 optional is just data to these plugins.
    supportedFeatures: BigInt(CodeGeneratorResponse_Feature.PROTO3_OPTIONAL),
    file: files.map(({ name, content }) => ({ name, content })),
  });
  process.stdout.write(toBinary(CodeGeneratorResponseSchema, response));
}
