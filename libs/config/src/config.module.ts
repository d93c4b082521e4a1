import { DynamicModule, Global, Module } from '@nestjs/common';
import { WharfConfig } from './wharf-config';

/** Makes the boot-time validated configuration injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: WharfConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: WharfConfig, useValue: config }], exports: [WharfConfig] };
  }
}
