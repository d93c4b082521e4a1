import { Injectable } from '@nestjs/common';
import { ImageQueries } from '@wharf/db';
import { PageRequest } from './docker-repository';

/** `/v2/_catalog`: every image of every repository, as `<repoKey>/<image>`. */
@Injectable()
export class CatalogService {
  constructor(private readonly images: ImageQueries) {}

  list(page: PageRequest): Promise<string[]> {
    return this.images.catalog(null, page);
  }
}
