export * from './promotion-types';
export * from './promotion.service';
export * from './promotion.module';
