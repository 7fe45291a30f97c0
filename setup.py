"""Build of the one compiled part: the insertion loop of ruin and recreate.

Everything else is in pyproject.toml. The extension is optional: when it cannot be built
(no C compiler or Python headers) Rounds installs without it and runs the same loop in Python,
with the same answers, a few times slower (scheduler/optimizer/slack.py, "Kernel").
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "scheduler.optimizer._insertion",
            ["scheduler/optimizer/_insertion.c"],
            extra_compile_args=["-O2"],
            optional=True,
        )
    ]
)
