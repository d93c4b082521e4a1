import { Injectable } from '@nestjs/common';
import { Db } from '../db';

/** Named facts shared by every host of an installation (server_settings). */
@Injectable()
export class ServerSettingQueries {
  constructor(private readonly db: Db) {}

  /** The stored value of `name`, recording `value` first if there is none yet (the first host decides). */
  async getOrSet(name: string, value: string): Promise<string> {
    const rows = await this.db.query(
      `WITH inserted AS (INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value)
       SELECT value FROM inserted UNION ALL SELECT value FROM server_settings WHERE name = $1`,
      [name, value],
    );
    // A host that lost the race to a concurrent first insert reads the winner's value with a new statement (the first one's snapshot predates it).
    return rows[0]?.value ?? (await this.db.query(`SELECT value FROM server_settings WHERE name = $1`, [name]))[0].value;
  }
}
