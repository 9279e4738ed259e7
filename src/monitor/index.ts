export { PredictionStore, type StoredPrediction } from './prediction-store.js'
