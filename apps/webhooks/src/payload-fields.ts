import { BadDeliveryError } from './intake-error.ts';

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at a dotted path such as `repository.owner.login`; undefined when any step is missing. */
export function valueAt(payload: JsonObject, path: string): unknown {
  let value: unknown = payload;
  for (const key of path.split('.')) {
    if (!isJsonObject(value)) return undefined;
    value = value[key];
  }
  return value;
}

/** "a string", "null", "an array": what a field held, said without quoting it (it may be huge). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function fieldProblem(path: string, expected: string, value: unknown): BadDeliveryError {
  return new BadDeliveryError(
    value === undefined
      ? `payload.${path} is missing`
      : `payload.${path} must be ${expected}, got ${kindOf(value)}`,
  );
}

/**
 * The string at `path`.
 * @throws BadDeliveryError naming the field when it is missing, not a string, or empty (unless allowed).
 */
export function readString(
  payload: JsonObject,
  path: string,
  options: { allowEmpty?: boolean } = {},
): string {
  const value = valueAt(payload, path);
  if (typeof value === 'string' && (value !== '' || options.allowEmpty === true)) return value;
  throw fieldProblem(path, options.allowEmpty === true ? 'a string' : 'a non-empty string', value);
}

/**
 * The positive whole number at `path`.
 * @throws BadDeliveryError naming the field when it is missing or not a positive integer.
 */
export function readPositiveInteger(payload: JsonObject, path: string): number {
  const value = valueAt(payload, path);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  throw fieldProblem(path, 'a positive integer', value);
}
