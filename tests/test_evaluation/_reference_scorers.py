"""Slow, per-frame reference implementations of the official scorers, written for the tests.

They follow the official scripts' per-frame formulas literally (scipy orthogonal_procrustes,
brute-force nearest neighbours, per-keypoint lists), independently of mmhandobj's batched code.
"""
import numpy as np
from scipy.linalg import orthogonal_procrustes


def ref_align_w_scale(gt, pred, return_trafo=False):
    """Official HO3D/FreiHAND align_w_scale for one frame (gt = mtx1, pred = mtx2)."""
    t1, t2 = gt.mean(0), pred.mean(0)
    gt_t, pred_t = gt - t1, pred - t2
    s1 = np.linalg.norm(gt_t) + 1e-8
    s2 = np.linalg.norm(pred_t) + 1e-8
    gt_t, pred_t = gt_t / s1, pred_t / s2
    rot, s = orthogonal_procrustes(gt_t, pred_t)
    if return_trafo:
        return rot, s, s1, t1 - t2
    return np.dot(pred_t, rot.T) * s * s1 + t1


def ref_align_by_trafo(points, trafo):
    rot, s, s1, offset = trafo
    mean = points.mean(0)
    return np.dot(points - mean, rot.T) * s * s1 + offset + mean


def ref_umeyama(pred, gt):
    """HFL-Net rigid_align for one frame."""
    n = pred.shape[0]
    ca, cb = pred.mean(0), gt.mean(0)
    h = np.dot((pred - ca).T, gt - cb) / n
    u, s, vt = np.linalg.svd(h)
    rot = vt.T @ u.T
    if np.linalg.det(rot) < 0:
        s[-1] = -s[-1]
        vt[2] = -vt[2]
        rot = vt.T @ u.T
    c = np.sum(s) / np.var(pred, axis=0).sum()
    t = cb - c * rot @ ca
    return (c * rot @ pred.T).T + t


def ref_align_sc_tr(gt, pred):
    pred = pred.copy()
    s = np.sqrt(np.sum((pred[4] - pred[0]) ** 2))
    if s > 0:
        pred = pred / s
    pred = pred * np.sqrt(np.sum((gt[4] - gt[0]) ** 2))
    return pred - pred[0:1] + gt[0:1]


class RefEvalUtil:
    """Per-keypoint lists, PCK with <=, explicit trapezoid AUC (FreiHAND EvalUtil)."""

    def __init__(self, num_kp=21):
        self.data = [[] for _ in range(num_kp)]

    def feed(self, gt, pred):
        for k in range(gt.shape[0]):
            self.data[k].append(float(np.sqrt(np.sum((gt[k] - pred[k]) ** 2))))

    def get_measures(self, val_min, val_max, steps):
        thresholds = np.linspace(val_min, val_max, steps)

        def trap(y):
            return sum((thresholds[i + 1] - thresholds[i]) * (y[i + 1] + y[i]) / 2.0
                       for i in range(steps - 1))

        means, aucs, curves = [], [], []
        for values in self.data:
            values = np.array(values)
            means.append(values.mean())
            curve = list((values[:, None] <= thresholds[None, :]).mean(axis=0))
            curves.append(curve)
            aucs.append(trap(curve) / trap(np.ones(steps)))
        return np.mean(means), np.mean(aucs), np.mean(curves, 0), thresholds


def ref_fscore(gt, pred, th):
    """Brute-force nearest neighbours, strict <, F = 2PR/(P+R)."""
    dists = np.sqrt(((gt[:, None, :] - pred[None, :, :]) ** 2).sum(-1))
    d_gt = dists.min(axis=1)
    d_pred = dists.min(axis=0)
    recall = float(sum(d < th for d in d_pred)) / len(d_pred)
    precision = float(sum(d < th for d in d_gt)) / len(d_gt)
    if recall + precision > 0:
        return 2 * recall * precision / (recall + precision)
    return 0.0


def ref_ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts):
    """The official eval.py main loop on in-memory arrays (same keys, cm for means)."""
    ev_xyz, ev_pa, ev_sc = RefEvalUtil(), RefEvalUtil(), RefEvalUtil()
    ev_mesh, ev_mesh_al = RefEvalUtil(778), RefEvalUtil(778)
    f_raw, f_al = [], []
    is_mano = pred_verts.shape[1] == gt_verts.shape[1]
    for i in range(len(gt_xyz)):
        xyz, verts, pxyz, pverts = gt_xyz[i], gt_verts[i], pred_xyz[i], pred_verts[i]
        ev_xyz.feed(xyz, pxyz)
        if is_mano:
            ev_mesh.feed(verts, pverts)
        ev_sc.feed(xyz, ref_align_sc_tr(xyz, pxyz))
        ev_pa.feed(xyz, ref_align_w_scale(xyz, pxyz))
        if is_mano:
            verts_al = ref_align_w_scale(verts, pverts)
            ev_mesh_al.feed(verts, verts_al)
        else:
            verts_al = ref_align_by_trafo(pverts, ref_align_w_scale(xyz, pxyz, True))
        f_raw.append([ref_fscore(verts, pverts, t) for t in (0.005, 0.015)])
        f_al.append([ref_fscore(verts, verts_al, t) for t in (0.005, 0.015)])
    out = {}
    for name, ev in (('xyz', ev_xyz), ('xyz_procrustes_al', ev_pa),
                     ('xyz_scale_trans_al', ev_sc), ('mesh', ev_mesh), ('mesh_al', ev_mesh_al)):
        if name.startswith('mesh') and not is_mano:
            out[f'{name}_mean3d'], out[f'{name}_auc3d'] = -100.0, -1.0
            continue
        mean, auc, _, _ = ev.get_measures(0.0, 0.05, 100)
        out[f'{name}_mean3d'], out[f'{name}_auc3d'] = mean * 100, auc
    f_raw, f_al = np.mean(f_raw, 0), np.mean(f_al, 0)
    out.update(f_score_5=f_raw[0], f_al_score_5=f_al[0], f_score_15=f_raw[1],
               f_al_score_15=f_al[1])
    return out


def random_hands(rng, num, num_verts=778, noise=0.004):
    """GT joints/verts around a camera-frame wrist (metres) and noisy predictions."""
    root = rng.uniform([-0.1, -0.1, -0.7], [0.1, 0.1, -0.4], size=(num, 1, 3))
    gt_xyz = root + rng.normal(scale=0.04, size=(num, 21, 3))
    gt_verts = root + rng.normal(scale=0.04, size=(num, num_verts, 3))
    pred_xyz = gt_xyz + rng.normal(scale=noise, size=gt_xyz.shape)
    pred_verts = gt_verts + rng.normal(scale=noise, size=gt_verts.shape)
    return pred_xyz, pred_verts, gt_xyz, gt_verts
