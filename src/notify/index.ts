export { SlackNotifier, notifyFailureEvent, parseRetryAfter, describeFetchError } from './slack.js';
export type { NotifyFailure, NotifyFailureKind, SlackNotifierOptions } from './slack.js';
export { parseNotifySpec, createNotifier } from './spec.js';
export type { NotifyTarget, SlackTarget, CreateNotifierOptions } from './spec.js';
export { slackMessage, NOTIFIED_EVENTS } from './message.js';
export type { SlackPayload } from './message.js';
