import type { RedisClient } from './scripts.js';

/** Counts Redis commands, their latency and errors (metrics implement it). */
export interface RedisObserver {
  command(name: string, seconds: number, failed: boolean): void;
  /** Commands were sent with no reply awaited in between: one wait for Redis, however many commands. */
  roundTrip(): void;
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
  // Commands sent in one synchronous run (a pipeline, a MULTI, or a script
  // call) travel together and are answered together: one round trip.
  let batchOpen = false;
  const closeBatch = () => {
    batchOpen = false;
  };
  target.sendCommand = (command, ...rest) => {
    if (!batchOpen) {
      batchOpen = true;
      observer.roundTrip();
      process.nextTick(closeBatch);
    }
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
