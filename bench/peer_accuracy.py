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

"""
HydraNet beside Ultralytics YOLOv8n-seg and YOLOv8n-pose, scored by one evaluator.

The peers train from scratch (``yolov8n-seg.yaml``, ``yolov8n-pose.yaml``: nothing is
downloaded) on the scenes HydraNet trains on (``generate_scene((1, i))`` at 240 x 320,
as config/train_n.yaml), written in the YOLO format: polygons of the three thing
classes for -seg, the 17 COCO keypoints of persons for -pose (one network cannot hold
a 17-point and a 4-point schema).  Both see ``--train-images * --epochs`` images,
which ``--images-budget`` sets to HydraNet's (steps x batch of its run) when given.
Then all three are scored on a held-out split (seed 999, 480 x 640) with
``hydranet-eval``'s COCO code: bbox and mask AP per class from -seg, person keypoint AP
from -pose (with the data set's OKS sigmas), everything from HydraNet's checkpoint.
JSON lines, one per model, the last ``{"summary": true, ...}``.  Needs the bench
requirement ``ultralytics``; not a test (it trains for as long as the budget says).
``--seg-weights`` / ``--pose-weights`` take a peer already trained (e.g. the
YOLOv8n-pose teacher of ``bench/distill.py``) instead of training it; the output names
the file, and what it saw is then that file's business.
"""

import argparse
import contextlib
import io
import json
import os
import pathlib
import sys
import tempfile
import time

import cv2
from hydranet_perception.data.coco import CocoDataset, generate_synthetic_split
from hydranet_perception.data.synthetic import generate_scene
from hydranet_perception.engine.evaluate import _coco_eval, _oks_sigmas, evaluate
from hydranet_perception.engine.runtimes import make_predictor
from hydranet_perception.schema import default_label_space
import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

