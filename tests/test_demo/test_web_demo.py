"""The web demo in a real browser (headless Chromium through selenium)."""
import glob
import os.path as osp
import shutil

import pytest
from repo_scripts import load_script

from mmhandobj.datasets.converters.ho3d import read_ho3d_meta

BOXES = dict(hand_box='262 161 358 320', obj_box='183 160 396 320', cam='614.6 614.0 312.4 236.1')


def _load_tool():
    return load_script('tools/misc/web_demo_screenshot.py')


screenshot_tool = _load_tool()
serve, wait_for = screenshot_tool.serve, screenshot_tool.wait_for


@pytest.fixture(scope='module')
def browser():
    pytest.importorskip('gradio', reason='gradio is not installed (pip install gradio)')
    pytest.importorskip('selenium.webdriver',
                        reason='selenium is not installed (pip install selenium)')
    if not (shutil.which('chromium') or shutil.which('chromium-browser')) or not shutil.which(
            'chromedriver'):
        pytest.skip('chromium / chromedriver not found (apt-get install chromium '
                    'chromium-driver)')
    driver = screenshot_tool.make_browser()
    yield driver
    driver.quit()


def test_upload_frame_shows_overlay_3d_and_json(browser, load_demo, tiny_hfl, ho3d_raw_root,
                                               tmp_path):
    web_demo = load_demo('web_demo')
    frame = sorted(glob.glob(osp.join(ho3d_raw_root, 'train', '*', 'rgb', '*.png')))[0]
    # The object is named, so the GLB holds the posed object model (a random model's hand
    # may have no root in front of the camera).
    obj_name = read_ho3d_meta(frame.replace('/rgb/', '/meta/').replace('.png', '.pkl'))[
        'objName']
    app = web_demo.build_app(*tiny_hfl, obj_model_root=osp.join(ho3d_raw_root, 'models'))
    url = serve(app)
    try:
        result = screenshot_tool.run_in_browser(browser, url, frame,
                                                dict(BOXES, obj_name=obj_name),
                                                screenshot=tmp_path / 'web_demo.png')
    finally:
        app.close()
    rec = result['record']
    assert len(rec['hand_joints_mm']) == 21 and len(rec['hand_joints2d_px']) == 21
    assert result['overlay_width'] == 640 and result['canvas']
    assert (tmp_path / 'web_demo.png').stat().st_size > 0


def test_non_image_upload_says_so_in_the_page(browser, load_demo, tiny_hfl, tmp_path):
    from selenium.webdriver.common.by import By
    web_demo = load_demo('web_demo')
    text_file = tmp_path / 'notes.txt'
    text_file.write_text('not an image')
    app = web_demo.build_app(*tiny_hfl)
    url = serve(app)
    try:
        browser.get(url)
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#upload input[type=file]'),
                 'the upload field')[0].send_keys(str(text_file))
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#upload a, #upload .file'),
                 'the upload to finish')
        browser.find_element(By.ID, 'run').click()
        message = wait_for(lambda: 'not an image' in browser.find_element(
            By.ID, 'message').text and browser.find_element(By.ID, 'message').text,
            'the message')
        assert 'notes.txt' in message
    finally:
        app.close()


def test_without_checkpoint_says_how_to_get_one(browser, load_demo, tmp_path):
    from selenium.webdriver.common.by import By
    web_demo = load_demo('web_demo')
    app = web_demo.build_app('configs/hfl/hfl_r18_synthetic.py', str(tmp_path / 'none.pth'))
    url = serve(app)
    try:
        browser.get(url)
        text = wait_for(lambda: browser.find_elements(By.ID, 'no_checkpoint') and
                        browser.find_element(By.ID, 'no_checkpoint').text, 'the message')
        assert 'python tools/train.py configs/hfl/hfl_r18_synthetic.py' in text
    finally:
        app.close()
