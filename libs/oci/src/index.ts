export * from './error-codes';
export * from './registry-error';
export * from './digest';
export * from './names';
export * from './media-types';
export * from './manifest';
export * from './accept';
export * from './registry-route';
