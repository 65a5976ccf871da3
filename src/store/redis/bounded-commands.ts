import { Command } from 'ioredis';
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

  /**
   * HGETALL of each key: a hash per key, undefined where a command failed on its own. A command that failed
   * because Redis was going away or loading says nothing about the task: it fails the whole read (reading it as
   * "missing" once ended every watcher NOT_FOUND across a Redis restart).
   *
   * The commands go out one by one, in one synchronous run (one round trip), past auto-pipelining: a page
   * read as a pipeline, explicit or auto, leaves ioredis objects that the next young-generation GCs copy and
   * promote, 1.5-2.4 MB at each, and those 3-7 ms pauses set ListTasks' p99 at 100k tasks; the same commands
   * sent one by one leave under a tenth of that (docs/PERFORMANCE.md, scenario 5). A single read (`get`) stays
   * auto-pipelined, sharing a write with the commands of other calls.
   */
  readHashes(keys: string[], deadline?: number): Promise<(TaskHash | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.call(
      (c) =>
        Promise.all(
          keys.map((key) => {
            const command = new Command('hgetall', [key], { replyEncoding: 'utf8' });
            void c.sendCommand(command);
            return (command.promise as Promise<TaskHash>).catch(missingIfLogicError);
          }),
        ),
      deadline,
    );
  }

  /**
   * readHashes, but queued behind every command already issued on the connection (auto-pipelined) rather than
   * sent at once: for a read that must see the writes issued before it. A task can be subscribed to just before
   * its create is issued (ExecuteStream holds its watch first); a re-read of it sent at once overtook the create
   * still queued for the loop's next turn, found nothing, and was taken for a deletion.
   */
  readHashesAfterIssued(keys: string[], deadline?: number): Promise<(TaskHash | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.call(
      (c) => Promise.all(keys.map((key) => (c.hgetall(key) as Promise<TaskHash>).catch(missingIfLogicError))),
      deadline,
    );
  }
}

/** A read's command that failed on its own: the key is not readable as a hash. Any other failure fails the read. */
function missingIfLogicError(err: unknown): undefined {
  if (!isLogicError(err)) throw err;
  return undefined;
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
