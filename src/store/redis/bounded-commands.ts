import { StoreUnavailable } from '../../core/errors.js';
import { attempt } from '../../core/attempt.js';
import type { TaskHash } from './codec.js';
import type { ScriptedClient } from './scripts.js';

/**
 * The command connection, reached only through a bound: every call ends
 * within the command timeout, and within the caller's deadline (epoch ms)
 * when one is given. The parts of the store get this object, never the
 * client itself, so none of their commands can wait on Redis unbounded.
 * A failure that means "Redis is not there" becomes StoreUnavailable; an
 * error of a script's own logic (a bug) stays itself.
 */
export class BoundedCommands {
  constructor(
    private readonly client: ScriptedClient,
    private readonly timeoutMs: number,
  ) {}

  /** Runs one Redis call (a command, a script, a MULTI or a pipeline) on the client. */
  call<T>(run: (client: ScriptedClient) => Promise<T>, deadline?: number): Promise<T> {
    const budget = Math.min(this.timeoutMs, deadline === undefined ? Infinity : deadline - Date.now());
    if (budget <= 0) return Promise.reject(new StoreUnavailable(new Error('no time left before the call deadline')));
    // One promise settled by whichever comes first, not Promise.race: this runs on every Redis call, and
    // the race's extra promises and reactions showed in the lifecycle profile.
    return new Promise<T>((resolve, reject) => {
      const fail = (err: unknown) => reject(isLogicError(err) ? err : new StoreUnavailable(err));
      const timer = setTimeout(() => fail(new Error(`redis call took longer than ${Math.round(budget)} ms`)), budget);
      attempt(() => run(this.client)).then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          fail(err);
        },
      );
    });
  }

  /** HGETALL of each key, in one pipeline: a hash per key, undefined where a command failed on its own. */
  async readHashes(keys: string[], deadline?: number): Promise<(TaskHash | undefined)[]> {
    if (keys.length === 0) return [];
    // A Cluster pipeline must stay on one node; keys of several shards are read one by one, which
    // auto-pipelining batches per node.
    if ((this.client as { isCluster?: boolean }).isCluster) return this.readEach(keys, deadline);
    const pipeline = this.client.pipeline();
    for (const key of keys) pipeline.hgetall(key);
    const results = await this.call(() => pipeline.exec(), deadline);
    if (!results) throw new StoreUnavailable(new Error('the pipeline was not run'));
    return results.map(([err, value]) => {
      // A command that failed because Redis was going away or loading says nothing about the
      // task: reading it as "missing" once ended every watcher NOT_FOUND across a Redis restart.
      if (err && !isLogicError(err)) throw new StoreUnavailable(err);
      return err ? undefined : (value as TaskHash);
    });
  }

  private readEach(keys: string[], deadline?: number): Promise<(TaskHash | undefined)[]> {
    return this.call(
      () =>
        Promise.all(
          keys.map((key) =>
            this.client.hgetall(key).catch((err: unknown) => {
              if (!isLogicError(err)) throw err;
              return undefined;
            }),
          ),
        ),
      deadline,
    );
  }
}

/**
 * Errors from a script's own logic (bugs) stay themselves; anything else means Redis is not there.
 * MOVED and ASK too: right after a Cluster failover, ioredis with auto-pipelining can hand them to the
 * caller instead of following them (ioredis issue 2075), and taken for a bug they dropped outcomes.
 */
function isLogicError(err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return false;
  return !/^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|NOSCRIPT|BUSY|MOVED|ASK)/.test(err.message);
}
