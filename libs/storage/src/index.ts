export * from './blob-storage-driver';
export * from './filesystem-blob-storage.driver';
export * from './data-dir-probe';
export * from './file-range-stream';
export * from './upload-hasher';
export * from './keyed-queue';
export * from './data-dir-lock';
export * from './data-dir-locked.error';
