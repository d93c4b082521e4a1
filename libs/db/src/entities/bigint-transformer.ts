import { ValueTransformer } from 'typeorm';

/** Postgres bigint arrives as a string; sizes here fit safely in a JS number (< 2^53). */
export const bigintToNumber: ValueTransformer = {
  to: (value?: number) => value,
  from: (value?: string | null) => (value === null || value === undefined ? value : Number(value)),
};
