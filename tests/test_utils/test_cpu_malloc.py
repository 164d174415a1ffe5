"""``malloc_retain_freed``: glibc keeps freed tensor memory instead of page-faulting it back."""
import subprocess
import sys
import textwrap

import pytest
from mmengine.config import Config

from mmhandobj.utils import apply_malloc_config
from mmhandobj.utils.cpu_malloc import CONFIG_KEY, _glibc

glibc_only = pytest.mark.skipif(_glibc() is None, reason='mallopt needs glibc')

# Allocates and frees a 40 MiB tensor 20 times after a warm-up round and prints the minor page
# faults of the second round; with argv[1] == '1' it first applies the quick-start config.
_CYCLE = textwrap.dedent('''
    import resource, sys, torch
    from mmengine.config import Config
    from mmhandobj.utils import apply_malloc_config
    if sys.argv[1] == '1':
        assert apply_malloc_config(Config.fromfile('configs/hfl/hfl_r18_synthetic.py'))
    def cycle():
        for _ in range(20):
            block = torch.ones(10 * 2**20)
            del block
    cycle()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cycle()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
''')
PAGES_PER_BLOCK = 40 * 2**20 // 4096


def _faults(retain: bool) -> int:
    out = subprocess.run([sys.executable, '-c', _CYCLE, '1' if retain else '0'], check=True,
                         capture_output=True, text=True)
    return int(out.stdout.strip().splitlines()[-1])


@glibc_only
def test_retained_memory_is_reused_without_page_faults():
    # glibc's default mmaps each 40 MiB block and unmaps it on free: every page faults again
    assert _faults(retain=False) > 10 * PAGES_PER_BLOCK
    # the config's setting keeps the freed block in the heap: the 20 new blocks fault nothing
    assert _faults(retain=True) < PAGES_PER_BLOCK // 10


def test_configs_retain_by_default():
    cfg = Config.fromfile('configs/hfl/hfl_r50_ho3d.py')
    assert cfg.get(CONFIG_KEY) is True


@pytest.mark.parametrize('value', [False, None])
def test_off_values_leave_the_allocator(value):
    assert apply_malloc_config(Config({CONFIG_KEY: value})) is False
    assert apply_malloc_config(Config()) is False


def test_bad_value_names_the_key():
    with pytest.raises(ValueError, match=r"malloc_retain_freed='yes'.*True, False or None"):
        apply_malloc_config(Config({CONFIG_KEY: 'yes'}))
