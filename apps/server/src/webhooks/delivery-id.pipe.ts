import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

/** A delivery id: a positive integer (bigint in the database, a string here). */
@Injectable()
export class DeliveryIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!/^[1-9]\d{0,17}$/.test(value)) throw new BadRequestException(`delivery id must be a positive integer, got "${value.slice(0, 40)}"`);
    return value;
  }
}
