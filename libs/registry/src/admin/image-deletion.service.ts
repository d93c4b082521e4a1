import { BadRequestException, Injectable } from '@nestjs/common';
import { AccessControl, Principal } from '@wharf/auth';
import { isValidImageName, isValidTag } from '@wharf/oci';
import { DockerRepository } from '../docker-repository';
import { RepositoryResolver } from '../repository-resolver';

/**
 * The Docker v1 API's deletions, as Artifactory keeps them: an image with all its tags, or one
 * tag. Aliases of the registry's DELETEs over the same repository interface, so a virtual's go
 * to its deployment target and the push rules of the repository that holds the image apply.
 * Needs delete on the repository (without read: "not found").
 */
@Injectable()
export class ImageDeletionService {
  constructor(
    private readonly access: AccessControl,
    private readonly resolver: RepositoryResolver,
  ) {}

  async deleteImage(principal: Principal, key: string, image: string): Promise<void> {
    const repo = await this.writable(principal, key, image);
    await repo.deleteImage(image);
  }

  async deleteTag(principal: Principal, key: string, image: string, tag: string): Promise<void> {
    if (!isValidTag(tag)) throw new BadRequestException(`invalid tag "${tag.slice(0, 140)}": [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`);
    const repo = await this.writable(principal, key, image);
    await repo.deleteManifest(image, tag);
  }

  private async writable(principal: Principal, key: string, image: string): Promise<DockerRepository> {
    if (!isValidImageName(image)) throw new BadRequestException(`invalid image name "${image.slice(0, 140)}"`);
    await this.access.require(principal, key, 'delete');
    const repo = await this.resolver.resolve(key);
    repo.checkWriter(image, { accessToken: principal.tokenScope !== undefined });
    return repo;
  }
}
