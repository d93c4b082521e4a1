import { NthNewest, RequestCountQueries } from '@wharf/db';

/**
 * The login limiter's part of RequestCountQueries in memory (events per subject and slot), for
 * unit tests of the services that check passwords. The real statements are tested against
 * Postgres in test/request-limits.e2e-spec.ts.
 */
export class InMemoryRequestCounts {
  private readonly slots = new Map<string, Map<number, number>>();

  queries(): RequestCountQueries {
    const fake: Pick<RequestCountQueries, 'add' | 'nthNewest' | 'forget'> = {
      add: async (subjects, at) => {
        for (const subject of subjects) {
          const slots = this.slots.get(subject) ?? new Map<number, number>();
          slots.set(at.getTime(), (slots.get(at.getTime()) ?? 0) + 1);
          this.slots.set(subject, slots);
        }
      },
      nthNewest: async (questions, since) => {
        const answers: NthNewest[] = [];
        for (const { subject, n } of questions) {
          const newestFirst = [...(this.slots.get(subject) ?? new Map<number, number>())].filter(([at]) => at > since.getTime()).sort(([a], [b]) => b - a);
          let newer = 0;
          for (const [at, count] of newestFirst) {
            newer += count;
            if (newer < n) continue;
            answers.push({ subject, n, at: new Date(at) });
            break;
          }
        }
        return answers;
      },
      forget: async (subject) => {
        this.slots.delete(subject);
      },
    };
    return fake as unknown as RequestCountQueries;
  }
}
