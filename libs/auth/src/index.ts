export * from './principal';
export * from './password-hasher';
export * from './repository-actions';
