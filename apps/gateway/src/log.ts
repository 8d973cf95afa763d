// Structured logs, one JSON object per line on stderr. Callers pass ids and codes, never message text or keys.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type Log = (level: LogLevel, event: string, fields?: Readonly<Record<string, unknown>>) => void;

export function jsonLog(
  minLevel: LogLevel = "info",
  write: (line: string) => void = (l) => process.stderr.write(l),
): Log {
  const order: readonly LogLevel[] = ["debug", "info", "warn", "error"];
  const min = order.indexOf(minLevel);
  return (level, event, fields = {}) => {
    if (order.indexOf(level) < min) return;
    write(`${JSON.stringify({ at: new Date().toISOString(), level, event, ...fields })}\n`);
  };
}
