/* Results and errors are cut to a size limit, with a note that says so. */

/** Kept at the end of a cut result or error, so a reader knows it is not the whole text. */
export function truncationNote(kept: number, total: number): string {
  return `\n…[truncated by TaskService: ${kept} of ${total} bytes kept]`;
}

/**
 * `text` cut to at most `maxBytes` of UTF-8 (marker included), never in the
 * middle of a character. Unchanged when it fits.
 */
export function capBytes(text: string, maxBytes: number): string {
  const total = Buffer.byteLength(text, 'utf8');
  if (total <= maxBytes) return text;
  const note = truncationNote(0, total);
  const room = Math.max(0, maxBytes - Buffer.byteLength(note, 'utf8') - 8);
  // Decoding a cut buffer can end in a partial character: drop it.
  const head = Buffer.from(text, 'utf8')
    .subarray(0, room)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
  return head + truncationNote(Buffer.byteLength(head, 'utf8'), total);
}

/** The longest prefix of `bytes` that is at most `maxBytes` long and ends on a character boundary. */
export function utf8Prefix(bytes: Buffer, maxBytes: number): Buffer {
  if (bytes.length <= maxBytes) return bytes;
  let end = Math.max(0, maxBytes);
  // A byte 10xxxxxx continues a character: step back to where one starts.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}
