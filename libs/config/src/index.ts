export * from './wharf-config';
export * from './config.module';
export * from './installation';
