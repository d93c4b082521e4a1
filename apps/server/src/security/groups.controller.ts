import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { GroupView, GroupsService, Principal } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiPasswordLogin } from '../http/api-security.decorator';
import { GroupDto } from './group.dto';
import { GroupViewDto } from './group-view.dto';

@ApiTags('security')
@ApiPasswordLogin()
@Controller('api/security/groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Get()
  @ApiOperation({ summary: 'List groups with their members (admins)' })
  @ApiOkResponse({ type: GroupViewDto, isArray: true })
  @ApiProblems(401, 403, 429)
  list(@CurrentPrincipal() principal: Principal): Promise<GroupView[]> {
    return this.groups.list(principal);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a group (admins)' })
  @ApiOkResponse({ type: GroupViewDto })
  @ApiProblems(401, 403, 404, 429)
  get(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<GroupView> {
    return this.groups.get(principal, name);
  }

  @Put(':name')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a group (admins)' })
  @ApiCreatedResponse({ type: GroupViewDto })
  @ApiProblems(400, 401, 403, 409, 415, 429)
  create(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Body() body: GroupDto): Promise<GroupView> {
    return this.groups.create(principal, name, body);
  }

  @Post(':name')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a group (admins)' })
  @ApiOkResponse({ type: GroupViewDto })
  @ApiProblems(400, 401, 403, 404, 415, 429)
  update(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Body() body: GroupDto): Promise<GroupView> {
    return this.groups.update(principal, name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a group with its memberships and grants (admins)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404, 429)
  delete(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    return this.groups.delete(principal, name);
  }
}
