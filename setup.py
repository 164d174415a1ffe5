from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    with open('mmhandobj/version.py', encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def read_requirements(path: str) -> list:
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip() and not line.startswith(('#', '-r'))]


setup(
    name='mmhandobj',
    version=read_version(),
    description='OpenMMLab-style joint 3D hand and object pose estimation (HFL-Net)',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('configs', 'tools', 'demo', 'tests')),
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
    },
    license='Apache License 2.0',
)
