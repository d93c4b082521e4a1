import { BadRequestException } from '@nestjs/common';
import { imageAllowed } from '../image-patterns';

/**
 * One rule of a local repository's tag retention (in the manner of Harbor's): for the images
 * matching `images`, keep the `keepLatest` most recently pushed tags, the tags pushed or pulled
 * within `keepDays`, and the tags matching `alwaysKeep`. A tag stays when any rule that applies
 * to its image keeps it; images no rule applies to are left alone.
 */
export interface RetentionRule {
  /** Comma-separated image name patterns (`*` within a path segment, `**` across them). */
  images: string;
  keepLatest?: number;
  keepDays?: number;
  /** Tag patterns (`*` for any characters) that are never removed, such as `v*` or `release-*`. */
  alwaysKeep: string[];
}

export interface RetentionPolicy {
  rules: RetentionRule[];
}

/** A tag as retention weighs it. */
export interface TagFacts {
  name: string;
  /** When the tag was last pushed (set to its manifest). */
  pushedAt: Date;
  /** When its manifest was last pulled, if ever. */
  pulledAt: Date | null;
}

const MAX_RULES = 50;
/** cosign's `sha256-<hex>.sig|.att|.sbom` tags sign or describe other tags: never versions to prune. */
const COSIGN_TAG = /^sha256-[a-f0-9]{64}\.(sig|att|sbom)$/;

/** The stored form of a `retention` field, or BadRequest naming what is wrong. */
export function parseRetention(value: unknown): RetentionPolicy {
  const problem = (what: string) => new BadRequestException(`retention: ${what}`);
  if (typeof value !== 'object' || value === null || !Array.isArray((value as RetentionPolicy).rules)) throw problem('must be {"rules": [...]}');
  const rules = (value as { rules: unknown[] }).rules;
  if (rules.length > MAX_RULES) throw problem(`at most ${MAX_RULES} rules`);
  return {
    rules: rules.map((raw, i) => {
      const rule = raw as Partial<RetentionRule>;
      if (typeof rule !== 'object' || rule === null) throw problem(`rule ${i + 1} must be an object`);
      const images = rule.images ?? '**';
      if (typeof images !== 'string' || images.length > 1024) throw problem(`rule ${i + 1}: images must be a string of patterns`);
      for (const field of ['keepLatest', 'keepDays'] as const) {
        const n = rule[field];
        if (n !== undefined && (!Number.isSafeInteger(n) || n < 0 || n > 100_000)) throw problem(`rule ${i + 1}: ${field} must be a whole number from 0 to 100000`);
      }
      if (rule.keepLatest === undefined && rule.keepDays === undefined) throw problem(`rule ${i + 1}: give keepLatest, keepDays or both (what else the rule keeps)`);
      const alwaysKeep = rule.alwaysKeep ?? [];
      if (!Array.isArray(alwaysKeep) || alwaysKeep.some((p) => typeof p !== 'string' || p.length === 0 || p.length > 128)) {
        throw problem(`rule ${i + 1}: alwaysKeep must be a list of tag patterns`);
      }
      return { images, ...(rule.keepLatest !== undefined ? { keepLatest: rule.keepLatest } : {}), ...(rule.keepDays !== undefined ? { keepDays: rule.keepDays } : {}), alwaysKeep };
    }),
  };
}

/** The tags of `image` the policy removes (none when no rule applies to the image). */
export function tagsToRemove(policy: RetentionPolicy, image: string, tags: TagFacts[], now = new Date()): string[] {
  const rules = policy.rules.filter((rule) => imageAllowed(image, rule.images, ''));
  if (rules.length === 0) return [];
  const newestFirst = [...tags].sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime() || (a.name < b.name ? 1 : -1));
  const kept = new Set<string>(tags.filter((tag) => COSIGN_TAG.test(tag.name)).map((tag) => tag.name));
  for (const rule of rules) {
    const always = tagPattern(rule.alwaysKeep);
    for (const tag of tags) if (always?.test(tag.name)) kept.add(tag.name);
    if (rule.keepLatest) for (const tag of newestFirst.slice(0, rule.keepLatest)) kept.add(tag.name);
    if (rule.keepDays !== undefined) {
      const since = now.getTime() - rule.keepDays * 86_400_000;
      for (const tag of tags) if (tag.pushedAt.getTime() >= since || (tag.pulledAt && tag.pulledAt.getTime() >= since)) kept.add(tag.name);
    }
  }
  return newestFirst.filter((tag) => !kept.has(tag.name)).map((tag) => tag.name);
}

function tagPattern(patterns: string[]): RegExp | null {
  if (patterns.length === 0) return null;
  const alternatives = patterns.map((p) =>
    p
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`);
}
