"""Semi-Hand-Object (Liu et al., CVPR 2021): one trunk, one FPN, contextual reasoning on the
object RoI."""
from typing import Optional

from mmhandobj.registry import MODELS

from .hflnet import HFLNet


@MODELS.register_module()
class SemiHandObject(HFLNet):
    """Semi-Hand-Object's network (``HONet`` of stevenlsw/Semi-Hand-Object), from HFL-Net's parts.

    Data flow: single-stream ResNet (``HFLResNet`` with ``split_stages=()``) -> one FPN
    (``DualFPN`` with ``share_weights=True``) -> P2 -> RoIAlign of the hand box, the object
    box and their intersection (zeros when the boxes do not overlap) -> the hand head reads the
    hand RoI directly; the contextual-reasoning (CR) transformer takes the object RoI as query
    and the intersection RoI as key/value, without stopping the gradient, and feeds the object
    head. There is no object-to-hand block. Losses, the hand and object heads, vote decoding
    and PnP are HFL-Net's (:class:`HFLNet`), which was forked from this network.

    Args:
        backbone (dict): A single-stream trunk (``split_stages=()``).
        neck (dict): A shared FPN (``share_weights=True``).
        roi_extractor (dict): ``HandObjectRoIExtractor`` config.
        contextual_reasoning (dict): The CR block, a ``HandToObjectFusion`` config (SHO: one
            layer, one head, ``detach_context=False``). Stored as ``hand_to_obj_fusion``.
        hand_head, obj_head (dict): Head configs.
        data_preprocessor, train_cfg, test_cfg, init_cfg: as :class:`HFLNet`.

    Raises:
        ValueError: The backbone has split stages or the neck has one FPN per stream (that is
            HFL-Net without its object-to-hand block; build :class:`HFLNet` with
            ``obj_to_hand_fusion=None`` instead).
    """

    def __init__(self, backbone: dict, neck: dict, roi_extractor: dict,
                 contextual_reasoning: dict, hand_head: dict, obj_head: dict,
                 data_preprocessor: Optional[dict] = None, train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(backbone, neck, roi_extractor, obj_to_hand_fusion=None,
                         hand_to_obj_fusion=contextual_reasoning, hand_head=hand_head,
                         obj_head=obj_head, data_preprocessor=data_preprocessor,
                         train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg)
        if getattr(self.backbone, 'split_stages', ()) != ():
            raise ValueError('SemiHandObject needs a single-stream trunk: set '
                             f'model.backbone.split_stages=() (got {self.backbone.split_stages})')
        if not getattr(self.neck, 'share_weights', False):
            raise ValueError('SemiHandObject needs one FPN: set model.neck.share_weights=True')
