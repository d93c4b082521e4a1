import { Badge } from '@mantine/core';
import type { RepositoryClass } from '../api/types';

const COLORS: Record<RepositoryClass, string> = { local: 'indigo', remote: 'teal', virtual: 'grape' };

export function KindBadge({ kind }: { kind: RepositoryClass }) {
  return (
    <Badge color={COLORS[kind]} variant="light">
      {kind}
    </Badge>
  );
}
