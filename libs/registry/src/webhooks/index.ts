export * from './webhooks.module';
export * from './webhook-admin.service';
export * from './pull-notifier';
export { ENVELOPE_MEDIA_TYPE, type EnvelopeEvent } from './webhook-envelope';
export { signature } from './webhook-sender';
