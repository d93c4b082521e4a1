import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { PermissionView, PermissionsService, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiPasswordLogin } from '../http/api-security.decorator';
import { PermissionDto } from './permission.dto';
import { PermissionViewDto } from './permission-view.dto';

@ApiTags('security')
@ApiPasswordLogin()
@Controller('api/security/permissions')
export class PermissionsController {
  constructor(private readonly permissions: PermissionsService) {}

  @Get()
  @ApiOperation({ summary: 'List permissions (admins)' })
  @ApiOkResponse({ type: PermissionViewDto, isArray: true })
  @ApiProblems(401, 403, 429)
  list(@CurrentPrincipal() principal: Principal): Promise<PermissionView[]> {
    return this.permissions.list(principal);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a permission (admins)' })
  @ApiOkResponse({ type: PermissionViewDto })
  @ApiProblems(401, 403, 404, 429)
  get(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<PermissionView> {
    return this.permissions.get(principal, name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Create or replace a permission (admins)' })
  @ApiCreatedResponse({ type: PermissionViewDto, description: 'Created' })
  @ApiOkResponse({ type: PermissionViewDto, description: 'Replaced' })
  @ApiProblems(400, 401, 403, 415, 429)
  async replace(
    @CurrentPrincipal() principal: Principal,
    @Param('name') name: string,
    @Body() body: PermissionDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PermissionView> {
    const { created, permission } = await this.permissions.replace(principal, name, body);
    res.status(created ? 201 : 200);
    return permission;
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a permission (admins)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404, 429)
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.permissions.delete(principal, name);
  }
}
