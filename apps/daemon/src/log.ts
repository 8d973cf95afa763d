// Structured logs: one JSON object per line. Callers pass identifiers, counts and error codes only; as a
// second line of defence, fields whose names suggest secrets or content are dropped before writing.

export type LogLevel = "debug" | "info" | "warn" | "error";

export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field names never written, whatever a caller passes. */
const forbidden = /token|passphrase|password|secret|private|content|plaintext|text|body|key$/i;

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go (default: stderr). */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = order[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (order[level] < min) return;
    const record: Record<string, unknown> = { time: now().toISOString(), level, event };
    for (const [name, value] of Object.entries({ ...base, ...fields })) {
      if (value === undefined || forbidden.test(name)) continue;
      record[name] = value;
    }
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (event, fields) => emit("debug", event, fields),
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** What a caught error may say in a log: its class, code and message (our messages carry no secrets). */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      error: error.name,
      code: typeof code === "string" ? code : undefined,
      reason: error.message.slice(0, 300),
    };
  }
  return { error: typeof error, reason: String(error).slice(0, 300) };
}
