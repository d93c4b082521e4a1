import { Anchor, Breadcrumbs } from '@mantine/core';
import { Link } from 'react-router';
import { imagePath } from '../format';

export function ImageBreadcrumbs({ repoKey, image, reference }: { repoKey: string; image: string; reference?: string }) {
  const items = [
    { label: 'Repositories', to: '/repositories' },
    { label: repoKey, to: `/repositories/${encodeURIComponent(repoKey)}` },
    ...(reference ? [{ label: image, to: imagePath(repoKey, image) }] : []),
  ];
  return (
    <Breadcrumbs aria-label="Breadcrumb">
      {items.map((item) => (
        <Anchor key={item.to} component={Link} to={item.to} size="sm">
          {item.label}
        </Anchor>
      ))}
    </Breadcrumbs>
  );
}
