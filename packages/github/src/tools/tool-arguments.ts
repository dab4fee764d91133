import { z } from 'zod';

export type ParsedArguments<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses and checks a model's tool arguments against the tool's schema. Never throws: a model that sends
 * bad arguments gets a tool error it can read and correct.
 */
export function parseToolArguments<T>(tool: string, schema: z.ZodType<T>, raw: string): ParsedArguments<T> {
  let json: unknown;
  try {
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return {
      ok: false,
      error: `${tool}: arguments are not valid JSON; send an object matching the tool's schema`,
    };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : 'arguments';
    return `${where}: ${issue.message}`;
  });
  return { ok: false, error: `${tool}: invalid arguments (${problems.join('; ')})` };
}

/** The JSON Schema the model sees, from the same zod schema that checks its arguments. */
export function toParameters(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...parameters } = z.toJSONSchema(schema) as Record<string, unknown>;
  return parameters;
}

/** A tool message saying what went wrong, for the model. */
export function toolError(message: string): string {
  return JSON.stringify({ error: message });
}
