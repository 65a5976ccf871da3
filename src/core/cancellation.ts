/**
 * What the core needs to know of a caller going away: whether it has, and a
 * listener for when it does. An AbortSignal is one; the gRPC layer passes a
 * lighter one per call (src/grpc/call-cancellation.ts), because an
 * AbortController per stream was a measured share of a lifecycle's CPU and
 * of the young garbage that a thousand open streams keep alive.
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}
