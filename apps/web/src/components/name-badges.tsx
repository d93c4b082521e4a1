import { Badge, Group } from '@mantine/core';

/** A short list of names (groups, members, platforms) as badges, or a dash when there is none. */
export function NameBadges({ names, color = 'gray' }: { names: string[]; color?: string }) {
  if (names.length === 0) return <>—</>;
  return (
    <Group gap={4}>
      {names.map((name) => (
        <Badge key={name} variant="outline" color={color} tt="none">
          {name}
        </Badge>
      ))}
    </Group>
  );
}
