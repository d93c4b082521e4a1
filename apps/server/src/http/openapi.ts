import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { WharfConfig } from '@wharf/config';

/** The security scheme names the document and the controllers' decorators share. */
export const BASIC_AUTH = 'basic';
export const BEARER_AUTH = 'bearer';

const DESCRIPTION = `Wharf's REST API: repositories, users, groups, permissions, access tokens.

**Authentication.** Send one of:
- HTTP Basic: a user name with its password, or with an access token in place of the password;
- \`Authorization: Bearer wharf_...\`: an access token (create one with \`POST /api/security/tokens\`).

Registry bearer tokens (JWTs from \`/v2/token\`) are for \`/v2\` routes only and are refused here.
An access token never does more than it was created for: administration, creating tokens and
changing an account need a password login, so those operations declare Basic only.
Without credentials a request is anonymous; operations marked with no security need none.

**Errors** are \`application/problem+json\` (\`status\`, \`title\`, \`detail\`, and \`errors\` listing
each failed field); a 401 carries \`WWW-Authenticate: Basic realm="Wharf"\` (\`Session realm="Wharf"\` for calls marked \`X-Requested-With: XMLHttpRequest\`, as the web UI's are, so browsers open no password dialog), a 429 \`Retry-After\`.
The token endpoint belongs to the registry protocol and answers errors in its envelope instead.`;

/**
 * The OpenAPI document at /api/openapi.json and Swagger UI at /api/docs. Every operation needs
 * Basic or Bearer credentials unless it declares otherwise, so "Authorize" then "Try it out" work.
 */
export function setupOpenApi(app: INestApplication): void {
  const config = app.get(WharfConfig);
  const builder = new DocumentBuilder()
    .setTitle('Wharf')
    .setDescription(DESCRIPTION)
    .setVersion('0.1')
    // Relative unless a public URL is set: the document is served by the server it describes.
    .addServer(config.publicUrl ?? '/', config.publicUrl ? 'The public URL (WHARF_PUBLIC_URL)' : 'This server')
    .addBasicAuth({ type: 'http', scheme: 'basic', description: 'A user name with its password, or with an access token as the password' }, BASIC_AUTH)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'wharf_<id>_<secret>', description: 'An access token (wharf_...); registry JWTs are refused on /api' },
      BEARER_AUTH,
    )
    // Either one; operations that need something else say so.
    .addSecurityRequirements(BASIC_AUTH)
    .addSecurityRequirements(BEARER_AUTH);
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, builder.build()), { jsonDocumentUrl: 'api/openapi.json' });
}
