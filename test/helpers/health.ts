import { createRequire } from 'node:module';
import { credentials, loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** grpc.health.v1 Check against `address`: 'SERVING', 'NOT_SERVING', or the error's message. */
export async function healthStatus(address: string, service = ''): Promise<string> {
  const require = createRequire(import.meta.url);
  const { protoPath } = require('grpc-health-check') as { protoPath: string };
  const pkg = loadPackageDefinition(loadSync(protoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    return await new Promise((resolve) => {
      client.Check({ service }, { deadline: Date.now() + 2000 }, (err: Error | null, res: { status: string }) =>
        resolve(err ? err.message : res.status),
      );
    });
  } finally {
    client.close();
  }
}
