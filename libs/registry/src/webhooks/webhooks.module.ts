import { Module } from '@nestjs/common';
import { PullNotifier } from './pull-notifier';
import { WebhookAdminService } from './webhook-admin.service';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookSender } from './webhook-sender';

/**
 * Webhooks: their admin, the dispatcher that delivers them (on every host and worker), and the
 * pull events the registry's manifest GETs report. Query classes, SecretBox and the
 * configuration come from the global modules.
 */
@Module({
  providers: [WebhookAdminService, WebhookDispatcher, WebhookSender, PullNotifier],
  exports: [WebhookAdminService, PullNotifier],
})
export class WebhooksModule {}
