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
Identity loss: supervised contrastive learning of the embeddings over track ids.

Each positive anchor (from the detection assignment) carries the identity of its
object: ``(identity_group, track_id)``.  ``identity_group`` says which images show the
same world (e.g. two frames of one generated sequence share a group, and a track id
means the same object in both); it defaults to the image's index in the batch, so that
without groups only the anchors of one object in one image are positives.  The loss is
SupCon (Khosla et al., NeurIPS 2020) on the unit embeddings: for each anchor ``i`` with
at least one positive, ``-mean_{p in P(i)} log(exp(s_ip / t) / sum_{k != i}
exp(s_ik / t))`` with ``s`` the cosine similarity and ``t`` the temperature, averaged
over those anchors.  A batch with no positive pair gives 0.
"""

from typing import Dict, List

from hydranet_perception.losses.assign import Assignment
import torch

__all__ = ['identity_labels', 'identity_loss', 'supcon']

GROUP_SHIFT = 1 << 24  # identity label = group * GROUP_SHIFT + track id


def identity_labels(targets: List[dict], assignment: Assignment) -> torch.Tensor:
    """
    Return int64[B, A], the identity of each positive anchor's object (-1 elsewhere).

    Objects without a known track (no 'track_ids', or an id <= 0) get -1.

    :param targets: B dicts with 'track_ids' int64[N] (>= 1) and optionally
        'identity_group' (an int).
    :param assignment: the label assignment of the batch.
    """
    labels = torch.full_like(assignment.gt_index, -1)
    for b, tgt in enumerate(targets):
        ids = tgt.get('track_ids')
        fg = assignment.fg[b]
        if ids is None or not bool(fg.any()):
            continue
        ids = ids.to(labels.device, torch.int64)
        track = ids[assignment.gt_index[b][fg]]
        group = int(tgt.get('identity_group', b))
        lab = torch.where(track > 0, group * GROUP_SHIFT + track, torch.full_like(track, -1))
        labels[b][fg] = lab
    return labels


def supcon(embeddings: torch.Tensor, labels: torch.Tensor, *,
           temperature: float = 0.1) -> torch.Tensor:
    """
    Return the supervised contrastive loss of unit embeddings Tensor[M, D], labels int[M].

    :param embeddings: Tensor[M, D], rows of unit length.
    :param labels: Tensor[M] identities; equal labels are positives.
    :param temperature: t.
    :return: Tensor[], 0 (with grad) when no anchor has a positive.
    """
    m = embeddings.shape[0]
    if m < 2:
        return embeddings.sum() * 0.0
    sim = embeddings.float() @ embeddings.float().t() / temperature
    eye = torch.eye(m, dtype=torch.bool, device=embeddings.device)
    sim = sim.masked_fill(eye, float('-inf'))
    log_prob = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    pos = (labels[:, None] == labels[None, :]) & ~eye
    npos = pos.sum(1)
    has = npos > 0
    if not bool(has.any()):
        return embeddings.sum() * 0.0
    per = -(log_prob.masked_fill(~pos, 0.0).sum(1)[has]) / npos[has]
    return per.mean()


def identity_loss(embeddings: torch.Tensor, targets: List[dict], assignment: Assignment, *,
                  con_gain: float = 1.0, temperature: float = 0.1,
                  max_anchors: int = 1024) -> Dict[str, torch.Tensor]:
    """
    Return the contrastive loss of the positive anchors' embeddings over their identities.

    :param embeddings: Tensor[B, A, D] unit embeddings (``identity``).
    :param targets: B dicts with 'track_ids' and optionally 'identity_group'.
    :param assignment: the label assignment of the batch.
    :param con_gain: factor of the ``con`` term.
    :param temperature: the SupCon temperature.
    :param max_anchors: at most this many positive anchors enter (a random subset
        beyond, from torch's global generator), bounding the M x M similarity matrix.
    :return: {'con': Tensor[]}.
    """
    labels = identity_labels(targets, assignment)
    keep = labels >= 0
    emb, lab = embeddings[keep], labels[keep]
    if emb.shape[0] > max_anchors:
        pick = torch.randperm(emb.shape[0], device=emb.device)[:max_anchors]
        emb, lab = emb[pick], lab[pick]
    if emb.shape[0] == 0:
        return {'con': embeddings.sum() * 0.0}
    return {'con': supcon(emb, lab, temperature=temperature) * con_gain}
