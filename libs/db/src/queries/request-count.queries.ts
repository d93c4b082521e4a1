import { Injectable } from '@nestjs/common';
import { Db } from '../db';

/** One fixed window of a subject's counts, and the window before it (for the sliding estimate). */
export interface CountWindow {
  subject: string;
  start: Date;
  previousStart: Date;
  /** When the row stops mattering: once it can no longer be anyone's previous window. */
  expiresAt: Date;
}

export interface WindowCounts {
  current: number;
  previous: number;
}

/** The time of a subject's n-th newest event since some moment. */
export interface NthNewest {
  subject: string;
  n: number;
  at: Date;
}

/**
 * request_counts: counts per (subject, time slot) that every worker and host share, for pull
 * limits (a slot per fixed window) and failed logins (a slot per millisecond with failures).
 * Times come from the caller's clock, so each limiter decides its windows.
 */
@Injectable()
export class RequestCountQueries {
  constructor(private readonly db: Db) {}

  /**
   * Counts one event in `window` if the sliding estimate then stays within `limit`
   * (current + 1 + previous × previousWeight), in one statement (count_request, see its
   * migration): concurrent calls queue on the row, so the limit holds however many hosts count.
   * A refused event is not counted. Answers the counts after it.
   */
  async countIfWithin(window: CountWindow, previousWeight: number, limit: number): Promise<WindowCounts & { counted: boolean }> {
    const [row] = await this.db.query(`SELECT counted, current_count AS current, previous_count AS previous FROM count_request($1, $2, $3, $4, $5, $6)`, [
      window.subject,
      window.start,
      window.previousStart,
      previousWeight,
      limit,
      window.expiresAt,
    ]);
    return { counted: row.counted !== null, current: row.current, previous: row.previous };
  }

  /** The counts of a window and the one before, counting nothing. */
  async peek(window: Pick<CountWindow, 'subject' | 'start' | 'previousStart'>): Promise<WindowCounts> {
    const [row] = await this.db.query(
      `SELECT coalesce(sum(count) FILTER (WHERE window_start = $2), 0)::int AS current, coalesce(sum(count) FILTER (WHERE window_start = $3), 0)::int AS previous
       FROM request_counts WHERE subject = $1 AND window_start IN ($2, $3)`,
      [window.subject, window.start, window.previousStart],
    );
    return row;
  }

  /** One event at `at` for each subject (distinct), in one statement. */
  async add(subjects: string[], at: Date, expiresAt: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO request_counts AS c (subject, window_start, count, expires_at)
       SELECT subject, $2, 1, $3 FROM unnest($1::text[]) AS subject
       ON CONFLICT (subject, window_start) DO UPDATE SET count = c.count + 1`,
      [subjects, at, expiresAt],
    );
  }

  /**
   * For each (subject, n): when its n-th newest event after `since` happened; absent when it has
   * fewer. One statement, answering a row per question rather than every event.
   */
  async nthNewest(questions: Array<{ subject: string; n: number }>, since: Date): Promise<NthNewest[]> {
    const rows: Array<{ subject: string; n: number; at: Date }> = await this.db.query(
      `SELECT DISTINCT ON (q.subject, q.n) q.subject, q.n, r.window_start AS at
       FROM unnest($1::text[], $2::int[]) AS q (subject, n)
       JOIN LATERAL (
         SELECT window_start, sum(count) OVER (ORDER BY window_start DESC) AS newer
         FROM request_counts WHERE subject = q.subject AND window_start > $3
       ) r ON r.newer >= q.n
       ORDER BY q.subject, q.n, r.window_start DESC`,
      [questions.map((q) => q.subject), questions.map((q) => q.n), since],
    );
    return rows;
  }

  /** Every count of `subject`. */
  async forget(subject: string): Promise<void> {
    await this.db.query(`DELETE FROM request_counts WHERE subject = $1`, [subject]);
  }

  /** Deletes the rows expired at `now`; answers how many. */
  async deleteExpired(now: Date): Promise<number> {
    const [row] = await this.db.query(`WITH gone AS (DELETE FROM request_counts WHERE expires_at < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`, [now]);
    return row.n;
  }
}
