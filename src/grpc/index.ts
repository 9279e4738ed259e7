export { startGrpcServer, type GrpcApis, type GrpcServer } from './server.js'
