export * from './upstream-settings';
export * from './upstream-unavailable.error';
export * from './circuit-breaker';
export * from './www-authenticate';
export * from './token-realm-policy';
export * from './upstream-token-cache';
export * from './upstream-client';
