import { RegistryError } from './registry-error';

/**
 * Grammar from the distribution spec: a name is path components of lowercase alphanumerics
 * joined by `.`, `_`, `__` or runs of `-`, separated by `/`. Nothing that passes can contain
 * `..`, a leading `/` or any byte a filesystem would treat specially.
 */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
export const IMAGE_NAME = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** Repository keys: lowercase letters, digits, `.` and `-`, 1 to 64 characters. */
export const REPOSITORY_KEY = /^[a-z0-9](?:[a-z0-9.-]{0,62}[a-z0-9])?$/;
const MAX_IMAGE_NAME = 255;

export function isValidImageName(name: string): boolean {
  return name.length <= MAX_IMAGE_NAME && IMAGE_NAME.test(name);
}

export function assertImageName(name: string): string {
  if (!isValidImageName(name)) {
    throw new RegistryError('NAME_INVALID', `invalid image name "${name.slice(0, 260)}"`, {
      name: name.slice(0, 260),
      rule: 'lowercase path components [a-z0-9] separated by ".", "_", "__", "-" and "/", at most 255 characters',
    });
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

export function isValidRepositoryKey(key: string): boolean {
  return REPOSITORY_KEY.test(key) && !key.includes('..');
}
