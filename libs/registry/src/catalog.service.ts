import { Injectable } from '@nestjs/common';
import { ImageQueries } from '@wharf/db';
import { PageRequest } from './docker-repository';

/** `/v2/_catalog`: every image of every repository, as `<repoKey>/<image>`. */
@Injectable()
export class CatalogService {
  constructor(private readonly images: ImageQueries) {}

  /** Only images of `repositoryKeys`: the caller sees what it may read, nothing else. */
  list(page: PageRequest, repositoryKeys: string[]): Promise<string[]> {
    return this.images.catalog(null, page, repositoryKeys);
  }
}
