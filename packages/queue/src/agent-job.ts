import { z } from 'zod';

/** The events that start an agent run. */
export const agentEvents = ['issues.opened', 'issue_comment.created'] as const;
export type AgentEvent = (typeof agentEvents)[number];

/** Comments are trimmed to this before they go into a job: the job carries the trigger, not the payload. */
export const maxCommentChars = 8_000;

/**
 * What a job carries: enough to act on the right issue as the right installation, and the triggering
 * comment; never the whole webhook payload (it can be megabytes and holds data the agent does not need).
 */
export const agentJobDataSchema = z.strictObject({
  /** `X-GitHub-Delivery`: also the job id, so a redelivery cannot make a second job. */
  deliveryId: z.string().min(1).max(100),
  event: z.enum(agentEvents),
  installationId: z.number().int().positive(),
  repository: z.strictObject({
    owner: z.string().min(1).max(100),
    name: z.string().min(1).max(100),
  }),
  /** The issue or pull request number. */
  issueNumber: z.number().int().positive(),
  isPullRequest: z.boolean(),
  sender: z.strictObject({ login: z.string().min(1).max(100), type: z.string().max(20) }),
  comment: z
    .strictObject({
      id: z.number().int().positive(),
      body: z.string().max(maxCommentChars),
      author: z.string().max(100),
    })
    .optional(),
  /** When the intake accepted the delivery, ISO 8601. */
  receivedAt: z.iso.datetime(),
});

export type AgentJobData = z.infer<typeof agentJobDataSchema>;

export type ParsedJobData = { ok: true; data: AgentJobData } | { ok: false; problems: string[] };

/** Checks a job's data, e.g. one written by an older version or by hand; says what is wrong with it. */
export function parseAgentJobData(data: unknown): ParsedJobData {
  const result = agentJobDataSchema.safeParse(data);
  if (result.success) return { ok: true, data: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`),
  };
}
