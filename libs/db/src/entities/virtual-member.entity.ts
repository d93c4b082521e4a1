import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One member of a virtual repository, at its place in the resolution order. */
@Entity('virtual_members')
export class VirtualMemberEntity {
  @PrimaryColumn({ name: 'virtual_id', type: 'uuid' })
  virtualId: string;

  @PrimaryColumn({ name: 'member_id', type: 'uuid' })
  memberId: string;

  @Column({ type: 'integer' })
  position: number;
}
