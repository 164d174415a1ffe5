from .hflnet import HFLNet, crop_to_image, normalise_to_box

__all__ = ['HFLNet', 'crop_to_image', 'normalise_to_box']
