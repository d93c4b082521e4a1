import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { GroupView, GroupsService, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { GroupDto } from './group.dto';

@ApiTags('security')
@Controller('api/security/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ApiOperation({ summary: 'List groups with their members (admins)' })
  list(@CurrentPrincipal() principal: Principal): Promise<GroupView[]> {
    return this.groups.list(principal);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a group (admins)' })
  get(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<GroupView> {
    return this.groups.get(principal, name);
  }

  @Put(':name')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a group (admins)' })
  create(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Body() body: GroupDto): Promise<GroupView> {
    return this.groups.create(principal, name, body);
  }

  @Post(':name')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a group (admins)' })
  update(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Body() body: GroupDto): Promise<GroupView> {
    return this.groups.update(principal, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a group with its memberships and grants (admins)' })
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.groups.delete(principal, name);
  }
}
