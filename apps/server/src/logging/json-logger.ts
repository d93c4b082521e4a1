import { LoggerService } from '@nestjs/common';
import { LogLevel } from '@wharf/config';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** Whether a record at `level` is written when the configured threshold is `threshold`. */
export function levelEnabled(level: LogLevel, threshold: LogLevel): boolean {
  return RANK[level] <= RANK[threshold];
}

/**
 * Nest's own start-up narration (a line per module, controller and route, ~60 in all) is debug:
 * at info it buried the few lines that matter, the generated admin password among them.
 */
const NEST_BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** One JSON object per line on stdout: easy to ship and to grep. */
export class JsonLogger implements LoggerService {
  constructor(private readonly level: LogLevel) {}

  log(message: unknown, context?: string): void {
    this.write(context !== undefined && NEST_BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest.find((r) => typeof r === 'string' && !r.includes('\n')) as string | undefined);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }

  /** An info line written at every log level: that Wharf is up, which scripts wait for. */
  announce(fields: Record<string, unknown>, context: string): void {
    writeLine('info', fields, context);
  }

  private write(level: LogLevel, message: unknown, context?: string): void {
    if (!levelEnabled(level, this.level)) return;
    // An Error's message is no own enumerable field: spread as it is, a line would lose it.
    const fields = message instanceof Error ? { msg: message.message, error: message.name } : typeof message === 'object' && message !== null ? message : { msg: String(message) };
    writeLine(level, fields, context);
  }
}

/** `pid` tells the processes of a multi-process Wharf (WHARF_WORKERS) apart. */
function writeLine(level: LogLevel, fields: object, context?: string): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, pid: process.pid, context, ...fields })}\n`);
}
