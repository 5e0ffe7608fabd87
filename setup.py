"""The one build step pyproject.toml cannot say: the wheel carries the course notebooks.

``notebooks/*.ipynb`` stay where a clone opens them; building copies them into the package as
``reti/notebooks/`` so that ``reti notebooks DIR`` finds them in a pip-installed reti too
(``reti/cli/notebooks.py`` reads that folder first, then the clone's ``notebooks/``).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


class BuildWithNotebooks(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib, "reti", "notebooks")
        self.mkpath(str(target))
        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            self.copy_file(str(path), str(target / path.name))


setup(cmdclass={"build_py": BuildWithNotebooks})
