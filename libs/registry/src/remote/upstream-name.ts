/**
 * The image name as the upstream knows it. Docker Hub keeps official images under `library/`,
 * which clients leave out: `docker-hub/nginx` is `library/nginx` there (`libraryPrefix`, on by
 * default for Docker Hub). Other upstreams take the name as is.
 */
export function upstreamImageName(libraryPrefix: boolean, image: string): string {
  return libraryPrefix && !image.includes('/') ? `library/${image}` : image;
}
