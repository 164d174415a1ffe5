"""The YCB object class table shared by both datasets, the detector's classes and the world.

DexYCB numbers its objects 1..21 (``_YCB_CLASSES`` of the DexYCB toolkit); HO3D names the same
YCB-Video models (``objName``) and stores the DexYCB id as ``objLabel``. An object model lives
at ``<obj_model_root>/<name>/points.xyz``.
"""
from typing import Dict

#: DexYCB ``_YCB_CLASSES``: class id -> YCB name (ids 1..21). HO3D uses the same names.
YCB_CLASSES: Dict[int, str] = {
    1: '002_master_chef_can', 2: '003_cracker_box', 3: '004_sugar_box',
    4: '005_tomato_soup_can', 5: '006_mustard_bottle', 6: '007_tuna_fish_can',
    7: '008_pudding_box', 8: '009_gelatin_box', 9: '010_potted_meat_can', 10: '011_banana',
    11: '019_pitcher_base', 12: '021_bleach_cleanser', 13: '024_bowl', 14: '025_mug',
    15: '035_power_drill', 16: '036_wood_block', 17: '037_scissors', 18: '040_large_marker',
    19: '051_large_clamp', 20: '052_extra_large_clamp', 21: '061_foam_brick',
}
#: Inverse of :data:`YCB_CLASSES`: YCB name -> class id.
YCB_CLASS_IDS: Dict[str, int] = {name: cls for cls, name in YCB_CLASSES.items()}
