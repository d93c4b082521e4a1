import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FileRangeStream } from '@wharf/storage';

/**
 * Sends a blob body and ends the response. Stored blobs take the file stream's reused-buffer
 * path; anything else (an upstream download being cached) is piped. A client that goes away
 * mid-download is not an error worth rendering: the response is just torn down. Resolves with
 * whether the whole body went out.
 */
export async function sendBlobBody(body: Readable, res: Writable): Promise<boolean> {
  try {
    if (body instanceof FileRangeStream) {
      await body.pipeInto(res);
      res.end();
    } else {
      await pipeline(body, res);
    }
    return true;
  } catch {
    body.destroy();
    res.destroy();
    return false;
  }
}
