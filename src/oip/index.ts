// The Open Inference Protocol v2 without a transport: request checks into an InferJob, answer
// bytes, metadata and readiness, shared by src/http and src/grpc. It imports no transport library.
export { idBytes, idBytesLength, jobIdBytes, jobIdBytesLength, round3, scoreBytes, writeIdBytes, writeJobIdBytes } from './infer-answer.js'
export {
  floatsFromBytes, floatsFromNumbers, inputRows, oipJob, requestedOutputs,
  OUT_ID, OUT_ID_RAW, OUT_SCORE, OUT_SCORE_RAW, PREDICTION_ID_OUTPUT, type ParseContext
} from './infer-request.js'
export { EXTENSIONS, modelMetadata, modelReady, type ModelState } from './metadata.js'
export { beyondFp32, isObject, MAX_BUDGET_MS, parseBudget, parseGroups, parseVariant } from './parse-common.js'
