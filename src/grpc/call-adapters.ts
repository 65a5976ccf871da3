import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerUnaryCall,
  type ServerWritableStream,
  status,
} from '@grpc/grpc-js';
import type { Caller } from '../core/caller.js';
import type { Cancellation } from '../core/cancellation.js';
import { attempt } from '../core/attempt.js';
import type { Logger } from '../core/logger.js';
import type { TraceContext } from '../core/trace.js';
import { parseTraceContext } from '../tracing.js';
import type { Identify } from './auth.js';
import { CallCancellation } from './call-cancellation.js';
import type { CallTracker } from './call-tracker.js';
import type { RpcRecorder } from './rpc-recorder.js';
import { toServiceError } from './status.js';

/** What a handler learns about its call besides the request. */
export interface CallContext {
  /** Fires when the client cancels or its deadline passes. */
  readonly signal: Cancellation;
  /** The client cancelled, or its deadline passed (without making the signal). */
  readonly ended: boolean;
  /** The client's deadline as epoch ms, if it sent one. */
  deadline?: number;
  /** Who is calling (authentication); limits the users it may act for. */
  caller: Caller;
  /** The client connection's address ("ip:port"): one per HTTP/2 connection. */
  peer: string;
  /** The W3C trace context the client sent (traceparent, tracestate metadata). */
  trace?: TraceContext;
}

type Call = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/**
 * What every handler shares: the logger, the count of calls under way, who the callers are, and
 * the record of calls.
 */
export interface HandlerDeps {
  logger: Logger;
  calls: CallTracker;
  identify: Identify;
  rpcs: RpcRecorder;
}

/**
 * What a handler learns about its call. The cancellation, and the listener
 * that fires it, are made on first use: most unary calls (an inline tool that
 * returns at once) never need them, and an AbortSignal per call cost about 4%
 * of the server's CPU under load. Until then `ended` reads grpc-js's own flag.
 */
class ServedCall implements CallContext {
  readonly caller: Caller;
  readonly deadline?: number;
  readonly trace?: TraceContext;
  private cancellation?: CallCancellation;

  constructor(
    private readonly call: Call,
    identify: Identify,
  ) {
    const raw = call.getDeadline();
    const deadline = raw instanceof Date ? raw.getTime() : Number.isFinite(raw) ? Number(raw) : undefined;
    if (deadline !== undefined) this.deadline = deadline;
    const traceparent = call.metadata.get('traceparent')[0];
    const trace =
      traceparent === undefined ? undefined : parseTraceContext(traceparent, call.metadata.get('tracestate')[0]);
    if (trace) this.trace = trace;
    this.caller = identify(call.metadata);
  }

  get peer(): string {
    return this.call.getPeer();
  }

  get signal(): CallCancellation {
    return (this.cancellation ??= new CallCancellation(this.call));
  }

  get ended(): boolean {
    return this.call.cancelled;
  }

  /** The call is over: the listener its signal needed, if any, goes. */
  release(): void {
    this.cancellation?.release();
  }
}

function callContext(call: Call, { calls, identify }: HandlerDeps): { context: ServedCall; release: () => void } {
  const finished = calls.enter();
  const context = new ServedCall(call, identify);
  return {
    context,
    release: () => {
      context.release();
      finished();
    },
  };
}

/**
 * Adapts an async handler to grpc-js: the callback is called exactly once,
 * and a thrown value becomes a status through toServiceError, so a rejected
 * promise can never crash the process.
 */
export function unary<Req, Res>(
  method: string,
  deps: HandlerDeps,
  handler: (request: Req, context: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  const { logger, rpcs } = deps;
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const { context, release } = callContext(call, deps);
    // Answers once, records the call, and never throws: the handler's promise needs no catch of its own.
    const respond = (failed: boolean, outcome: unknown) => {
      try {
        if (failed) {
          const error = toServiceError(outcome, logger);
          callback(error);
          const code = endedEarly(context) ?? error.code ?? status.UNKNOWN;
          rpcs.finished(method, code, started, call.request, undefined, error.details);
        } else {
          callback(null, outcome as Res);
          rpcs.finished(method, endedEarly(context) ?? status.OK, started, call.request, outcome);
        }
      } catch (err) {
        logger.error({ err }, 'answering a call failed');
      } finally {
        release();
      }
    };
    // A handler that throws before its first await fails like any other; no extra promise hops.
    void attempt(() => handler(call.request, context)).then(
      (response) => respond(false, response),
      (err: unknown) => respond(true, err),
    );
  };
}

/**
 * The status the client actually got when the call ended before the handler
 * answered (its deadline passed, or it cancelled): grpc-js has already sent
 * it, and the handler's late answer goes nowhere, so that is what is recorded.
 */
function endedEarly({ ended, deadline }: CallContext): number | undefined {
  if (!ended) return undefined;
  return deadline !== undefined && Date.now() >= deadline ? status.DEADLINE_EXCEEDED : status.CANCELLED;
}

/** What a streaming handler returns: the events, how each becomes a message, and who is told the end. */
export interface ServedStream<Event, Res> {
  events: AsyncIterable<Event>;
  /** The message sent for an event (mapped here, not in a wrapping generator: one async hop fewer per message). */
  message(event: Event): Res;
  /** Once, when the stream is over: `error` when it failed, nothing when it ended or the client cancelled. */
  finished?(error?: unknown): void;
}

/**
 * Pumps a handler's events into a server stream. Honours write() backpressure
 * (waits for 'drain' before pulling the next event, so a slow client costs
 * a bounded buffer) and the client's cancel (the iterator's signal fires and
 * the iterator is returned, releasing whatever it holds).
 */
export function serverStream<Req, Event, Res>(
  method: string,
  deps: HandlerDeps,
  handler: (request: Req, context: CallContext) => ServedStream<Event, Res>,
): handleServerStreamingCall<Req, Res> {
  const { logger, rpcs } = deps;
  return (call) => {
    const started = process.hrtime.bigint();
    const { context, release } = callContext(call, deps);
    const { signal } = context;
    void (async () => {
      let stream: ServedStream<Event, Res> | undefined;
      let iterator: AsyncIterator<Event> | undefined;
      const finished = (error?: unknown) => {
        const over = stream;
        stream = undefined;
        over?.finished?.(error);
      };
      try {
        stream = handler(call.request, context);
        iterator = stream.events[Symbol.asyncIterator]();
        for (;;) {
          const next = await iterator.next();
          if (next.done || signal.aborted) break;
          if (!call.write(stream.message(next.value))) await drained(call, signal);
        }
        finished();
        if (signal.aborted) rpcs.finished(method, status.CANCELLED, started, call.request);
        else {
          call.end();
          rpcs.finished(method, status.OK, started, call.request);
        }
      } catch (err) {
        finished(err);
        if (signal.aborted) return;
        const error = toServiceError(err, logger);
        call.emit('error', error);
        rpcs.finished(method, error.code ?? status.UNKNOWN, started, call.request, undefined, error.details);
      } finally {
        release();
        await iterator?.return?.();
      }
    })();
  };
}

function drained(call: ServerWritableStream<unknown, unknown>, signal: Cancellation): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
