import { BadRequestException } from '@nestjs/common';
import { TagFacts, parseRetention, tagsToRemove } from './retention-policy';

const NOW = new Date('2026-12-01T00:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

function tag(name: string, pushedDaysAgo: number, pulledDaysAgo?: number): TagFacts {
  return { name, pushedAt: daysAgo(pushedDaysAgo), pulledAt: pulledDaysAgo === undefined ? null : daysAgo(pulledDaysAgo) };
}

describe('retention policy', () => {
  const tags = [tag('v1.0', 100), tag('build-1', 90), tag('build-2', 60, 2), tag('build-3', 40), tag('build-4', 5), tag('latest', 1)];

  it('keeps the most recently pushed tags, newest first, and removes the rest', () => {
    expect(tagsToRemove(parseRetention({ rules: [{ keepLatest: 2 }] }), 'app', tags, NOW)).toEqual(['build-3', 'build-2', 'build-1', 'v1.0']);
  });

  it('keeps tags pushed or pulled within keepDays', () => {
    expect(tagsToRemove(parseRetention({ rules: [{ keepDays: 10 }] }), 'app', tags, NOW)).toEqual(['build-3', 'build-1', 'v1.0']);
  });

  it('never removes tags matching alwaysKeep, nor cosign signature tags', () => {
    const signed = [...tags, tag(`sha256-${'a'.repeat(64)}.sig`, 200)];
    const policy = parseRetention({ rules: [{ keepLatest: 1, alwaysKeep: ['v*', 'build-1'] }] });
    expect(tagsToRemove(policy, 'app', signed, NOW)).toEqual(['build-4', 'build-3', 'build-2']);
  });

  it('a tag stays when any rule for its image keeps it; images no rule names are left alone', () => {
    const policy = parseRetention({
      rules: [
        { images: 'team/*', keepLatest: 1 },
        { images: 'team/api', keepDays: 50 },
      ],
    });
    expect(tagsToRemove(policy, 'team/api', tags, NOW)).toEqual(['build-1', 'v1.0']);
    expect(tagsToRemove(policy, 'team/web', tags, NOW)).toEqual(['build-4', 'build-3', 'build-2', 'build-1', 'v1.0']);
    expect(tagsToRemove(policy, 'other/web', tags, NOW)).toEqual([]);
  });

  it('refuses rules that would be misread', () => {
    for (const bad of [
      null,
      {},
      { rules: {} },
      { rules: [{}] },
      { rules: [{ keepLatest: -1 }] },
      { rules: [{ keepDays: 1.5 }] },
      { rules: [{ keepLatest: 1, alwaysKeep: 'v*' }] },
    ]) {
      expect(() => parseRetention(bad)).toThrow(BadRequestException);
    }
    expect(parseRetention({ rules: [{ keepLatest: 3 }] })).toEqual({ rules: [{ images: '**', keepLatest: 3, alwaysKeep: [] }] });
  });
});
