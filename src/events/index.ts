export { noopSink, type PredictionSink } from './sink.js'
