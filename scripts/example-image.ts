// Writes a tiny runnable-looking image as an OCI image layout, so a first push needs no Docker
// Hub and no network: `npm run example-image -- ./hello` then
// `skopeo copy oci:./hello:latest docker://localhost:8080/docker-local/hello:1.0 ...`.
import { gzipSync } from 'node:zlib';
import { MediaTypes, blobOf, imageConfig, imageManifest, sha256Digest, tarArchive, writeOciLayout } from '../test/helpers/oci-image-builder';

async function main(dir: string | undefined, tag = 'latest'): Promise<void> {
  if (!dir) {
    process.stderr.write('usage: npm run example-image -- <directory> [tag]\n');
    process.exit(2);
  }
  const tar = tarArchive([{ name: 'hello.txt', content: Buffer.from(`Hello from Wharf, ${new Date().toISOString()}\n`) }]);
  const layer = { ...blobOf(gzipSync(tar), MediaTypes.OciLayerGzip), diffId: sha256Digest(tar) };
  const config = imageConfig({ layers: [layer] });
  const manifest = imageManifest({ config, layers: [layer] });
  await writeOciLayout(dir, { manifest, config, layers: [layer], platform: { architecture: 'amd64', os: 'linux' } }, tag);
  process.stdout.write(`wrote an OCI image layout to ${dir} (tag ${tag}, manifest ${manifest.digest})\n`);
}

main(process.argv[2], process.argv[3]).catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
