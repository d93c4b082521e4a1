import { Injectable } from '@nestjs/common';
import { Db } from '../db';

@Injectable()
export class HealthQueries {
  constructor(private readonly db: Db) {}

  /** Round-trips to the database; throws when it is unreachable. */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
