/**
 * The storage drivers' typed errors: what the layer above (the blob store) may act on. Any
 * other failure (I/O, network, permissions) is passed on as it came.
 */
export class StorageDriverError extends Error {
  constructor(
    message: string,
    readonly driver: string,
    readonly path: string,
  ) {
    super(`${driver}: ${message}`);
    this.name = new.target.name;
  }
}

/** Nothing is stored at the path (or, for `list`, under it). */
export class PathNotFoundError extends StorageDriverError {
  constructor(driver: string, path: string) {
    super(`nothing at ${path}`, driver, path);
  }
}

/** The path is not one a driver accepts (see `assertValidPath`). */
export class InvalidPathError extends StorageDriverError {
  constructor(driver: string, path: string) {
    super(`invalid path ${JSON.stringify(path)}`, driver, path);
  }
}

/** A read started beyond the end of the content. */
export class InvalidOffsetError extends StorageDriverError {
  constructor(driver: string, path: string, offset: number) {
    super(`offset ${offset} is beyond the end of ${path}`, driver, path);
  }
}
