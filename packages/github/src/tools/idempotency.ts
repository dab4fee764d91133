/** The idempotency key of a tool call: the job, the call's position in the agent run, and the tool. */
export function idempotencyKey(jobId: string, callIndex: number, tool: string): string {
  return `${jobId}:${callIndex}:${tool}`;
}

const markerPattern = /\n*<!-- runner:idempotency-key=([^\s>]+) -->\s*$/;

/**
 * The invisible marker a comment carries, so that after an ambiguous failure (the POST may have landed)
 * the tool can find the comment it already made instead of posting it again.
 */
export function commentMarker(key: string): string {
  return `\n\n<!-- runner:idempotency-key=${key} -->`;
}

/** The comment body without our marker, as people (and the model) read it. */
export function withoutMarker(body: string): string {
  return body.replace(markerPattern, '');
}

export function hasMarker(body: string | null | undefined, key: string): boolean {
  return markerPattern.exec(body ?? '')?.[1] === key;
}
