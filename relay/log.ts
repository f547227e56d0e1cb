/** JSON log lines on stdout, one object per event. MXEDGE_LOG=silent|error|info|debug (default info). */
const LEVELS = { silent: 0, error: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  error(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  debug(event: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  level: LogLevel = "info",
  write: (line: string) => void = (l) => console.log(l),
): Logger {
  const at = LEVELS[level] ?? LEVELS.info;
  const emit =
    (lvl: Exclude<LogLevel, "silent">) =>
    (event: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[lvl] <= at)
        write(JSON.stringify({ time: new Date().toISOString(), level: lvl, event, ...fields }));
    };
  return { error: emit("error"), info: emit("info"), debug: emit("debug") };
}

export function levelFromEnv(value: string | undefined): LogLevel {
  return value && value in LEVELS ? (value as LogLevel) : "info";
}
