import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable, Logger } from '@nestjs/common';
import { WharfConfig } from '@wharf/config';
import { FileRangeStream, SocketSendfile } from '@wharf/storage';

/**
 * Sends blob bodies and ends the response. Stored blobs go by the kernel's sendfile where it
 * can (plain TCP, addon built, not switched off), else by the file stream's reused buffers;
 * anything else (an upstream download being cached) is piped. A client that goes away
 * mid-download is not an error worth rendering: the response is just torn down.
 */
@Injectable()
export class BlobBodySender {
  private readonly sendfile?: SocketSendfile;

  constructor(config: WharfConfig) {
    const logger = new Logger('BlobBodySender');
    if (!config.sendfile) {
      logger.log('blob downloads stream through Node (WHARF_SENDFILE=off)');
      return;
    }
    this.sendfile = SocketSendfile.load();
    if (!this.sendfile) logger.warn('the sendfile addon is not built (scripts/build-native.sh): blob downloads stream through Node');
  }

  async send(body: Readable, res: ServerResponse): Promise<void> {
    try {
      if (body instanceof FileRangeStream) {
        await body.sendInto(res, this.sendfile);
        res.end();
      } else {
        await pipeline(body, res);
      }
    } catch {
      body.destroy();
      res.destroy();
    }
  }
}
