import { BadRequestException } from '@nestjs/common';
import { RepositoryAction } from '@wharf/db';
import { REPOSITORY_ACTIONS } from '../repository-actions';

/** Repository keys (lowercase letters, digits, ".", "-") with `*` wildcards, e.g. `docker-*`. */
const REPOSITORY_PATTERN = /^[a-z0-9.*-]{1,64}$/;

/** The patterns, deduplicated; 400 naming the first bad one. */
export function checkRepositoryPatterns(patterns: string[], field: string): string[] {
  if (patterns.length === 0) throw new BadRequestException(`${field} must name at least one repository key or pattern`);
  for (const pattern of patterns) {
    if (typeof pattern !== 'string' || !REPOSITORY_PATTERN.test(pattern)) {
      throw new BadRequestException(`${field}: "${String(pattern).slice(0, 80)}" is not a repository key or pattern (lowercase letters, digits, ".", "-" and "*", at most 64)`);
    }
  }
  return [...new Set(patterns)];
}

/** The actions in canonical order, deduplicated; 400 naming a bad one and where it was. */
export function checkActions(actions: unknown, where: string): RepositoryAction[] {
  if (!Array.isArray(actions)) throw new BadRequestException(`${where}: actions must be an array of ${REPOSITORY_ACTIONS.join(', ')}`);
  for (const action of actions) {
    if (!REPOSITORY_ACTIONS.includes(action)) {
      throw new BadRequestException(`${where}: action "${String(action).slice(0, 40)}" is not one of ${REPOSITORY_ACTIONS.join(', ')}`);
    }
  }
  return REPOSITORY_ACTIONS.filter((a) => actions.includes(a));
}
