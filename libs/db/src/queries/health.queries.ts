import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

@Injectable()
export class HealthQueries {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Round-trips to the database; throws when it is unreachable. */
  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}
