"""Packages whose public names load on first use.

The command line imports a package's command module to build its parser; a package that imported its public
names eagerly would make every `--help` pay for pandas, Matplotlib, SciPy or DuckDB behind names it never calls
(`review import --help` took 1.2 s). Such a package lists its public names with the submodule that defines each,
and `lazy_exports` gives it a module `__getattr__` that imports the submodule when a name is first asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], object]:
    """A module `__getattr__` for `package`: each name of `exports` (name -> submodule) read from its submodule."""

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{exports[name]}"), name)

    return __getattr__
