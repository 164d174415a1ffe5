"""``tensor_sharing_strategy``: the config key the tools apply to torch.multiprocessing."""
import pytest
import torch
import torch.multiprocessing as torch_mp
from mmengine.config import Config
from torch.utils.data import DataLoader, Dataset

from mmhandobj.utils import set_tensor_sharing_strategy


@pytest.fixture
def restore_strategy():
    before = torch_mp.get_sharing_strategy()
    yield
    torch_mp.set_sharing_strategy(before)


class _SmallTensors(Dataset):
    """Samples shaped like ours: a dict of several small tensors."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, index: int) -> dict:
        gen = torch.Generator().manual_seed(index)
        return dict(img=torch.randint(0, 255, (3, 8, 8), generator=gen, dtype=torch.uint8),
                    boxes=torch.rand(1, 4, generator=gen),
                    joints=torch.rand(1, 21, 2, generator=gen), index=torch.tensor(index))


def test_quick_start_config_selects_file_system(restore_strategy):
    torch_mp.set_sharing_strategy('file_descriptor')
    cfg = Config.fromfile('configs/hfl/hfl_r18_synthetic.py')
    assert set_tensor_sharing_strategy(cfg) == 'file_system'
    assert torch_mp.get_sharing_strategy() == 'file_system'


def test_none_keeps_pytorch_default(restore_strategy):
    torch_mp.set_sharing_strategy('file_descriptor')
    assert set_tensor_sharing_strategy(Config(dict(tensor_sharing_strategy=None))) is None
    assert set_tensor_sharing_strategy(Config(dict())) is None
    assert torch_mp.get_sharing_strategy() == 'file_descriptor'


def test_unknown_strategy_names_key_and_choices(restore_strategy):
    with pytest.raises(ValueError, match=r"tensor_sharing_strategy='shm'.*file_system"):
        set_tensor_sharing_strategy(Config(dict(tensor_sharing_strategy='shm')))


def test_worker_batches_arrive_intact(restore_strategy):
    set_tensor_sharing_strategy(Config(dict(tensor_sharing_strategy='file_system')))
    loader = DataLoader(_SmallTensors(), batch_size=2, num_workers=1,
                        collate_fn=lambda batch: batch,
                        multiprocessing_context='fork')
    seen = [sample for batch in loader for sample in batch]
    assert [int(s['index']) for s in seen] == list(range(6))
    for sample in seen:
        expected = _SmallTensors()[int(sample['index'])]
        for key, value in expected.items():
            assert torch.equal(sample[key], value), key
