// Types of dvic-log (index.js).

export type Level = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

export interface OpenOptions {
  /** Directory of the log file; default $DVIC_LOG_DIR, else /tmp. */
  dir?: string;
  /** Size cap before rotating to a new file; default $DVIC_LOG_MAX_BYTES, else 16 MiB. */
  maxBytes?: number;
  /** Hook the console right away (true, or the options of hookConsole). */
  console?: boolean | HookConsoleOptions;
}

export interface HookConsoleOptions {
  /** Still print on the console as well (default true). */
  tee?: boolean;
}

export class Logger {
  readonly name: string;
  readonly dir: string;
  readonly maxBytes: number;
  readonly started: string;
  /** The file being written, or null when logging to stderr. */
  readonly path: string | null;
  readonly token: string | null;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  /** Logs at FATAL; does not exit. */
  fatal(...args: unknown[]): void;
  log(level: string, ...args: unknown[]): void;
  /** Routes console.log/info/debug/trace/warn/error into the log; returns the undo function. */
  hookConsole(options?: HookConsoleOptions): () => void;
  close(): void;
}

export function open(name?: string, options?: OpenOptions): Logger;
export const LEVELS: readonly Level[];
export const DEFAULT_MAX_BYTES: number;
export const VERSION: string;
export function escape(message: string): string;
export function timestamp(date?: Date): string;
