export { isBotUser, mentionsApp, type PayloadUser } from './comment-trigger.ts';
export { createIntake, defaultIntakeOptions, type IntakeOptions } from './create-intake.ts';
export {
  type Delivery,
  type DeliveryDecision,
  type DeliveryToJobOptions,
  deliveryToJob,
} from './delivery-to-job.ts';
export { EnqueueTimeoutError } from './enqueue-deadline.ts';
export type { Enqueue } from './handle-webhook.ts';
export {
  BadDeliveryError,
  BodyTimeoutError,
  BodyTooLargeError,
  IntakeError,
  type IntakeErrorCode,
  QueueUnavailableError,
  RequestAbortedError,
  SignatureError,
} from './intake-error.ts';
export { createIntakeLogger, type IntakeLogger, redactPaths } from './intake-logger.ts';
export {
  defaultStartIntakeOptions,
  type RunningIntake,
  type StartIntakeOptions,
  startIntake,
} from './start-intake.ts';
export { signBody, verifySignature } from './verify-signature.ts';
