import { PermanentDeliveryError, RetryableDeliveryError } from './platform-adapter.js';

/** How much of a failing response's body goes into last_error. */
const BODY_EXCERPT = 200;

/**
 * POSTs a body and classifies the answer: 2xx succeeds; 408, 425, 429 and
 * 5xx are retryable (429 and 503 with their Retry-After); other statuses are
 * permanent. Network errors and timeouts reject as themselves (retryable).
 */
export async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  what: string,
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal,
  });
  // Read the body so the connection can be reused, but keep only a little of it.
  const excerpt = (await response.text()).slice(0, BODY_EXCERPT);
  if (response.ok) return;
  const detail = `HTTP ${response.status} from ${what}${excerpt ? `: ${excerpt}` : ''}`;
  const { status } = response;
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    throw new RetryableDeliveryError(detail, retryAfterMs(response.headers.get('retry-after')));
  }
  throw new PermanentDeliveryError(detail);
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** `{channel_id}` in a URL template becomes the URL-encoded channel id. */
export function channelUrl(template: string, channelId: string): string {
  return template.replaceAll('{channel_id}', encodeURIComponent(channelId));
}
