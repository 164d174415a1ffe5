"""The web demo in a real browser (headless Chromium through selenium)."""
import glob
import json
import os.path as osp
import shutil
import socket
import time
from pathlib import Path

import pytest

from mmhandobj.datasets.converters.ho3d import read_ho3d_meta

SCREENSHOT = Path(__file__).parents[2] / 'docs' / 'images' / 'web_demo.png'
BOXES = dict(hand_box='262 161 358 320', obj_box='183 160 396 320', cam='614.6 614.0 312.4 236.1')
TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def browser():
    pytest.importorskip('gradio', reason='gradio is not installed (pip install gradio)')
    webdriver = pytest.importorskip('selenium.webdriver',
                                    reason='selenium is not installed (pip install selenium)')
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver_path = shutil.which('chromedriver')
    if not chromium or not driver_path:
        pytest.skip('chromium / chromedriver not found (apt-get install chromium '
                    'chromium-driver)')
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1400,1300',
                '--disable-dev-shm-usage'):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    yield driver
    driver.quit()


def serve(app):
    port = free_port()
    app.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True,
               quiet=True)
    return f'http://127.0.0.1:{port}'


def wait_for(predicate, what: str):
    end = time.time() + TIMEOUT_S
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f'timed out waiting for {what}')


def test_upload_frame_shows_overlay_3d_and_json(browser, load_demo, tiny_hfl, ho3d_raw_root):
    from selenium.webdriver.common.by import By
    web_demo = load_demo('web_demo')
    frame = sorted(glob.glob(osp.join(ho3d_raw_root, 'train', '*', 'rgb', '*.png')))[0]
    # The object is named, so the GLB holds the posed object model (a random model's hand
    # may have no root in front of the camera).
    obj_name = read_ho3d_meta(frame.replace('/rgb/', '/meta/').replace('.png', '.pkl'))[
        'objName']
    app = web_demo.build_app(*tiny_hfl, obj_model_root=osp.join(ho3d_raw_root, 'models'))
    url = serve(app)
    try:
        browser.get(url)
        upload = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR,
                                                        '#upload input[type=file]'),
                          'the upload field')[0]
        upload.send_keys(frame)
        for elem_id, text in dict(BOXES, obj_name=obj_name).items():
            browser.find_element(By.CSS_SELECTOR, f'#{elem_id} textarea, #{elem_id} input'
                                 ).send_keys(text)
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#upload a, #upload .file'),
                 'the upload to finish')
        browser.find_element(By.ID, 'run').click()

        def json_text():
            area = browser.find_elements(By.CSS_SELECTOR, '#json textarea')
            return area and area[0].get_attribute('value')
        rec = json.loads(wait_for(json_text, 'the predictions'))
        assert len(rec['hand_joints_mm']) == 21 and len(rec['hand_joints2d_px']) == 21
        overlay = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#overlay img'),
                           'the overlay image')[0]
        assert wait_for(lambda: browser.execute_script(
            'return arguments[0].complete && arguments[0].naturalWidth', overlay),
            'the overlay to load') == 640
        wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#view3d canvas'),
                 'the 3D view')
        time.sleep(1.0)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))
    finally:
        app.close()


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
