import { type AgentJobData, maxCommentChars, validateJobData } from '@runner/queue';
import { isBotUser, mentionsApp } from './comment-trigger.ts';
import { BadDeliveryError } from './intake-error.ts';
import { isJsonObject, type JsonObject, readPositiveInteger, readString } from './payload-fields.ts';

/** A verified delivery: its headers and parsed body. */
export interface Delivery {
  /** `X-GitHub-Event`, e.g. `issues`. */
  event: string;
  /** `X-GitHub-Delivery`: becomes the job id. */
  deliveryId: string;
  /** The parsed JSON body. */
  payload: unknown;
}

export interface DeliveryToJobOptions {
  /** The App's slug: comments must mention `@<appSlug>`. */
  appSlug: string;
  /** When the intake accepted the delivery; the job's `receivedAt`. */
  receivedAt: Date;
}

/** What to do with a delivery: enqueue this job, or answer 200 and do nothing, saying why. */
export type DeliveryDecision = { kind: 'job'; data: AgentJobData } | { kind: 'ignored'; reason: string };

/**
 * Turns a delivery into the job it asks for, or says why it asks for none. Jobs come from `issues`
 * `opened`, and from `issue_comment` `created` when a person (not a bot, not the App itself) mentions
 * `@<appSlug>`. Everything else (`ping`, other events, other actions) is ignored.
 * @throws BadDeliveryError (400) when the event header does not match the payload's shape, or a field
 *   the job needs is missing or malformed; the message names the field.
 */
export function deliveryToJob(delivery: Delivery, options: DeliveryToJobOptions): DeliveryDecision {
  const { event, payload } = delivery;
  if (!isJsonObject(payload)) throw new BadDeliveryError('the body is not a JSON object');
  switch (event) {
    case 'ping':
      return { kind: 'ignored', reason: 'ping' };
    case 'issues': {
      assertShape(event, payload);
      const action = readString(payload, 'action');
      if (action !== 'opened') return ignoredAction(event, action);
      return { kind: 'job', data: jobData(delivery, payload, 'issues.opened', undefined, options) };
    }
    case 'issue_comment': {
      assertShape(event, payload);
      const action = readString(payload, 'action');
      if (action !== 'created') return ignoredAction(event, action);
      const author = {
        login: readString(payload, 'comment.user.login'),
        type: readString(payload, 'comment.user.type'),
      };
      if (isBotUser(author)) return { kind: 'ignored', reason: `comment by a bot (${author.login})` };
      const body = readString(payload, 'comment.body', { allowEmpty: true });
      if (!mentionsApp(body, options.appSlug)) {
        return { kind: 'ignored', reason: `comment does not mention @${options.appSlug}` };
      }
      const comment = {
        id: readPositiveInteger(payload, 'comment.id'),
        body: truncate(body, maxCommentChars),
        author: author.login,
      };
      return { kind: 'job', data: jobData(delivery, payload, 'issue_comment.created', comment, options) };
    }
    default:
      return { kind: 'ignored', reason: `event ${event} does not start a job` };
  }
}

/**
 * GitHub signs the body but not the headers, so a captured `issue_comment` body could be replayed as an
 * `issues` event (or the reverse) under a valid signature. The event must match what the body holds.
 */
function assertShape(event: 'issues' | 'issue_comment', payload: JsonObject): void {
  const hasIssue = isJsonObject(payload.issue);
  const fits =
    event === 'issues'
      ? hasIssue && payload.comment === undefined
      : hasIssue && isJsonObject(payload.comment);
  if (!fits)
    throw new BadDeliveryError(`X-GitHub-Event says ${event} but the payload is not an ${event} event`);
}

function ignoredAction(event: string, action: string): DeliveryDecision {
  return { kind: 'ignored', reason: `${event}.${action} does not start a job` };
}

function jobData(
  delivery: Delivery,
  payload: JsonObject,
  event: AgentJobData['event'],
  comment: AgentJobData['comment'],
  options: DeliveryToJobOptions,
): AgentJobData {
  const data: AgentJobData = {
    deliveryId: delivery.deliveryId,
    event,
    installationId: readPositiveInteger(payload, 'installation.id'),
    repository: {
      owner: readString(payload, 'repository.owner.login'),
      name: readString(payload, 'repository.name'),
    },
    issueNumber: readPositiveInteger(payload, 'issue.number'),
    // Pull requests are issues to this API; GitHub marks them with `issue.pull_request`.
    isPullRequest: isJsonObject(payload.issue) && payload.issue.pull_request != null,
    sender: { login: readString(payload, 'sender.login'), type: readString(payload, 'sender.type') },
    ...(comment === undefined ? {} : { comment }),
    receivedAt: options.receivedAt.toISOString(),
  };
  // The job schema's own limits (lengths), so a delivery it would refuse gets a 400 rather than a 503;
  // enqueueDelivery knows the result and does not check it again.
  const parsed = validateJobData(data);
  if (!parsed.ok)
    throw new BadDeliveryError(`the delivery does not fit a job: ${parsed.problems.join('; ')}`);
  return parsed.data;
}

/** The first `maxChars` UTF-16 units, without cutting a surrogate pair (an emoji) in half. */
export function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const last = text.charCodeAt(maxChars - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? maxChars - 1 : maxChars);
}
