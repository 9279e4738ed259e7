"""Drives unmodified Triton and KServe Python clients, with their default settings, against a
running fairgate: health, metadata (versioned too), model ready with and without a version,
infer (binary and JSON) and async infer over HTTP and gRPC. Every path's scores must be
bit-identical to the plain-JSON path's for the same rows. Prints one JSON report on stdout:
{"checks": [names that passed], "failures": [messages]}.

Usage: drive_clients.py triton|kserve HTTP_HOST:PORT GRPC_HOST:PORT GOLDEN_JSON
(tritonclient.grpc and kserve both register the `inference` protobuf package, so one process
cannot import both: each family runs in its own process.)
"""
import asyncio
import json
import sys
import traceback

import numpy as np

FAMILY, HTTP, GRPC, GOLDEN = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
MODEL, VERSION, ROWS = "income", "full", 8

with open(GOLDEN) as f:
    X = np.asarray(json.load(f)["encoded"][:ROWS], dtype=np.float32)

checks, failures = [], []


def check(name, ok, detail=""):
    (checks if ok else failures).append(name if ok else f"{name}: {detail}")


def same_bits(name, got, want):
    got = np.asarray(got, dtype=np.float32).reshape(-1)
    ok = got.shape == want.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32))
    check(name, ok, f"{got[:3]} vs {want[:3]}")


def step(name, fn):
    try:
        fn()
    except Exception as e:  # a failing client call is a failure to report, not a crash
        failures.append(f"{name}: {type(e).__name__}: {e} {traceback.format_exc(limit=2)}")


# --- the reference: tritonclient.http with JSON both ways
import tritonclient.http as httpclient

ref = None


def reference():
    global ref
    c = httpclient.InferenceServerClient(HTTP)
    i = httpclient.InferInput("input", list(X.shape), "FP32")
    i.set_data_from_numpy(X, binary_data=False)
    o = httpclient.InferRequestedOutput("probability", binary_data=False)
    r = c.infer(MODEL, [i], model_version=VERSION, outputs=[o])
    ref = r.as_numpy("probability").astype(np.float32).reshape(-1)
    check("http json reference", ref.shape == (ROWS,) and r.get_response()["outputs"][0].get("data") is not None)


step("http json reference", reference)
if ref is None:
    print(json.dumps({"checks": checks, "failures": failures}))
    sys.exit(0)


def triton_http():
    c = httpclient.InferenceServerClient(HTTP)
    check("tritonclient.http is_server_live", c.is_server_live())
    check("tritonclient.http is_server_ready", c.is_server_ready())
    check("tritonclient.http get_server_metadata", "binary_tensor_data" in c.get_server_metadata()["extensions"])
    check("tritonclient.http get_model_metadata", c.get_model_metadata(MODEL)["name"] == MODEL)
    check("tritonclient.http get_model_metadata versioned", c.get_model_metadata(MODEL, model_version=VERSION)["versions"] == [VERSION])
    check("tritonclient.http is_model_ready", c.is_model_ready(MODEL))
    check("tritonclient.http is_model_ready versioned", c.is_model_ready(MODEL, model_version=VERSION))
    check("tritonclient.http is_model_ready unknown version is False", not c.is_model_ready(MODEL, model_version="nope"))
    # Defaults: binary input, no outputs named (binary_data_output), no Content-Type.
    i = httpclient.InferInput("input", list(X.shape), "FP32")
    i.set_data_from_numpy(X)
    r = c.infer(MODEL, [i], model_version=VERSION)
    same_bits("tritonclient.http infer binary", r.as_numpy("probability"), ref)
    ids = r.as_numpy("prediction_id")
    check("tritonclient.http prediction_id BYTES", ids is not None and ids.shape == (ROWS,) and len(ids[0]) == 26, repr(ids))
    o = httpclient.InferRequestedOutput("probability")
    same_bits("tritonclient.http infer binary output named", c.infer(MODEL, [i], model_version=VERSION, outputs=[o]).as_numpy("probability"), ref)
    for alg in ("gzip", "deflate"):
        r = c.infer(MODEL, [i], model_version=VERSION, request_compression_algorithm=alg)
        same_bits(f"tritonclient.http infer {alg}", r.as_numpy("probability"), ref)
    r = c.infer(MODEL, [i], model_version=VERSION, timeout=5_000_000)
    same_bits("tritonclient.http infer with timeout", r.as_numpy("probability"), ref)
    j = httpclient.InferInput("input", list(X.shape), "FP32")
    j.set_data_from_numpy(X, binary_data=False)
    same_bits("tritonclient.http infer json in, binary out", c.infer(MODEL, [j], model_version=VERSION).as_numpy("probability"), ref)
    ar = c.async_infer(MODEL, [i], model_version=VERSION)
    same_bits("tritonclient.http async_infer", ar.get_result().as_numpy("probability"), ref)
    c.close()


if FAMILY == "triton":
    step("tritonclient.http", triton_http)


def triton_http_aio():
    import tritonclient.http.aio as aioclient

    async def run():
        c = aioclient.InferenceServerClient(HTTP)
        try:
            check("tritonclient.http.aio is_server_live", await c.is_server_live())
            check("tritonclient.http.aio is_server_ready", await c.is_server_ready())
            check("tritonclient.http.aio get_model_metadata versioned", (await c.get_model_metadata(MODEL, model_version=VERSION))["versions"] == [VERSION])
            check("tritonclient.http.aio is_model_ready", await c.is_model_ready(MODEL))
            check("tritonclient.http.aio is_model_ready versioned", await c.is_model_ready(MODEL, model_version=VERSION))
            i = aioclient.InferInput("input", list(X.shape), "FP32")
            i.set_data_from_numpy(X)
            r = await c.infer(MODEL, [i], model_version=VERSION)
            same_bits("tritonclient.http.aio infer binary", r.as_numpy("probability"), ref)
            j = aioclient.InferInput("input", list(X.shape), "FP32")
            j.set_data_from_numpy(X, binary_data=False)
            o = aioclient.InferRequestedOutput("probability", binary_data=False)
            r = await c.infer(MODEL, [j], model_version=VERSION, outputs=[o])
            same_bits("tritonclient.http.aio infer json", r.as_numpy("probability"), ref)
        finally:
            await c.close()

    asyncio.run(run())


