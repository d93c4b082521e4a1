import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Response } from 'express';
import { PermissionView, PermissionsService, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { PermissionDto } from './permission.dto';

@ApiTags('security')
@Controller('api/security/permissions')
export class PermissionsController {
  constructor(private readonly permissions: PermissionsService) {}

  @Get()
  @ApiOperation({ summary: 'List permissions (admins)' })
  list(@CurrentPrincipal() principal: Principal): Promise<PermissionView[]> {
    return this.permissions.list(principal);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a permission (admins)' })
  get(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<PermissionView> {
    return this.permissions.get(principal, name);
  }

  @Put(':name')
  @ApiOperation({ summary: 'Create or replace a permission (admins)' })
  @ApiResponse({ status: 201, description: 'Created' })
  @ApiResponse({ status: 200, description: 'Replaced' })
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
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.permissions.delete(principal, name);
  }
}
