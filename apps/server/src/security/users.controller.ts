import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Principal, UserView, UsersService } from '@wharf/auth';
import { CurrentPrincipal } from '../auth/current-principal.decorator';
import { UserCreateDto, UserUpdateDto } from './user.dto';

@ApiTags('security')
@Controller('api/security/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'List users (admins)' })
  list(@CurrentPrincipal() principal: Principal): Promise<UserView[]> {
    return this.users.list(principal);
  }

  @Get(':username')
  @ApiOperation({ summary: 'Get a user (admins, or the user themselves)' })
  get(@CurrentPrincipal() principal: Principal, @Param('username') username: string): Promise<UserView> {
    return this.users.get(principal, username);
  }

  @Put(':username')
  @HttpCode(201)
  @ApiOperation({ summary: 'Create a user (admins)' })
  create(@CurrentPrincipal() principal: Principal, @Param('username') username: string, @Body() body: UserCreateDto): Promise<UserView> {
    return this.users.create(principal, username, body);
  }

  @Post(':username')
  @HttpCode(200)
  @ApiOperation({ summary: 'Update a user (admins; users may change their own email)' })
  update(@CurrentPrincipal() principal: Principal, @Param('username') username: string, @Body() body: UserUpdateDto): Promise<UserView> {
    return this.users.update(principal, username, body);
  }

  @Delete(':username')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user with its access tokens, memberships and grants (admins; not oneself)' })
  delete(@CurrentPrincipal() principal: Principal, @Param('username') username: string): Promise<void> {
    return this.users.delete(principal, username);
  }
}
