import { createRequire } from 'node:module';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { Server } from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
} from '@bufbuild/protobuf/wkt';
import { FILE_DESCRIPTOR_SET_BASE64 } from '../../gen/ts/descriptor_set.js';

/**
 * Server reflection over the API's original descriptors (gen/ts/descriptor_set.ts,
 * made by `buf generate`) plus grpc.health.v1, so grpcurl can list, describe
 * and call every service. @grpc/reflection reads `fileDescriptorProtos` from
 * package-definition entries, so we hand it exactly that shape.
 */
export function addReflection(server: Server): void {
  const set = fromBinary(FileDescriptorSetSchema, Buffer.from(FILE_DESCRIPTOR_SET_BASE64, 'base64'));
  const files = [...set.file, ...healthDescriptors()].map((file) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, file)),
  );
  new ReflectionService({ api: { fileDescriptorProtos: files } } as never).addToServer(server);
}

/** grpc.health.v1's descriptors, from the .proto that grpc-health-check ships. */
function healthDescriptors(): FileDescriptorProto[] {
  const require = createRequire(import.meta.url);
  const { protoPath } = require('grpc-health-check') as { protoPath: string };
  const byName = new Map<string, FileDescriptorProto>();
  for (const def of Object.values(loadSync(protoPath))) {
    for (const bytes of ('fileDescriptorProtos' in def ? def.fileDescriptorProtos : []) as Buffer[]) {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      if (!byName.has(file.name)) byName.set(file.name, file);
    }
  }
  for (const file of byName.values()) file.messageType.forEach(fixMapEntryNames);
  return [...byName.values()];
}

/**
 * protobufjs names a map field's entry message after the field ("Statuses")
 * where protoc names it "StatusesEntry"; strict clients (grpcurl, Go's
 * protodesc) reject the former as an invalid map. Rename to protoc's rule.
 */
function fixMapEntryNames(message: DescriptorProto): void {
  for (const nested of message.nestedType) {
    if (nested.options?.mapEntry) {
      const field = message.field.find((f) => f.typeName === nested.name || f.typeName.endsWith(`.${nested.name}`));
      if (field) {
        const entry = `${field.name.replace(/(?:^|_)(.)/g, (_, c: string) => c.toUpperCase())}Entry`;
        field.typeName = field.typeName.slice(0, field.typeName.length - nested.name.length) + entry;
        nested.name = entry;
      }
    }
    fixMapEntryNames(nested);
  }
}
