import { type TaskRecord, TaskStatus } from '../core/task.js';

export const TRUNCATION_MARKER = '… [truncated]';

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cuts `text` to at most `maxChars` characters (Unicode code points), marker
 * included, at a grapheme boundary: an emoji, a CJK character or a letter with
 * its combining marks is kept whole or dropped whole, never split.
 */
export function truncate(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (codePoints(text) <= maxChars) return { text, truncated: false };
  const room = maxChars - codePoints(TRUNCATION_MARKER);
  if (room <= 0) return { text: [...TRUNCATION_MARKER].slice(0, maxChars).join(''), truncated: true };
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = codePoints(segment);
    if (used + size > room) break;
    kept += segment;
    used += size;
  }
  return { text: kept + TRUNCATION_MARKER, truncated: true };
}

/**
 * Cuts `text` into pieces of at most `maxChars` code points, at grapheme
 * boundaries, preferring to end a piece after a line break in its second half.
 */
export function splitText(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let size = 0;
  let lastBreak = -1; // length of `piece` just after its last newline
  for (const { segment } of graphemes.segment(text)) {
    const n = codePoints(segment);
    if (size + n > maxChars && piece) {
      const cut = lastBreak > piece.length / 2 ? lastBreak : piece.length;
      pieces.push(piece.slice(0, cut));
      piece = piece.slice(cut);
      size = codePoints(piece);
      lastBreak = -1;
    }
    piece += segment;
    size += n;
    if (segment.includes('\n')) lastBreak = piece.length;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** The message text posted for a finished task: a header line, then the result or the error. */
export function formatResult(task: TaskRecord): string {
  const header = `[${task.toolName}] task ${task.taskId} ${task.status}`;
  if (task.status === TaskStatus.Completed) return `${header}:\n${task.result ?? ''}`;
  return `${header} (${task.failureReason}):\n${task.error ?? ''}`;
}

/** A question of a task waiting for input, for a person in the channel: what is asked and how to answer. */
export function formatQuestion(task: TaskRecord): string {
  const question = task.inputRequest!;
  return (
    `[${task.toolName}] task ${task.taskId} asks:\n${question.message}\n\n` +
    `Answer with ProvideInput (task_id ${task.taskId}, input_request_id ${question.id}), ` +
    `a JSON object matching: ${question.schemaJson}`
  );
}
