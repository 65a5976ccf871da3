/**
 * Checks answers to a tool's question against the JSON Schema it asked with.
 * A port: the core knows no JSON Schema library; src/tools/schema.ts
 * implements it with the Ajv instance that checks tool arguments.
 */
export interface AnswerSchemas {
  /** Why `schemaJson` cannot be the schema of an answer (not JSON, not a schema, not of an object). */
  schemaProblem(schemaJson: string): string | undefined;
  /** Why `answer` does not match `schemaJson`, naming the field; undefined when it matches. */
  answerProblem(schemaJson: string, answer: Record<string, unknown>): string | undefined;
}

/** For core tests without a schema library: any object schema, any object answer. */
export const ANY_ANSWER: AnswerSchemas = {
  schemaProblem: (schemaJson) => (schemaJson.startsWith('{') ? undefined : 'must be a JSON Schema object'),
  answerProblem: () => undefined,
};
