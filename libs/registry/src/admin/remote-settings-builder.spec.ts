import { BadRequestException } from '@nestjs/common';
import { SecretBox } from '@wharf/auth';
import { RemoteSettingsBuilder } from './remote-settings-builder';

describe('RemoteSettingsBuilder: tokenRealmAllowList', () => {
  // No password is set here, so the secret box is never used.
  const builder = new RemoteSettingsBuilder({} as SecretBox);
  const url = 'https://registry.example.com';

  it('stores each entry as the host or host:port it names, once', () => {
    const settings = builder.build({ url, tokenRealmAllowList: ['https://auth.example.com', 'auth.example.com:443', 'Auth.Other.example', 'http://127.0.0.1:5001/'] });
    expect(settings.tokenRealmAllowList).toEqual(['auth.example.com:443', 'auth.other.example', '127.0.0.1:5001']);
  });

  it('refuses an entry that names no host, naming it, and keeps the stored list when none is given', () => {
    for (const entry of ['https://auth.example.com/token', '*.example.com']) {
      expect(() => builder.build({ url, tokenRealmAllowList: ['auth.example.com', entry] })).toThrow(BadRequestException);
      expect(() => builder.build({ url, tokenRealmAllowList: [entry] })).toThrow(entry);
    }
    const existing = { ...builder.build({ url, tokenRealmAllowList: ['auth.example.com'] }) };
    expect(builder.build({ offline: true }, existing).tokenRealmAllowList).toEqual(['auth.example.com']);
  });
});