if FAMILY == "triton":
    step("tritonclient.http.aio", triton_http_aio)


def triton_grpc():
    import queue
    import tritonclient.grpc as grpcclient

    c = grpcclient.InferenceServerClient(GRPC)
    check("tritonclient.grpc is_server_live", c.is_server_live())
    check("tritonclient.grpc is_server_ready", c.is_server_ready())
    check("tritonclient.grpc get_server_metadata", "binary_tensor_data" in c.get_server_metadata().extensions)
    check("tritonclient.grpc get_model_metadata", c.get_model_metadata(MODEL).name == MODEL)
    check("tritonclient.grpc get_model_metadata versioned", list(c.get_model_metadata(MODEL, model_version=VERSION).versions) == [VERSION])
    check("tritonclient.grpc is_model_ready", c.is_model_ready(MODEL))
    check("tritonclient.grpc is_model_ready versioned", c.is_model_ready(MODEL, model_version=VERSION))
    i = grpcclient.InferInput("input", list(X.shape), "FP32")
    i.set_data_from_numpy(X)
    r = c.infer(MODEL, [i], model_version=VERSION)
    same_bits("tritonclient.grpc infer", r.as_numpy("probability"), ref)
    ids = r.as_numpy("prediction_id")
    check("tritonclient.grpc prediction_id BYTES", ids is not None and ids.shape == (ROWS,) and len(ids[0]) == 26, repr(ids))
    r = c.infer(MODEL, [i], model_version=VERSION, client_timeout=10, parameters={"group": json.dumps({"sex": "Female"})})
    same_bits("tritonclient.grpc infer with deadline and group", r.as_numpy("probability"), ref)
    done = queue.Queue()
    c.async_infer(MODEL, [i], lambda result, error: done.put((result, error)), model_version=VERSION)
    result, error = done.get(timeout=30)
    check("tritonclient.grpc async_infer no error", error is None, str(error))
    if error is None:
        same_bits("tritonclient.grpc async_infer", result.as_numpy("probability"), ref)
    c.close()


if FAMILY == "triton":
    step("tritonclient.grpc", triton_grpc)


def kserve_clients():
    from kserve import InferenceRESTClient, RESTConfig, InferInput, InferRequest
    from kserve.inference_client import InferenceGRPCClient

    def probability(res):
        return next(o for o in res["outputs"] if o["name"] == "probability")["data"]

    async def run():
        # Default settings: RESTConfig's protocol is KServe's "v1" (GET /, GET /v1/models/{m},
        # POST /v1/models/{m}:predict, every answer read as JSON). The v1 client has no server
        # readiness call (it raises UnsupportedProtocol before sending anything), no metadata call
        # and no model version.
        rc = InferenceRESTClient()
        base = f"http://{HTTP}"
        check("kserve rest is_server_live", await rc.is_server_live(base))
        check("kserve rest is_model_ready", await rc.is_model_ready(base, MODEL))
        for binary in (True, False):
            i = InferInput("input", list(X.shape), "FP32")
            i.set_data_from_numpy(X, binary_data=binary)
            req = InferRequest(model_name=MODEL, infer_inputs=[i], parameters={"variant": VERSION})
            res = await rc.infer(base, req, model_name=MODEL)
            same_bits(f"kserve rest infer {'binary' if binary else 'json'}", probability(res), ref)
        res = await rc.infer(base, {"instances": X.tolist(), "variant": VERSION}, model_name=MODEL)
        same_bits("kserve rest infer instances", res["predictions"], ref)
        check("kserve rest infer instances prediction_ids", len(res["prediction_ids"]) == ROWS, repr(res))
        await rc.close()
        # Opting in to the Open Inference Protocol (protocol="v2") works too.
        rc = InferenceRESTClient(RESTConfig(protocol="v2"))
        check("kserve rest v2 is_server_ready", await rc.is_server_ready(base))
        check("kserve rest v2 is_model_ready", await rc.is_model_ready(base, MODEL))
        i = InferInput("input", list(X.shape), "FP32")
        i.set_data_from_numpy(X)
        res = await rc.infer(base, InferRequest(model_name=MODEL, infer_inputs=[i], parameters={"variant": VERSION}), model_name=MODEL)
        same_bits("kserve rest v2 infer binary", res.outputs[0].as_numpy(), ref)
        await rc.close()
        gc = InferenceGRPCClient(GRPC)
        check("kserve grpc is_server_live", await gc.is_server_live())
        check("kserve grpc is_server_ready", await gc.is_server_ready())
        check("kserve grpc is_model_ready", await gc.is_model_ready(MODEL))
        i = InferInput("input", list(X.shape), "FP32")
        i.set_data_from_numpy(X)
        req = InferRequest(model_name=MODEL, infer_inputs=[i], parameters={"variant": VERSION})
        res = await gc.infer(req)
        same_bits("kserve grpc infer", res.outputs[0].as_numpy(), ref)
        await gc.close()

    asyncio.run(run())


if FAMILY == "kserve":
    step("kserve", kserve_clients)

print(json.dumps({"checks": checks, "failures": failures}))
