import {
  context,
  isSpanContextValid,
  type Span,
  SpanKind,
  type SpanContext,
  SpanStatusCode,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import type { TraceContext } from './core/trace.js';

/**
 * W3C trace context in and out, through the OpenTelemetry API.
 *
 * Without an OpenTelemetry SDK in the process (the default) no span is
 * recorded: the caller's context is passed on unchanged, so the tool's HTTP
 * requests and worker invocations still join the caller's trace. An operator
 * who registers an SDK (e.g. `node --import ./otel-setup.js`) gets a server
 * span per Execute, and the tool's context becomes a child of it.
 */

const tracer = trace.getTracer('taskservice');

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** tracestate is at most 32 list members of at most 256 characters each. */
const MAX_TRACESTATE = 32 * 257;

/**
 * The trace context of incoming headers, or undefined when there is none or
 * it is malformed (the W3C rule: an invalid traceparent is ignored, and the
 * tracestate with it).
 */
export function parseTraceContext(traceparent: unknown, tracestate: unknown): TraceContext | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  // Version ff is forbidden; version 00 has nothing after the flags.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (!isSpanContextValid({ traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) })) return undefined;
  const state = typeof tracestate === 'string' && tracestate.length <= MAX_TRACESTATE ? tracestate.trim() : '';
  return { traceparent: `00-${traceId}-${spanId}-${flags}`, tracestate: state };
}

/** Headers that carry a trace context on to an HTTP service. */
export function traceHeaders(trace?: TraceContext): Record<string, string> {
  if (!trace) return {};
  return trace.tracestate
    ? { traceparent: trace.traceparent, tracestate: trace.tracestate }
    : { traceparent: trace.traceparent };
}

/** A span for one call, and the trace context its work should carry. */
export interface CallSpan {
  /** What to hand to the tool: the span's own context when it records, else the caller's. */
  readonly trace?: TraceContext;
  /** Ends the span; with a message when the call failed. */
  end(failure?: string): void;
}

const NOT_RECORDING: CallSpan = { end() {} };

/** Starts a server span named `name`, child of the caller's context if it sent one. */
export function startCallSpan(
  name: string,
  incoming: TraceContext | undefined,
  attributes: Record<string, string>,
): CallSpan {
  const parent = incoming ? spanContextOf(incoming) : undefined;
  const ctx = parent ? trace.setSpanContext(context.active(), parent) : context.active();
  const span: Span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, ctx);
  if (!span.isRecording()) {
    span.end();
    return incoming ? { trace: incoming, end() {} } : NOT_RECORDING;
  }
  const own = span.spanContext();
  return {
    trace: { traceparent: formatTraceparent(own), tracestate: incoming?.tracestate ?? '' },
    end(failure) {
      if (failure !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      span.end();
    },
  };
}

function spanContextOf({ traceparent }: TraceContext): SpanContext {
  const [, traceId, spanId, flags] = traceparent.split('-');
  return { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) & TraceFlags.SAMPLED, isRemote: true };
}

function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
