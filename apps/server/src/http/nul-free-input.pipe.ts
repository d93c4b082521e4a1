import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/**
 * Refuses a NUL character (U+0000) anywhere in a REST request's path parameters, query or JSON
 * body, strings and keys alike. Postgres text and jsonb cannot hold one, so it would otherwise
 * fail deep in a query as a 500; no name, pattern, description or setting needs one.
 */
@Injectable()
export class NulFreeInputPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const where = nulPath(value);
    if (where !== undefined) {
      const name = [metadata.type === 'body' ? undefined : metadata.data, where].filter(Boolean).join('.') || `the ${metadata.type}`;
      throw new BadRequestException(`${name} holds a NUL character (U+0000), which Wharf does not store`);
    }
    return value;
  }
}

/** The path to the first string (or key) holding a NUL, '' for `value` itself; undefined when none does. */
function nulPath(value: unknown): string | undefined {
  // Iterative, so a deeply nested body cannot overflow the stack here.
  const pending: Array<[unknown, string]> = [[value, '']];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\0')) return path;
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (key.includes('\0')) return path ? `a key of ${path}` : 'a key';
        pending.push([child, Array.isArray(current) ? `${path}[${key}]` : path ? `${path}.${key}` : key]);
      }
    }
  }
  return undefined;
}
