export { GatewayMetrics, VariantSeries, LATENCY_BUCKETS, BATCH_BUCKETS } from './metrics.js'
export { registerFairnessMetrics } from './fairness-metrics.js'
export { Tracing, noTracing, setTracerProvider, startTracing, tracingRequested, type FlushableTracerProvider, type Span } from './tracing.js'
