import { ApiProperty } from '@nestjs/swagger';
import type { SystemInfo } from './system-info.service';

export class SystemInfoDto implements SystemInfo {
  @ApiProperty({ example: '0.1.0', description: "The server's version" }) version: string;
  @ApiProperty({
    example: 'wharf.example.com:8080',
    description: "The host[:port] registry clients address (`docker pull <registryHost>/<repoKey>/<image>`): WHARF_PUBLIC_URL's, else this request's Host",
  })
  registryHost: string;
  @ApiProperty({ description: 'Whether clients reach Wharf over https: WHARF_PUBLIC_URL is https, or this request came over https' }) tls: boolean;
  @ApiProperty({ description: 'Whether anonymous callers may read at least one repository (anonymousRead)' }) anonymousAccess: boolean;
}
