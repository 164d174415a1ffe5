"""Drive ``demo/web_demo.py`` in headless Chromium and save a screenshot of its result.

Starts the web demo on a free loopback port with the given model, uploads one image, fills the
boxes, intrinsics and object name, presses "Estimate", waits until the overlay, the 3D view
and the JSON are on the page and saves the window as a PNG. The picture in the docs
(``docs/images/web_demo.png``) is made with it from the quick-start checkpoint, and the web
demo's browser test runs the same steps (:func:`run_in_browser`).

Needs Debian's ``chromium`` and ``chromium-driver`` and the pip packages ``gradio`` and
``selenium``.

Example::

    python tools/misc/web_demo_screenshot.py configs/hfl/hfl_r18_synthetic.py \\
        work_dirs/hfl_r18_synthetic/epoch_10.pth data/synthetic/ho3d/evaluation/SM3/rgb/0010.png \\
        --hand-box 262 161 358 320 --obj-box 183 160 396 320 --cam 614.6 614.0 312.4 236.1 \\
        --obj-name 006_mustard_bottle --obj-model-root data/synthetic/ho3d/models \\
        --out docs/images/web_demo.png
"""
import argparse
import importlib.util
import json
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120  # a CPU forward of the R50 model plus PnP and the GLB, with margin
WINDOW = (1400, 1300)  # browser window, CSS pixels


def load_web_demo():
    """``demo/web_demo.py`` as a module (``demo/`` is not a package)."""
    spec = importlib.util.spec_from_file_location('web_demo', ROOT / 'demo' / 'web_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_browser():
    """Headless Chromium through selenium; raises ``RuntimeError`` naming what is missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chromium = shutil.which('chromium') or shutil.which('chromium-browser')
    driver_path = shutil.which('chromedriver')
    if not chromium or not driver_path:
        raise RuntimeError('chromium / chromedriver not found (apt-get install chromium '
                           'chromium-driver)')
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu',
                f'--window-size={WINDOW[0]},{WINDOW[1]}', '--disable-dev-shm-usage'):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=options)


def serve(app) -> str:
    """Launch a gradio app on a free 127.0.0.1 port without blocking; its URL."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    app.launch(server_name='127.0.0.1', server_port=port, prevent_thread_lock=True, quiet=True)
    return f'http://127.0.0.1:{port}'


def wait_for(predicate: Callable[[], Any], what: str, timeout_s: float = TIMEOUT_S) -> Any:
    """Poll ``predicate`` until it returns something truthy; AssertionError naming ``what``."""
    end = time.time() + timeout_s
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f'timed out after {timeout_s:g} s waiting for {what}')


def run_in_browser(browser, url: str, image: str, fields: Dict[str, str],
                   screenshot: Optional[str] = None) -> Dict[str, Any]:
    """Upload ``image``, fill ``fields`` (element id -> text), press Estimate, wait for results.

    Returns:
        dict: ``record`` (the JSON shown in the page), ``overlay_width`` (the loaded overlay
        image's natural width, pixels) and ``canvas`` (whether the 3D view drew a canvas).
    """
    from selenium.webdriver.common.by import By
    browser.get(url)
    upload = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#upload input[type=file]'),
                      'the upload field')[0]
    upload.send_keys(str(Path(image).resolve()))  # the driver wants an absolute path
    for elem_id, text in fields.items():
        browser.find_element(By.CSS_SELECTOR,
                             f'#{elem_id} textarea, #{elem_id} input').send_keys(text)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#upload a, #upload .file'),
             'the upload to finish')
    browser.find_element(By.ID, 'run').click()

    def json_text():
        area = browser.find_elements(By.CSS_SELECTOR, '#json textarea')
        return area and area[0].get_attribute('value')
    record = json.loads(wait_for(json_text, 'the predictions'))
    overlay = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#overlay img'),
                       'the overlay image')[0]
    width = wait_for(lambda: browser.execute_script(
        'return arguments[0].complete && arguments[0].naturalWidth', overlay),
        'the overlay to load')
    canvas = bool(wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, '#view3d canvas'),
                           'the 3D view'))
    if screenshot:
        time.sleep(2.0)  # let the 3D viewer finish drawing the meshes
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(screenshot))
    return dict(record=record, overlay_width=width, canvas=canvas)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config')
    parser.add_argument('checkpoint', help='checkpoint (.pth)')
    parser.add_argument('image', help='image to upload')
    parser.add_argument('--hand-box', nargs=4, required=True, metavar=('X1', 'Y1', 'X2', 'Y2'))
    parser.add_argument('--obj-box', nargs=4, required=True, metavar=('X1', 'Y1', 'X2', 'Y2'))
    parser.add_argument('--cam', nargs=4, required=True, metavar=('FX', 'FY', 'CX', 'CY'))
    parser.add_argument('--obj-name', default='', help='object model name')
    parser.add_argument('--obj-model-root', help='folder with <obj-name>/ model files')
    parser.add_argument('--out', required=True, help='PNG to write')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    app = load_web_demo().build_app(args.config, args.checkpoint,
                                    obj_model_root=args.obj_model_root)
    url = serve(app)
    browser = make_browser()
    try:
        result = run_in_browser(browser, url, args.image, dict(
            hand_box=' '.join(args.hand_box), obj_box=' '.join(args.obj_box),
            cam=' '.join(args.cam), obj_name=args.obj_name), screenshot=args.out)
    finally:
        browser.quit()
        app.close()
    rec = result['record']
    print(f'{args.out}: status {rec.get("status")}, {len(rec.get("hand_joints_mm", []))} '
          f'joints, overlay {result["overlay_width"]} px wide, 3D canvas {result["canvas"]}')


if __name__ == '__main__':
    main()
