import os.path as osp
import pickle

import numpy as np
import torch

from mmhandobj.datasets import DexYCBDataset, HO3DDataset
from mmhandobj.datasets.transforms import GenerateHandVertices
from mmhandobj.models.mano import ManoLayer


def test_ho3d_vertices_match_translation_formula(ho3d_root):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    transform = GenerateHandVertices(mano_root=osp.join(ho3d_root, 'mano'))
    layer = ManoLayer(mano_root=osp.join(ho3d_root, 'mano'), use_pca=False, flat_hand_mean=True,
                      units='m')
    for idx in (0, len(dataset) - 1):
        info = dataset.get_data_info(idx)
        seq, fid = info['frame_key'].split('/')
        with open(osp.join(ho3d_root, 'train', seq, 'meta', f'{fid}.pkl'), 'rb') as f:
            meta = pickle.load(f, encoding='latin1')
        # docs/data_formats.md D2: v_gl = MANO(handPose, handBeta) + handTrans, v_cv = C v_gl
        verts, _ = layer(torch.tensor(np.asarray(meta['handPose'], np.float32))[None],
                         torch.tensor(np.asarray(meta['handBeta'], np.float32))[None])
        expected = (verts[0].double().numpy() + np.ravel(meta['handTrans'])) * [1, -1, -1]
        np.testing.assert_allclose(transform(info)['hand_verts3d_cam'], expected, atol=1e-5)


def test_dexycb_vertices_match_pca_layer_for_both_sides(dexycb_root):
    dataset = DexYCBDataset(data_root=dexycb_root, split='train')
    mano_root = osp.join(dexycb_root, 'mano')
    transform = GenerateHandVertices(mano_root=mano_root)
    seen = set()
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        if info['hand_side'] in seen:
            continue
        seen.add(info['hand_side'])
        subject, seq, serial, frame = info['frame_key'].split('/')
        with np.load(osp.join(dexycb_root, subject, seq, serial, f'labels_{frame}.npz')) as npz:
            pose_m = torch.tensor(npz['pose_m'])
        # the toolkit's layer: PCA, 45 components, mean-relative, translation in metres
        layer = ManoLayer(mano_root=mano_root, side=info['hand_side'], use_pca=True, ncomps=45,
                          flat_hand_mean=False, units='m')
        verts, _ = layer(pose_m[:, :48], torch.tensor(info['mano_shape'])[None],
                         pose_m[:, 48:51])
        np.testing.assert_allclose(transform(info)['hand_verts3d_cam'], verts[0].numpy(), atol=1e-5)
    assert seen == {'left', 'right'}
