import { Injectable } from '@nestjs/common';
import { Db } from '../db';

@Injectable()
export class SigningKeyQueries {
  constructor(private readonly db: Db) {}

  /** Stores `pem` under `id` unless a key is there already; returns the key that won. */
  async getOrInsert(id: string, pem: string): Promise<string> {
    await this.db.query(`INSERT INTO signing_keys (id, private_key_pem) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [id, pem]);
    const rows = await this.db.query(`SELECT private_key_pem FROM signing_keys WHERE id = $1`, [id]);
    return rows[0].private_key_pem;
  }
}
