import { WebhookRow } from '@wharf/db';
import { subscribers } from './webhook-dispatcher';

function webhook(name: string, events: string[], repositories: string[], createdAt = '2026-01-01T00:00:00Z'): WebhookRow {
  return { id: name, name, url: 'https://hooks.example.com/', events, repositories, secretSealed: '', createdAt: new Date(createdAt), updatedAt: new Date(createdAt) };
}

describe('subscribers', () => {
  const all = [
    webhook('docker', ['push', 'delete'], ['docker-*']),
    webhook('prod', ['promote', 'push'], ['docker-prod']),
    webhook('everything', ['push', 'gc'], ['*']),
    webhook('late', ['push'], ['*'], '2026-06-01T00:00:00Z'),
  ];
  const at = new Date('2026-03-01T00:00:00Z');
  const names = (event: string, repository: string | null, when = at) => subscribers(all, event, repository, when).map((w) => w.name);

  it('are the webhooks of the event whose patterns name the repository', () => {
    expect(names('push', 'docker-prod')).toEqual(['docker', 'prod', 'everything']);
    expect(names('push', 'docker-dev')).toEqual(['docker', 'everything']);
    expect(names('push', 'maven-local')).toEqual(['everything']);
    expect(names('delete', 'docker-prod')).toEqual(['docker']);
    expect(names('promote', 'docker-dev')).toEqual([]);
    expect(names('pull', 'docker-prod')).toEqual([]);
  });

  it('an event of no repository (a GC run) goes to every webhook of that event', () => {
    expect(names('gc', null)).toEqual(['everything']);
  });

  it('a webhook hears only of what happened once it existed', () => {
    expect(names('push', 'any', new Date('2026-07-01T00:00:00Z'))).toEqual(['everything', 'late']);
  });
});
