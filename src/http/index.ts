export { buildServer, type ServerOptions } from './server.js'
export { buildMonitorServer } from './monitor-server.js'
