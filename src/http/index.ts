export { buildServer, type ServerOptions } from './server.js'
export { buildMonitorServer } from './monitor-server.js'
export { connectionsClosed, stopAccepting } from './drain.js'
