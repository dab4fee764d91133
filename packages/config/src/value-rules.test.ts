import { describe, expect, it } from 'vitest';
import { maskUserinfo } from './value-rules.ts';

describe('maskUserinfo', () => {
  it('masks everything before the @ of a URL', () => {
    expect(maskUserinfo('redis://:p@ss@redis.internal:6379/0')).toBe('redis://***@redis.internal:6379/0');
    expect(maskUserinfo('https://user:token@proxy.example.com/v1')).toBe('https://***@proxy.example.com/v1');
  });

  it('leaves URLs without credentials, and @ in a path, as they are', () => {
    expect(maskUserinfo('https://ollama.com/v1')).toBe('https://ollama.com/v1');
    expect(maskUserinfo('https://example.com/users/@me')).toBe('https://example.com/users/@me');
  });
});
