export * from './docker-repository';
export * from './read-capped';
export * from './repository-resolver';
export * from './catalog.service';
export * from './registry.module';
export * from './admin/repository-admin.service';
export * from './admin/remote-settings-builder';
