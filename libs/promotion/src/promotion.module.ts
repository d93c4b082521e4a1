import { Module } from '@nestjs/common';
import { RegistryModule } from '@wharf/registry';
import { PromotionService } from './promotion.service';

@Module({
  imports: [RegistryModule],
  providers: [PromotionService],
  exports: [PromotionService],
})
export class PromotionModule {}
