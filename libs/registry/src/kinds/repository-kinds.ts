import { BadRequestException, Injectable } from '@nestjs/common';
import { RepositoryClass } from '@wharf/db';
import { LocalKind } from './local-kind';
import { RemoteKind } from './remote-kind';
import { RepositoryFields, RepositoryKind } from './repository-kind';
import { VirtualKind } from './virtual-kind';

/** The one place that knows every repository kind: everything else asks it for a kind's definition. */
@Injectable()
export class RepositoryKinds {
  private readonly kinds: Record<RepositoryClass, RepositoryKind>;

  constructor(local: LocalKind, remote: RemoteKind, virtual: VirtualKind) {
    this.kinds = { local, remote, virtual };
  }

  get(rclass: RepositoryClass): RepositoryKind {
    const kind = this.kinds[rclass];
    if (!kind) throw new BadRequestException(`rclass must be one of ${Object.keys(this.kinds).join(', ')}`);
    return kind;
  }

  /** Refuses fields that belong to other kinds only, naming them and the kinds they are for. */
  checkFieldsFit(rclass: RepositoryClass, fields: RepositoryFields): void {
    const own = new Set<string>(this.get(rclass).fields);
    for (const kind of Object.values(this.kinds)) {
      const misplaced = kind.fields.filter((field) => !own.has(field) && fields[field] !== undefined);
      if (misplaced.length) throw new BadRequestException(`${misplaced.join(', ')} apply to ${kind.rclass} repositories only, not to ${rclass} ones`);
    }
  }
}
