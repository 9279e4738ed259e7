export { startGrpcServer, type GrpcServer } from './server.js'
