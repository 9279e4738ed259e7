export { GatewayMetrics, VariantSeries, LATENCY_BUCKETS, BATCH_BUCKETS } from './metrics.js'
export { registerFairnessMetrics, type FairnessSource } from './fairness-metrics.js'
export { Tracing, noTracing, setTracerProvider, startTracing, tracingRequested, type FlushableTracerProvider, type Span, type TracedJob, type TracedVariant, type TracedRouter, type BudgetSource } from './tracing.js'
