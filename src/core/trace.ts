/**
 * W3C trace context (https://www.w3.org/TR/trace-context/) as it arrived with
 * the call. The core only carries it to the tool; src/tracing.ts parses it
 * and makes spans with the OpenTelemetry API.
 */
export interface TraceContext {
  /** "00-<trace id>-<parent span id>-<flags>", already validated. */
  readonly traceparent: string;
  /** Vendor data that travels with it; may be empty. */
  readonly tracestate: string;
}
