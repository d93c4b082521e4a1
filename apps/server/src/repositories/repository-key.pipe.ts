import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { isValidRepositoryKey } from '@wharf/oci';

@Injectable()
export class RepositoryKeyPipe implements PipeTransform<string, string> {
  transform(key: string): string {
    if (!isValidRepositoryKey(key)) {
      throw new BadRequestException(`key "${key.slice(0, 80)}" is invalid: 1 to 64 lowercase letters, digits, "." and "-", starting and ending with a letter or digit`);
    }
    return key;
  }
}
