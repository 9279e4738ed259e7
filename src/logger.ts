// The logging surface every subsystem takes (pino's shape): a root file, so no folder has to
// import another one just to log.
export interface Logger {
  info: (obj: object | string, msg?: string) => void
  warn: (obj: object | string, msg?: string) => void
  error: (obj: object | string, msg?: string) => void
}