LS = default_label_space()
THINGS = [LS.classes[i].name for i in LS.thing_ids]  # YOLO class j = thing channel j
PERSON_FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def write_yolo_splits(root: pathlib.Path, *, seed: int, num_images: int, height: int,
                      width: int) -> dict:
    """
    Write ``num_images`` scenes as a YOLO seg split and a YOLO pose split (persons).

    :return: {'seg': data.yaml path, 'pose': data.yaml path, 'instances': count}.
    """
    for sub in ('seg/images', 'seg/labels', 'pose/images', 'pose/labels'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    count = 0
    for i in range(num_images):
        scene = generate_scene((seed, i), height=height, width=width, label_space=LS)
        name = f'{i:06d}'
        img_path = root / 'seg' / 'images' / f'{name}.jpg'
        cv2.imwrite(str(img_path), cv2.cvtColor(scene.image, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        pose_img = root / 'pose' / 'images' / f'{name}.jpg'
        if not pose_img.exists():
            os.symlink(img_path, pose_img)
        seg_lines, pose_lines = [], []
        for inst in scene.instances:
            cls = LS.thing_index(inst.class_id)
            contours, _ = cv2.findContours(inst.mask.astype(np.uint8), cv2.RETR_EXTERNAL,
                                           cv2.CHAIN_APPROX_SIMPLE)
            poly = max(contours, key=cv2.contourArea)[:, 0].astype(np.float64) + 0.5
            if len(poly) < 3:
                continue
            poly /= (width, height)
            seg_lines.append(f'{cls} ' + ' '.join(f'{v:.6f}' for v in poly.ravel()))
            count += 1
            if LS.classes[inst.class_id].name == 'person':
                x1, y1, x2, y2 = inst.box
                box = ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width,
                       (y2 - y1) / height)
                kp = [f'{x / width:.6f} {y / height:.6f} {int(v)}' if v > 0 else '0 0 0'
                      for x, y, v in inst.keypoints]
                pose_lines.append('0 ' + ' '.join(f'{v:.6f}' for v in box) + ' '
                                  + ' '.join(kp))
        (root / 'seg' / 'labels' / f'{name}.txt').write_text('\n'.join(seg_lines) + '\n')
        (root / 'pose' / 'labels' / f'{name}.txt').write_text('\n'.join(pose_lines) + '\n')
    seg_yaml, pose_yaml = root / 'seg.yaml', root / 'pose.yaml'
    seg_yaml.write_text(json.dumps({'path': str(root / 'seg'), 'train': 'images',
                                    'val': 'images', 'names': dict(enumerate(THINGS))}))
    pose_yaml.write_text(json.dumps({'path': str(root / 'pose'), 'train': 'images',
                                     'val': 'images', 'names': {0: 'person'},
                                     'kpt_shape': [17, 3], 'flip_idx': PERSON_FLIP}))
    return {'seg': str(seg_yaml), 'pose': str(pose_yaml), 'instances': count}


def train_peer(model_yaml: str, data_yaml: str, *, epochs: int, imgsz: int, batch: int,
               out: pathlib.Path, name: str, workers: int):
    """Train an Ultralytics model from scratch; return (model, seconds)."""
    from ultralytics import YOLO
    try:
        import polars  # noqa: F401 (Ultralytics 8.4 reads its results.csv with it)
    except ImportError:  # ... only to store the curves in the checkpoint: skip that
        from ultralytics.engine.trainer import BaseTrainer
        BaseTrainer.read_results_csv = lambda self: {}
    model = YOLO(model_yaml)
    t0 = time.monotonic()
    model.train(data=data_yaml, epochs=epochs, imgsz=imgsz, batch=batch, device='cpu',
                workers=workers, val=False, plots=False, amp=False, pretrained=False,
                project=str(out), name=name, exist_ok=True, verbose=False)
    return model, time.monotonic() - t0


def peer_results(seg, pose, dataset: CocoDataset, cat_of_thing: dict, *, imgsz: int,
                 conf: float) -> list:
    """Predict every image of ``dataset`` with the peers; return COCO result dicts."""
    person_cat = cat_of_thing['person']
    out = []
    for i in range(len(dataset)):
        image_id = int(dataset.images[i]['id'])
        bgr = cv2.cvtColor(dataset.load_image(i), cv2.COLOR_RGB2BGR)
        r = seg.predict(bgr, imgsz=imgsz, conf=conf, retina_masks=True, verbose=False,
                        device='cpu')[0]
        boxes, scores = r.boxes.xyxy.numpy(), r.boxes.conf.numpy()
        classes = r.boxes.cls.numpy().astype(int)
        masks = r.masks.data.numpy() > 0.5 if r.masks is not None else None
        for j in range(len(boxes)):
            x1, y1, x2, y2 = (float(v) for v in boxes[j])
            res = {'image_id': image_id, 'category_id': cat_of_thing[THINGS[classes[j]]],
                   'bbox': [x1, y1, x2 - x1, y2 - y1], 'score': float(scores[j])}
            if masks is not None:
                rle = mask_utils.encode(np.asfortranarray(masks[j].astype(np.uint8)))
                rle['counts'] = rle['counts'].decode('ascii')
                res['segmentation'] = rle
            out.append(res)
        out += pose_results(pose, bgr, image_id, person_cat, imgsz=imgsz, conf=conf)
    return out


def pose_results(pose, bgr: np.ndarray, image_id: int, category_id: int, *, imgsz: int,
                 conf: float) -> list:
    """Predict one BGR image with an Ultralytics pose model; return COCO result dicts."""
    r = pose.predict(bgr, imgsz=imgsz, conf=conf, verbose=False, device='cpu')[0]
    if r.keypoints is None:
        return []
    kps = r.keypoints.data.numpy()  # [N, 17, 3]: x, y, confidence
    out = []
    for j in range(len(kps)):
        x1, y1, x2, y2 = (float(v) for v in r.boxes.xyxy.numpy()[j])
        out.append({'image_id': image_id, 'category_id': category_id,
                    'bbox': [x1, y1, x2 - x1, y2 - y1],
                    'score': float(r.boxes.conf.numpy()[j]),
                    'keypoints': [float(v) for v in kps[j].ravel()]})
    return out


def score_peer(gt: COCO, results: list, cat_of_thing: dict, dataset: CocoDataset) -> dict:
    """Return bbox / mask AP (and per class) and person keypoint AP of the peers."""
    boxes = [r for r in results if 'keypoints' not in r]
    report = {'bbox_AP': _coco_eval(gt, boxes, 'bbox'), 'segm_AP': _coco_eval(gt, boxes, 'segm')}
    for iou_type in ('bbox', 'segm'):
        report[f'{iou_type}_AP_per_class'] = {
            n: _coco_eval(gt, boxes, iou_type, cat_ids=[cat_of_thing[n]]) for n in THINGS}
    person = LS.by_name('person')
    report['keypoints_AP_per_class'] = {'person': _coco_eval(
        gt, [r for r in results if 'keypoints' in r], 'keypoints',
        cat_ids=[cat_of_thing['person']], sigmas=_oks_sigmas(person, dataset.label_space))}
    return report


def main(argv=None):
    """Parse arguments, train the peers, score all three; print JSON lines."""
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--hydranet', default='', help='checkpoint (default: the shipped one)')
    ap.add_argument('--train-images', type=int, default=2000)
    ap.add_argument('--epochs', type=int, default=1)
    ap.add_argument('--images-budget', type=int, default=0,
                    help="HydraNet's training images (steps x batch): sets --epochs")
    ap.add_argument('--val-images', type=int, default=200)
    ap.add_argument('--imgsz', type=int, default=320)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--workers', type=int, default=1)
    ap.add_argument('--conf', type=float, default=0.05, help="as hydranet-eval's threshold")
    ap.add_argument('--out', default='out/bench/peer_accuracy')
    ap.add_argument('--seg-weights', default='', help='a trained YOLOv8n-seg .pt: no training')
    ap.add_argument('--pose-weights', default='',
                    help='a trained YOLOv8n-pose .pt: no training')
    args = ap.parse_args(argv)
    if args.images_budget:
        args.epochs = max(1, round(args.images_budget / args.train_images))
    os.environ.setdefault('YOLO_OFFLINE', '1')
    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        t0 = time.monotonic()
        data = write_yolo_splits(tmp / 'yolo', seed=1, num_images=args.train_images,
                                 height=240, width=320)
        print(json.dumps({'stage': 'data', 'train_images': args.train_images,
                          'instances': data['instances'],
                          'seconds': round(time.monotonic() - t0, 1)}), flush=True)
        generate_synthetic_split(str(tmp / 'val'), seed=999, num_images=args.val_images)
        dataset = CocoDataset.from_split_dir(str(tmp / 'val'))
        instances = str(tmp / 'val' / 'annotations' / 'instances.json')
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO(instances)
        cat_of_thing = {LS.classes[c].name: cat for cat, c in dataset.cat_to_class.items()
                        if LS.classes[c].is_thing}
        peers = {}
        for name, given in (('seg', args.seg_weights), ('pose', args.pose_weights)):
            if given:
                from ultralytics import YOLO
                peers[name] = (YOLO(given), 0.0)
            else:
                peers[name] = train_peer(f'yolov8n-{name}.yaml', data[name], epochs=args.epochs,
                                         imgsz=args.imgsz, batch=args.batch, out=out,
                                         name=name, workers=args.workers)
            print(json.dumps({'stage': f'{name} ready', 'weights': given or 'trained here',
                              'seconds': round(peers[name][1], 1)}), flush=True)
        (seg, seg_s), (pose, pose_s) = peers['seg'], peers['pose']
        results = peer_results(seg, pose, dataset, cat_of_thing, imgsz=args.imgsz,
                               conf=args.conf)
        peer = score_peer(gt, results, cat_of_thing, dataset)
        peer.update(model='yolov8n-seg + yolov8n-pose', train_seconds=round(seg_s + pose_s, 1),
                    images_seen=args.train_images * args.epochs,
                    seg_weights=args.seg_weights or 'trained here',
                    pose_weights=args.pose_weights or 'trained here')
        lines.append(peer)
        print(json.dumps(peer), flush=True)
        hydra = evaluate(make_predictor(args.hydranet or None, device='cpu',
                                        score_thresh=args.conf), dataset, instances)
        hydra['model'] = f'hydranet ({args.hydranet or "shipped weights"})'
        lines.append(hydra)
        print(json.dumps(hydra), flush=True)
    keys = ('bbox_AP', 'segm_AP')
    summary = {'summary': True, 'val_images': args.val_images, 'epochs': args.epochs,
               'peer_images_seen': args.train_images * args.epochs,
               'seg_weights': args.seg_weights or 'trained here',
               'pose_weights': args.pose_weights or 'trained here'}
    for k in keys:
        summary[f'peer_{k}'], summary[f'hydranet_{k}'] = peer[k], hydra[k]
    summary['peer_person_kp_AP'] = peer['keypoints_AP_per_class']['person']
    summary['hydranet_person_kp_AP'] = hydra['keypoints_AP_per_class'].get('person')
    summary['hydranet_instrument_kp_AP'] = hydra['keypoints_AP_per_class'].get('instrument')
    summary['hydranet_PQ'] = hydra.get('PQ')
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
