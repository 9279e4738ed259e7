# A small MLServer custom runtime serving models/income/full.onnx with onnxruntime: the peer of
# docs/benchmarks.md. MLServer's adaptive batching (model-settings.json: max_batch_size,
# max_batch_time) merges concurrent V2 requests into one [N, 112] tensor before predict().
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse
from mlserver.utils import get_model_uri


class OnnxIncome(MLModel):
    async def load(self) -> bool:
        uri = await get_model_uri(self.settings)
        opts = ort.SessionOptions()
        # One intra-op thread, as fairgate's sessions: the machine has 2 cores for everything.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(uri, opts, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._output = "probability"
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32, copy=False).reshape(-1, 112)
        (scores,) = self._session.run([self._output], {self._input: x})
        out = NumpyCodec.encode_output(name=self._output, payload=np.asarray(scores, dtype=np.float32).reshape(-1, 1))
        return InferenceResponse(model_name=self.name, outputs=[out])
