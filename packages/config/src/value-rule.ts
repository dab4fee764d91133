import type { z } from 'zod';

/** How one variable's text is checked and turned into a value, and what to tell people when it is wrong. */
export interface ValueRule<T> {
  /** Parses the raw text. For a secret rule, every issue must carry a custom message, as it is shown. */
  schema: z.ZodType<T, string>;
  /** Completes "NAME: expected …": what the variable takes and a hint of how to get it right. */
  expects: string;
  /**
   * A secret's value never appears in a problem, not even in part: the message says how long it was
   * and what is wrong with it (the schema's issue message), e.g. "that is not a PEM private key".
   */
  secret: boolean;
  /** How a non-secret value is quoted in a problem, when the raw text may hold credentials. */
  show?: (raw: string) => string;
}
