#!/usr/bin/env bash
# Copyright 2026 The hydranet_perception Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# GPU readiness check, in under 8 minutes on a machine with CUDA; one JSON line per figure.
#
#   1. the CUDA tests (test_inference.py: torch fp16 on CUDA against fp32 on the CPU, the
#      onnxruntime CUDA provider on the device it was given);
#   2. torch CUDA fp16 against CPU fp32 on the shipped weights and a generated scene:
#      raw outputs within 5% of each output's range + 1e-2 (fp16 unit roundoff 2**-11
#      over fewer than 64 layers ~ 3%), detections matched by class and IoU, and the
#      CUDA fp16 forward time;
#   3. a TensorRT fp16 engine through onnxruntime's TensorRT provider (where installed):
#      build time, cached-engine load time, run time, agreement with CPU fp32;
#   4. bench/model_cost.py, and bench/node_latency.py with the node on the GPU (backend
#      torch, device auto) beside onnxruntime.
# Without CUDA it says so and exits 0. Each step has its own time limit and the whole
# run stops starting steps after BUDGET_S seconds (default 450).
#
# usage: bench/gpu_check.sh        (PY=/path/to/python to choose the interpreter)

set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
BUDGET_S="${BUDGET_S:-450}"
START=$(date +%s)
cd "$ROOT/hydranet_perception"

if ! "$PY" -c 'import sys
from hydranet_perception.inference.devices import cuda_device_count
sys.exit(0 if cuda_device_count() else 1)' 2>/dev/null; then
  echo '{"gpu_check": "skipped", "reason": "no CUDA device here (no NVIDIA driver, or torch without CUDA)"}'
  exit 0
fi

left() { echo $(( BUDGET_S - ($(date +%s) - START) )); }
step() {  # step NAME LIMIT_S COMMAND...: run it if the budget allows, report its status
  local name=$1 limit=$2; shift 2
  if [ "$(left)" -lt 20 ]; then
    echo "{\"step\": \"$name\", \"skipped\": \"time budget of ${BUDGET_S} s spent\"}"
    return
  fi
  [ "$limit" -gt "$(left)" ] && limit=$(left)
  local t0=$(date +%s)
  timeout "$limit" "$@"
  local rc=$?
  echo "{\"step\": \"$name\", \"rc\": $rc, \"seconds\": $(( $(date +%s) - t0 ))$( \
    [ $rc -eq 124 ] && echo ", \"timed_out_after_s\": $limit")}"
}

step cuda_tests 150 "$PY" -m pytest -q -p no:cacheprovider -rs test/test_inference.py -k cuda

step fp16_parity 90 "$PY" - <<'PY'
import json, time
import numpy as np
import torch
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.engine.export import compare_predictions
from hydranet_perception.inference import Predictor
from hydranet_perception.preprocess import letterbox

cpu = Predictor.from_weights(backend='torch', device='cpu', score_thresh=0.3)
gpu = Predictor.from_weights(backend='torch', device='cuda:0', fp16=True, score_thresh=0.3)
worst, matched = {}, []
for i in range(3):
    rgb = generate_scene((7, i)).image
    x, _ = letterbox(rgb, cpu.input_size)
    a, b = cpu.backend.run(x[None], cpu.tasks), gpu.backend.run(x[None], gpu.tasks)
    for k in a:
        rel = float(np.abs(a[k] - b[k]).max()) / (float(np.abs(a[k]).max()) + 1e-12)
        worst[k] = max(worst.get(k, 0.0), rel)
    matched.append(compare_predictions(cpu(rgb), gpu(rgb)))
for k, v in sorted(worst.items()):
    print(json.dumps({'figure': 'fp16_vs_fp32_raw_rel_diff', 'output': k, 'value': round(v, 5),
                      'tolerance': 0.05, 'ok': v <= 0.05}))
print(json.dumps({'figure': 'fp16_vs_fp32_detections', 'images': matched}))
x = torch.rand(1, 3, 480, 640, device='cuda:0').half()
model = gpu.backend.model
with torch.inference_mode():
    for _ in range(10):
        model(x)
    torch.cuda.synchronize()
    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        model(x)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
print(json.dumps({'figure': 'torch_cuda_fp16_forward_ms_p50', 'input': '640x480',
                  'device': torch.cuda.get_device_name(0),
                  'value': round(float(np.median(times)) * 1e3, 3)}))
PY

step tensorrt 150 "$PY" - <<'PY'
import json, tempfile, time
import numpy as np
from hydranet_perception.inference import backends
from hydranet_perception.inference.weights import load_weights
import onnxruntime as ort

if 'TensorrtExecutionProvider' not in ort.get_available_providers():
    print(json.dumps({'figure': 'tensorrt', 'skipped': 'onnxruntime has no TensorRT provider '
                      f'here ({", ".join(ort.get_available_providers())})'}))
    raise SystemExit(0)
w = load_weights(None, runtime='tensorrt')
cache = tempfile.mkdtemp(prefix='hydranet_trt_')
t0 = time.perf_counter()
trt = backends.TensorRtBackend(w, device='cuda:0', fp16=True, cache_dir=cache)
x = np.random.default_rng(0).random((1, 3) + tuple(trt.input_size), dtype=np.float32)
trt.run(x, trt.tasks)  # the engine is built on the first run
print(json.dumps({'figure': 'tensorrt_fp16_engine_build_s',
                  'value': round(time.perf_counter() - t0, 2)}))
t0 = time.perf_counter()
again = backends.TensorRtBackend(w, device='cuda:0', fp16=True, cache_dir=cache)
again.run(x, again.tasks)
print(json.dumps({'figure': 'tensorrt_fp16_cached_engine_load_s',
                  'value': round(time.perf_counter() - t0, 2)}))
times = []
for _ in range(50):
    t0 = time.perf_counter()
    out = again.run(x, again.tasks)
    times.append(time.perf_counter() - t0)
print(json.dumps({'figure': 'tensorrt_fp16_run_ms_p50',
                  'input': f'{trt.input_size[1]}x{trt.input_size[0]}',
                  'value': round(float(np.median(times)) * 1e3, 3)}))
ref = backends.OnnxRuntimeBackend(w, device='cpu').run(x, trt.tasks)
for k in ref:
    rel = float(np.abs(ref[k] - out[k]).max()) / (float(np.abs(ref[k]).max()) + 1e-12)
    print(json.dumps({'figure': 'tensorrt_fp16_vs_cpu_fp32_raw_rel_diff', 'output': k,
                      'value': round(rel, 5), 'tolerance': 0.05, 'ok': rel <= 0.05}))
PY

step model_cost 100 "$PY" ../bench/model_cost.py --runs 5 --sizes n
step node_latency 120 "$PY" ../bench/node_latency.py --backends torch onnxruntime --seconds 5
echo "{\"gpu_check\": \"done\", \"seconds\": $(( $(date +%s) - START ))}"
