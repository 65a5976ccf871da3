import type { RedisClient } from './redis-store.js';

/** Counts Redis commands, their latency and errors (metrics implement it). */
export interface RedisObserver {
  command(name: string, seconds: number, failed: boolean): void;
  connectionError(): void;
}

interface CommandLike {
  name: string;
  promise: Promise<unknown>;
}

/**
 * Times every command a client sends, pipelined and MULTI ones included:
 * ioredis sends each through the client's sendCommand, so wrapping that one
 * method sees them all without touching the store's code.
 */
export function instrumentRedis(client: RedisClient, observer: RedisObserver): void {
  const target = client as unknown as { sendCommand(command: CommandLike, ...rest: unknown[]): unknown };
  const send = target.sendCommand.bind(target);
  target.sendCommand = (command, ...rest) => {
    const started = performance.now();
    const sent = send(command, ...rest);
    command.promise.then(
      () => observer.command(command.name, (performance.now() - started) / 1000, false),
      () => observer.command(command.name, (performance.now() - started) / 1000, true),
    );
    return sent;
  };
  client.on('error', () => observer.connectionError());
}
