import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { SigningKeyQueries } from '@wharf/db';

/**
 * The EC P-256 key that signs registry tokens (ES256). From WHARF_JWT_PRIVATE_KEY_FILE when
 * set, else the one kept in the database, created by whichever instance starts first: tokens
 * stay valid across restarts and across instances.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit {
  private privateKey: KeyObject;
  private publicKeyPem: string;
  private keyId: string;

  constructor(
    private readonly config: WharfConfig,
    private readonly keys: SigningKeyQueries,
  ) {}

  async onModuleInit(): Promise<void> {
    const pem = this.config.jwtPrivateKeyFile
      ? await fs.readFile(this.config.jwtPrivateKeyFile, 'utf8')
      : await this.keys.getOrInsert('default', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    this.privateKey = createPrivateKey(pem);
    if (this.privateKey.asymmetricKeyType !== 'ec' || this.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the JWT signing key must be an EC P-256 private key');
    }
    const publicKey = createPublicKey(this.privateKey);
    this.publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    this.keyId = createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('hex')
      .slice(0, 32);
  }

  get signingKey(): KeyObject {
    return this.privateKey;
  }

  get verificationKeyPem(): string {
    return this.publicKeyPem;
  }

  get kid(): string {
    return this.keyId;
  }
}
