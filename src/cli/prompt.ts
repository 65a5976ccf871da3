import { createInterface, type Interface } from 'node:readline';

interface Question {
  id: string;
  message: string;
  schemaJson: string;
}

/**
 * Asks a task's question on a terminal while `taskservice await` follows the
 * task: the typed line becomes the answer (ProvideInput). One question at a
 * time; a question answered elsewhere (or a task that ended) closes the prompt.
 */
export class QuestionPrompt {
  private line?: Interface;
  private asked?: string;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly out: NodeJS.WriteStream,
    private readonly answer: (inputRequestId: string, value: object) => Promise<unknown>,
  ) {}

  get open(): boolean {
    return this.line !== undefined;
  }

  show(question: Question): void {
    if (this.asked === question.id) return;
    this.close();
    this.asked = question.id;
    const line = createInterface({ input: this.input, output: this.out, terminal: true });
    this.line = line;
    const ask = () =>
      line.question('answer> ', (text) => {
        let value: object;
        try {
          value = answerFromLine(text, question.schemaJson);
        } catch (err) {
          this.out.write(`${(err as Error).message}\n`);
          ask();
          return;
        }
        this.answer(question.id, value).then(
          () => this.close(),
          (err: Error) => {
            this.out.write(`${err.message}\n`);
            if (this.line === line) ask();
          },
        );
      });
    ask();
  }

  close(): void {
    this.line?.close();
    this.line = undefined;
  }
}

/**
 * A typed line as an answer: a JSON object as it is; for a schema of one
 * string property (like the `ask` tool's), plain text fills that property;
 * for one boolean property, yes/no. Anything else must be JSON.
 */
export function answerFromLine(line: string, schemaJson: string): object {
  const text = line.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as object;
    } catch {
      throw new Error('that is not valid JSON; answer with a JSON object');
    }
  }
  const schema = JSON.parse(schemaJson) as { properties?: Record<string, { type?: string }> };
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 1) {
    const [name, { type }] = properties[0]!;
    if (type === 'string') return { [name]: text };
    if (type === 'boolean' && /^(y|yes|true)$/i.test(text)) return { [name]: true };
    if (type === 'boolean' && /^(n|no|false)$/i.test(text)) return { [name]: false };
  }
  throw new Error(`answer with a JSON object matching the schema: ${schemaJson}`);
}
