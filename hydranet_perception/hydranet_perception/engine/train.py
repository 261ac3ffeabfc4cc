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
``hydranet-train CONFIG``: multi-task training with logged, balanced losses.

One process, or several under ``torchrun`` (DDP: NCCL on GPUs, gloo on CPUs). Rank 0
writes ``out_dir``: ``train_log.csv`` (every loss term by name, per logged step),
``losses.png``, ``last.pt`` (resumable: model, optimiser, balancer, step) and
``final.pt`` (weights only, the file the node and ``hydranet-eval`` load).
"""

import argparse
import contextlib
import csv
import math
import os
import pathlib
import sys
import time
from typing import Dict, Optional

from hydranet_perception.data.coco import CocoDataset
from hydranet_perception.data.datasets import collate, DatasetError, SyntheticDataset
from hydranet_perception.data.transforms import eval_transforms, train_transforms
from hydranet_perception.engine.config import DataConfig, load_train_config, to_dict, \
    TrainConfig
from hydranet_perception.engine.ema import ModelEMA
from hydranet_perception.inference.devices import resolve_device
from hydranet_perception.losses import build_balancer, compute_losses
from hydranet_perception.model import build_model, load_model_config
from hydranet_perception.model.checkpoint import CheckpointError, load_checkpoint, \
    save_checkpoint
from hydranet_perception.model.init_from import init_from_checkpoint
from hydranet_perception.schema import default_label_space
import torch
from torch.utils.data import DataLoader, DistributedSampler


def autocast_for(device: torch.device, amp: str):
    """Return the autocast context for ``amp`` on ``device`` (bf16 on CPU uses AMX here)."""
    if amp == 'off':
        return contextlib.nullcontext()
    if amp == 'auto':
        amp = 'fp16' if device.type == 'cuda' else 'bf16'
    dtype = torch.float16 if amp == 'fp16' else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype)


def build_dataset(cfg: DataConfig, *, label_space, size, train: bool, scale_range=(1, 1),
                  depth: bool = False):
    """
    Build the dataset a DataConfig describes, with training or evaluation transforms.

    ``depth``: generated scenes also carry their metric depth (the depth head's target).
    """
    tf = (train_transforms(label_space, size, scale_range=scale_range) if train
          else eval_transforms(size))
    if cfg.kind == 'synthetic':
        return SyntheticDataset(cfg.num_images, seed=cfg.seed, height=cfg.height,
                                width=cfg.width, label_space=label_space, transforms=tf,
                                **({'depth': True} if depth else {}))
    if cfg.kind == 'coco':
        if cfg.root:
            return CocoDataset.from_split_dir(cfg.root, transforms=tf, label_space=label_space)
        return CocoDataset(cfg.instances_json, cfg.image_dir,
                           panoptic_json=cfg.panoptic_json or None,
                           panoptic_dir=cfg.panoptic_dir or None, transforms=tf,
                           label_space=label_space)
    if cfg.kind == 'yolo':
        from hydranet_perception.data.yolo_format import YoloDataset
        return YoloDataset(cfg.data_yaml, split=cfg.split, label_space=label_space,
                           transforms=tf)
    raise ValueError(f'data kind {cfg.kind!r}: use synthetic, coco or yolo')


class _Dist:
    """torchrun's environment, or a single process."""

    def __init__(self, device_name: str):
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        self.local_rank = int(os.environ.get('LOCAL_RANK', '0'))
        self.device = torch.device(resolve_device(device_name))
        if self.device.type == 'cuda' and self.world > 1:
            self.device = torch.device('cuda', self.local_rank)
            torch.cuda.set_device(self.device)
        if self.world > 1:
            backend = 'nccl' if self.device.type == 'cuda' else 'gloo'
            torch.distributed.init_process_group(backend=backend)

    @property
    def main(self) -> bool:
        return self.rank == 0

    def close(self):
        if self.world > 1:
            torch.distributed.destroy_process_group()


def run_fraction(step: int, elapsed_s: float, cfg: TrainConfig) -> float:
    """Fraction of the run done: by steps, or by time when a time budget ends it sooner."""
    t = step / max(1, cfg.max_steps)
    if cfg.time_budget_min:
        t = max(t, elapsed_s / (cfg.time_budget_min * 60))
    return min(1.0, t)


def lr_at(step: int, frac: float, cfg: TrainConfig) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to 5% by the end of the run."""
    warm = max(1, cfg.optim.warmup_steps)
    if step < warm:
        return cfg.optim.lr * (step + 1) / warm
    return cfg.optim.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))


def _targets_to(targets, device):
    return [{k: (v.to(device) if torch.is_tensor(v) else v) for k, v in t.items()}
            for t in targets]


def train(cfg: TrainConfig, *, resume: Optional[str] = None, progress: bool = True,
          init_from: Optional[str] = None) -> Dict:
    """
    Train as ``cfg`` says; return a summary (steps, seconds, last losses, paths).

    ``resume`` continues a run (same config); ``init_from`` starts a new run from another
    checkpoint's weights where names and shapes match (``model/init_from.py``).
    """
    dist = _Dist(cfg.device)
    torch.manual_seed(cfg.seed + dist.rank)
    out = pathlib.Path(cfg.out_dir)
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
    model_cfg = load_model_config(dict(cfg.model))
    label_space = model_cfg.label_space or default_label_space()
    model = build_model(model_cfg).to(dist.device)
    balancer = build_balancer(cfg.balancing, tasks=cfg.tasks,
                              weights=dict(cfg.task_weights)).to(dist.device)
    params = [{'params': [p for p in model.parameters() if p.ndim > 1],
               'weight_decay': cfg.optim.weight_decay},
              {'params': [p for p in model.parameters() if p.ndim <= 1], 'weight_decay': 0.0},
              {'params': list(balancer.parameters()), 'weight_decay': 0.0}]
    opt = torch.optim.AdamW(params, lr=cfg.optim.lr, betas=(0.9, 0.999))
    step, elapsed0 = 0, 0.0
    if resume:
        state = load_checkpoint(resume)
        model.load_state_dict(state['state_dict'])
        train_state = state.get('meta', {}).get('train_state') or {}
        if train_state.get('optimizer'):
            opt.load_state_dict(train_state['optimizer'])
        if train_state.get('balancer'):
            balancer.load_state_dict(train_state['balancer'])
        step = int(train_state.get('step', 0))
        elapsed0 = float(train_state.get('elapsed_s', 0.0))  # the time budget continues
    elif init_from or cfg.init_from or cfg.backbone_weights:
        if cfg.backbone_weights:  # a local torchvision state dict (ImageNet) for the trunk
            from hydranet_perception.model.backbone_torchvision import load_backbone_weights
            report = load_backbone_weights(model, cfg.backbone_weights)
            if dist.main:
                print(f'backbone weights {cfg.backbone_weights}:', report.text(), flush=True)
        if init_from or cfg.init_from:
            report = init_from_checkpoint(model, init_from or cfg.init_from,
                                          target_label_space=label_space)
            if dist.main:
                print(report.text(), flush=True)
    ema = ModelEMA(model, decay=cfg.ema_decay, tau=cfg.ema_tau) if cfg.ema_decay else None
    if ema is not None and resume and train_state.get('ema'):
        ema.load_state_dict(train_state['ema'])
    net = model
    if dist.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dist.device.index] if dist.device.type == 'cuda' else None,
            find_unused_parameters=set(cfg.tasks) != set(model.tasks))
    ds = build_dataset(cfg.train, label_space=label_space, size=tuple(cfg.input_size),
                       train=True, scale_range=tuple(cfg.scale_range),
                       depth='depth' in cfg.tasks)
    sampler = DistributedSampler(ds, num_replicas=dist.world, rank=dist.rank, shuffle=True,
                                 seed=cfg.seed) if dist.world > 1 else None
    loader = DataLoader(ds, batch_size=cfg.batch_size, shuffle=sampler is None,
                        sampler=sampler, num_workers=cfg.workers, collate_fn=collate,
                        drop_last=True, persistent_workers=cfg.workers > 0,
                        generator=torch.Generator().manual_seed(cfg.seed))
    scaler = torch.amp.GradScaler('cuda', enabled=dist.device.type == 'cuda' and
                                  cfg.amp in ('auto', 'fp16'))
    log_f = writer = None
    if dist.main:
        new = not (out / 'train_log.csv').exists() or not resume
        log_f = open(out / 'train_log.csv', 'w' if new else 'a', newline='')
        writer = None if new else csv.writer(log_f)
    bar = None
    if dist.main and progress:
        from tqdm import tqdm
        bar = tqdm(total=cfg.max_steps, initial=step, desc='train', unit='step',
                   dynamic_ncols=True)
    t_start = time.monotonic() - elapsed0
    epoch = 0
    last_terms: Dict[str, float] = {}
    model.train()
    stop = False
    data_wait, t_ready = 0.0, time.monotonic()  # seconds the step waited for batches
    while not stop:
        if sampler is not None:
            sampler.set_epoch(epoch)
        for images, targets in loader:
            data_wait += time.monotonic() - t_ready
            frac = run_fraction(step, time.monotonic() - t_start, cfg)
            if dist.world > 1:  # every rank must stop at the same step
                flag = torch.tensor([frac], device=dist.device)
                torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
                frac = float(flag)
            if frac >= 1.0:
                stop = True
                break
            for g in opt.param_groups:
                g['lr'] = lr_at(step, frac, cfg)
            images = images.to(dist.device, non_blocking=True)
            targets = _targets_to(targets, dist.device)
            with autocast_for(dist.device, cfg.amp):
                outputs = net(images, tasks=list(cfg.tasks))
            outputs = {k: v.float() if torch.is_tensor(v) else v for k, v in outputs.items()}
            total, terms = compute_losses(outputs, targets, cfg=model_cfg, balancer=balancer)
            opt.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            scaler.step(opt)
            scaler.update()
            if ema is not None:
                ema.update(model)
            step += 1
            if dist.main and (step % cfg.log_every == 0 or step == 1):
                last_terms = {k: float(v) for k, v in terms.items()}
                last_terms['total'] = float(total.detach())
                last_terms['data_wait_s'] = round(data_wait, 3)
                row = {'step': step, 'epoch': epoch, 'lr': opt.param_groups[0]['lr'],
                       'seconds': round(time.monotonic() - t_start, 2), **last_terms}
                if writer is None:
                    writer = csv.DictWriter(log_f, fieldnames=list(row))
                    writer.writeheader()
                if isinstance(writer, csv.DictWriter):
                    writer.writerow({k: row.get(k, '') for k in writer.fieldnames})
                else:
                    writer.writerow(list(row.values()))
                log_f.flush()
                if bar is not None:
                    bar.set_postfix(loss=f'{float(total):.3f}')
            if bar is not None:
                bar.update(1)
            t_ready = time.monotonic()
            if dist.main and step % cfg.ckpt_every == 0:
                el = time.monotonic() - t_start
                _save(out / 'last.pt', model, model_cfg, cfg, opt, balancer, step, el, ema=ema)
                # Weights-only snapshots (averaged), to compare runs at equal step budgets.
                _save(out / f'step_{step:06d}.pt', ema.module if ema else model, model_cfg,
                      cfg, None, balancer, step, el)
        epoch += 1
    seconds = time.monotonic() - t_start
    summary = {'steps': step, 'seconds': round(seconds, 1), 'last_losses': last_terms,
               'world_size': dist.world}
    if dist.main:
        if bar is not None:
            bar.close()
        log_f.close()
        _save(out / 'last.pt', model, model_cfg, cfg, opt, balancer, step, seconds, ema=ema)
        # final.pt holds the averaged weights (what is evaluated and shipped); final_raw.pt
        # the last raw ones, to measure what the average brings.
        _save(out / 'final.pt', ema.module if ema else model, model_cfg, cfg, None, balancer,
              step, seconds)
        if ema is not None:
            _save(out / 'final_raw.pt', model, model_cfg, cfg, None, balancer, step, seconds)
        summary.update(checkpoint=str(out / 'final.pt'), resume=str(out / 'last.pt'))
        try:
            from hydranet_perception.engine.plots import plot_losses
            plot_losses(out / 'train_log.csv', out / 'losses.png')
        except ImportError:
            pass
    dist.close()
    return summary


def _save(path, model, model_cfg, cfg, opt, balancer, step, elapsed_s, *, ema=None):
    train_state = {'step': step, 'balancer': balancer.state_dict(),
                   'elapsed_s': round(float(elapsed_s), 2)}
    if opt is not None:
        train_state['optimizer'] = opt.state_dict()
    if ema is not None:
        train_state['ema'] = ema.state_dict()
    save_checkpoint(path, model=model, config=model_cfg,
                    meta={'train_config': to_dict(cfg), 'train_state': train_state,
                          'task_weights': balancer.describe()})


def main(argv=None):
    """Parse arguments and train."""
    ap = argparse.ArgumentParser(prog='hydranet-train',
                                 description=__doc__.strip().splitlines()[0])
    ap.add_argument('config', help='training YAML (see config/train_n.yaml)')
    ap.add_argument('--resume', help='continue from a last.pt')
    ap.add_argument('--init-from', metavar='CKPT',
                    help='start from these weights where names and shapes match, '
                    're-initialise the rest (new classes, schemas, heads); a new run')
    ap.add_argument('--out', help='override out_dir')
    ap.add_argument('--max-steps', type=int, help='override max_steps')
    ap.add_argument('--time-budget-min', type=float, help='override time_budget_min')
    ap.add_argument('--no-progress', action='store_true', help='no progress bar')
    args = ap.parse_args(argv)
    try:
        cfg = load_train_config(args.config)
    except (OSError, ValueError) as e:
        print(f'hydranet-train: bad config {args.config}: {e}', file=sys.stderr)
        return 2
    if args.out:
        cfg.out_dir = args.out
    if args.max_steps:
        cfg.max_steps = args.max_steps
    if args.time_budget_min is not None:
        cfg.time_budget_min = args.time_budget_min
    if args.resume and args.init_from:
        print('hydranet-train: --resume continues a run, --init-from starts a new one: '
              'give one', file=sys.stderr)
        return 2
    try:
        summary = train(cfg, resume=args.resume, progress=not args.no_progress,
                        init_from=args.init_from)
    except (CheckpointError, DatasetError) as e:
        print(f'hydranet-train: {e}', file=sys.stderr)
        return 2
    if int(os.environ.get('RANK', '0')) == 0:
        print({k: v for k, v in summary.items() if k != 'last_losses'})
        print('last losses:', {k: round(v, 4) for k, v in summary['last_losses'].items()})
    return 0


if __name__ == '__main__':
    sys.exit(main())
