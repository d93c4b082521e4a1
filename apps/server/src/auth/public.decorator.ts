import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'wharf:public';

/** Marks a REST route that anyone may call without credentials (health, token endpoint). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
