import { Module } from '@nestjs/common';
import { WebhooksModule } from '@wharf/registry';
import { WebhooksController } from './webhooks.controller';

/** /api/webhooks; also hands the registry handlers the pull events (WebhooksModule's PullNotifier). */
@Module({
  imports: [WebhooksModule],
  controllers: [WebhooksController],
  exports: [WebhooksModule],
})
export class WebhooksApiModule {}
