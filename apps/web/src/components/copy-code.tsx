import { ActionIcon, Box, Code, CopyButton, Tooltip } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';

/** A command or value to copy: shown as code, with a labelled copy button. */
export function CopyCode({ value, label, block = true }: { value: string; label: string; block?: boolean }) {
  return (
    <Box pos="relative" display={block ? 'block' : 'inline-flex'} style={{ alignItems: 'center', gap: 4 }}>
      <Code block={block} pr={block ? 44 : undefined} style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
        {value}
      </Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? 'Copied' : 'Copy'} withArrow>
            <ActionIcon
              variant="subtle"
              color={copied ? 'teal' : 'gray'}
              onClick={copy}
              aria-label={`Copy ${label}`}
              pos={block ? 'absolute' : undefined}
              top={block ? 6 : undefined}
              right={block ? 6 : undefined}
            >
              {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Box>
  );
}
