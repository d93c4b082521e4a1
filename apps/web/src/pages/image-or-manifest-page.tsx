import { useParams } from 'react-router';
import { parseImageReference } from '../format';
import { ImagePage } from './image-page';
import { ManifestPage } from './manifest-page';

/** `/repositories/<key>/images/<image>[:tag|@digest]`: the image's tags, or one manifest. */
export function ImageOrManifestPage() {
  const params = useParams();
  const { image, reference } = parseImageReference(params['*'] ?? '');
  return reference ? <ManifestPage repoKey={params.key!} image={image} reference={reference} /> : <ImagePage repoKey={params.key!} image={image} />;
}
