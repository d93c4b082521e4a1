import { parseContentRange, parseRangeHeader } from './http-range';

describe('parseRangeHeader', () => {
  it('reads closed, open and suffix ranges', () => {
    expect(parseRangeHeader('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRangeHeader('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRangeHeader('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRangeHeader('bytes=95-200', 100)).toEqual({ start: 95, end: 99 });
  });
  it('reports unsatisfiable and malformed ranges', () => {
    expect(parseRangeHeader('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRangeHeader('bytes=5-2', 100)).toBe('unsatisfiable');
    expect(parseRangeHeader('items=0-1', 100)).toBe('unsatisfiable');
    expect(parseRangeHeader(undefined, 100)).toBeUndefined();
  });
});

describe('parseContentRange', () => {
  it('accepts the spec form and common variants', () => {
    expect(parseContentRange('0-99')).toEqual({ start: 0, end: 99 });
    expect(parseContentRange('bytes 100-199/*')).toEqual({ start: 100, end: 199 });
  });
  it('rejects malformed ranges', () => {
    expect(parseContentRange('abc')).toBeNull();
    expect(parseContentRange('9-1')).toBeNull();
  });
});
