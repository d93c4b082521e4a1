import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { Principal } from '@wharf/auth';
import { DeliveryPage, DeliveryView, WebhookAdminService, WebhookView } from '@wharf/registry';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiPasswordLogin } from '../http/api-security.decorator';
import { DeliveryListQuery, DeliveryPageDto, DeliveryViewDto, WebhookDto, WebhookViewDto } from './webhook.dto';
import { DeliveryIdPipe } from './delivery-id.pipe';

@ApiTags('webhooks')
@ApiPasswordLogin()
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhookAdminService) {}

  @Get()
  @ApiOperation({ summary: 'List webhooks (admins); secrets are never shown' })
  @ApiOkResponse({ type: WebhookViewDto, isArray: true })
  @ApiProblems(401, 403, 429)
  list(@CurrentPrincipal() principal: Principal): Promise<WebhookView[]> {
    return this.webhooks.list(principal);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a webhook (admins)' })
  @ApiOkResponse({ type: WebhookViewDto })
  @ApiProblems(401, 403, 404, 429)
  get(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<WebhookView> {
    return this.webhooks.get(principal, name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Create or replace a webhook (admins): the events it wants, of which repositories, where, signed with which secret' })
  @ApiCreatedResponse({ type: WebhookViewDto, description: 'Created' })
  @ApiOkResponse({ type: WebhookViewDto, description: 'Replaced' })
  @ApiProblems(400, 401, 403, 415, 429)
  async replace(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Body() body: WebhookDto, @Res({ passthrough: true }) res: Response): Promise<WebhookView> {
    const { created, webhook } = await this.webhooks.replace(principal, name, body);
    res.status(created ? 201 : 200);
    return webhook;
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook with its delivery log (admins)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404, 429)
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.webhooks.delete(principal, name);
  }

  @Get(':name/deliveries')
  @ApiOperation({ summary: "A webhook's deliveries, newest first: status, attempts, the receiver's last answer or error (admins)" })
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiProblems(400, 401, 403, 404, 429)
  deliveries(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Query() query: DeliveryListQuery): Promise<DeliveryPage> {
    return this.webhooks.deliveryLog(principal, name, query);
  }

  @Get(':name/deliveries/:id')
  @ApiOperation({ summary: 'One delivery (admins)' })
  @ApiOkResponse({ type: DeliveryViewDto })
  @ApiProblems(400, 401, 403, 404, 429)
  delivery(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Param('id', DeliveryIdPipe) id: string): Promise<DeliveryView> {
    return this.webhooks.delivery(principal, name, id);
  }

  @Post(':name/deliveries/:id/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a delivery again, whatever became of it: due at once, with a fresh day of retries (admins)' })
  @ApiAcceptedResponse({ type: DeliveryViewDto })
  @ApiProblems(400, 401, 403, 404, 429)
  redeliver(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Param('id', DeliveryIdPipe) id: string): Promise<DeliveryView> {
    return this.webhooks.redeliver(principal, name, id);
  }
}
