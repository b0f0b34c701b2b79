"""nngrade: grade neural-network homework notebooks with pytest checks run outside the kernel.

The package re-exports `grader.checks`, the API that check files import, so that
``from grader import Notebook, CheckFailure`` and ``from grader.checks import ...`` are one.
"""

from grader.checks import *  # noqa: F403
from grader.checks import __all__ as __all__
