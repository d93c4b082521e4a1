import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, UserView, UsersService } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { ApiProblems } from '../http/api-problems.decorator';
import { ApiPasswordLogin } from '../http/api-security.decorator';
import { UserCreateDto, UserUpdateDto } from './user.dto';
import { UserViewDto } from './user-view.dto';

@ApiTags('security')
@Controller('api/security/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'List users (admins)' })
  @ApiPasswordLogin()
  @ApiOkResponse({ type: UserViewDto, isArray: true })
  @ApiProblems(401, 403, 429)
  list(@CurrentPrincipal() principal: Principal): Promise<UserView[]> {
    return this.users.list(principal);
  }

  @Get(':username')
  @ApiOperation({ summary: 'Get a user (admins, or the user themselves)' })
  @ApiOkResponse({ type: UserViewDto })
  @ApiProblems(401, 403, 404, 429)
  get(@CurrentPrincipal() principal: Principal, @Param('username') username: string): Promise<UserView> {
    return this.users.get(principal, username);
  }

  @Put(':username')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user (admins)' })
  @ApiPasswordLogin()
  @ApiCreatedResponse({ type: UserViewDto })
  @ApiProblems(400, 401, 403, 409, 415, 429)
  create(@CurrentPrincipal() principal: Principal, @Param('username') username: string, @Body() body: UserCreateDto): Promise<UserView> {
    return this.users.create(principal, username, body);
  }

  @Post(':username')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a user (admins; users may change their own email)' })
  @ApiPasswordLogin()
  @ApiOkResponse({ type: UserViewDto })
  @ApiProblems(400, 401, 403, 404, 415, 429)
  update(@CurrentPrincipal() principal: Principal, @Param('username') username: string, @Body() body: UserUpdateDto): Promise<UserView> {
    return this.users.update(principal, username, body);
  }

  @Delete(':username')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user with its access tokens, memberships and grants (admins; not oneself)' })
  @ApiPasswordLogin()
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404, 429)
  delete(@CurrentPrincipal() principal: Principal, @Param('username') username: string): Promise<void> {
    return this.users.delete(principal, username);
  }
}
