import { Entity, PrimaryColumn } from 'typeorm';

@Entity('user_groups')
export class UserGroupEntity {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId: string;
}
