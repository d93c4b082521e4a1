import { DndContext, DragEndEvent, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors } from '@dnd-kit/core';
import { SortableContext, arrayMove, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { ActionIcon, Group, Paper, Stack, Text } from '@mantine/core';
import { IconGripVertical, IconX } from '@tabler/icons-react';

/**
 * A virtual repository's members in resolution order: drag a row by its handle, or focus the
 * handle and use space and the arrow keys (dnd-kit's keyboard sensor announces the moves).
 */
export function MemberOrder({ members, onChange }: { members: string[]; onChange(members: string[]): void }) {
  const sensors = useSensors(useSensor(PointerSensor), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));

  function dragEnd({ active, over }: DragEndEvent) {
    if (over && active.id !== over.id) onChange(arrayMove(members, members.indexOf(String(active.id)), members.indexOf(String(over.id))));
  }

  if (members.length === 0) return <Text c="gray.7">No members yet: add repositories below.</Text>;
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={dragEnd}>
      <SortableContext items={members} strategy={verticalListSortingStrategy}>
        <Stack gap={6} aria-label="Members in resolution order" role="list">
          {members.map((member, index) => (
            <Member key={member} member={member} position={index + 1} onRemove={() => onChange(members.filter((m) => m !== member))} />
          ))}
        </Stack>
      </SortableContext>
    </DndContext>
  );
}

function Member({ member, position, onRemove }: { member: string; position: number; onRemove(): void }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: member });
  return (
    <Paper
      ref={setNodeRef}
      withBorder
      p={6}
      role="listitem"
      data-member={member}
      style={{ transform: CSS.Transform.toString(transform), transition, opacity: isDragging ? 0.6 : 1 }}
    >
      <Group justify="space-between" wrap="nowrap">
        <Group gap="xs" wrap="nowrap">
          <ActionIcon variant="subtle" color="gray" aria-label={`Move ${member}`} style={{ cursor: 'grab' }} {...attributes} {...listeners}>
            <IconGripVertical size={16} />
          </ActionIcon>
          <Text size="sm" c="gray.7" w={20}>
            {position}.
          </Text>
          <Text fw={600}>{member}</Text>
        </Group>
        <ActionIcon variant="subtle" color="red" aria-label={`Remove ${member}`} onClick={onRemove}>
          <IconX size={16} />
        </ActionIcon>
      </Group>
    </Paper>
  );
}
