import pytest
import torch

from mmhandobj.utils.key_map import PrefixKeyMap, rename_by_prefix

KEY_MAP = PrefixKeyMap(
    name='Toy', prefixes=(('net.a.', 'x.'), ('net.a.b.', 'y.'), ('net.c.', 'z.')),
    dropped=('net.mano.', 'net.const'), wrappers=('outer.module.', 'module.'),
    export_constants={'net.const': torch.eye(2)})


def test_longest_prefix_wins_and_unmatched_is_none():
    assert rename_by_prefix('net.a.b.w', KEY_MAP.prefixes) == 'y.w'
    assert rename_by_prefix('net.a.bb.w', KEY_MAP.prefixes) == 'x.bb.w'
    assert rename_by_prefix('net.d.w', KEY_MAP.prefixes) is None


def test_to_ours_strips_wrappers_drops_and_lists_unknown_and_missing():
    state = {'outer.module.net.a.w': torch.ones(1), 'module.net.c.v': torch.zeros(2),
             'net.mano.th_faces': torch.zeros(3), 'net.const': torch.eye(2),
             'net.constant_other': torch.ones(1)}
    with pytest.raises(KeyError, match=r"Toy .*1 unknown key\(s\) \['net.constant_other'\]; "
                                       r"1 missing key\(s\) \['z.u'\]"):
        KEY_MAP.to_ours(state, expected_keys=['x.w', 'z.v', 'z.u'])
    del state['net.constant_other']
    out = KEY_MAP.to_ours(state, expected_keys=['x.w', 'z.v'])
    assert list(out) == ['x.w', 'z.v'] and out['z.v'] is state['module.net.c.v']


def test_to_foreign_inverts_and_adds_constants():
    ours = {'y.w': torch.ones(1), 'x.v': torch.zeros(1)}
    foreign = KEY_MAP.to_foreign(ours, prefix='module.')
    assert list(foreign) == ['module.net.a.b.w', 'module.net.a.v', 'module.net.const']
    assert torch.equal(foreign['module.net.const'], torch.eye(2))
    assert list(KEY_MAP.to_ours(foreign)) == ['y.w', 'x.v']
    with pytest.raises(KeyError, match='Toy counterpart.*q.w'):
        KEY_MAP.to_foreign({'q.w': torch.ones(1)})
