"""Makes the reference libraries importable in the reference environment (see README.md).

Everything here is about *finding* the reference code, never about changing what it computes:

* the extracted source trees (diffusers 0.21.4, huggingface_hub 0.17.3, transformers 4.9.0.dev0, ftfy 6.1.1)
  are put first on sys.path; their root is $SDREF_ROOT (default /tmp/sdref);
* `safetensors` (a compiled extension, not installed) is replaced by the pure-Python file reader/writer in
  safetensors_io.py;
* transformers 4.9's import-time dependency check (`transformers.dependency_versions_check`) is replaced by a
  module that runs the same checks except `sacremoses`: that package is not installed, is only used by the
  XLM/FSMT/... tokenizers, and is never touched by CLIP;
* transformers 4.9 declares the compiled `tokenizers` package as a dependency (not installed here) and, without
  it, falls back to a stub `AddedToken` dataclass that lacks the real class's `__str__` (the token's text), so
  every special token (`<|startoftext|>`, ...) would be looked up by its repr and get a wrong id. The stub is
  given that `__str__`. Nothing else in transformers is altered.

The module must be imported before diffusers / transformers.
"""

import importlib.machinery
import os
import sys
import types

SDREF_ROOT = os.environ.get("SDREF_ROOT", "/tmp/sdref")
SOURCE_DIRS = [
    os.path.join(SDREF_ROOT, "diffusers-0.21.4", "src"),
    os.path.join(SDREF_ROOT, "hfhub-0.17.3", "src"),
    os.path.join(SDREF_ROOT, "transformers-4.9", "src"),
    os.path.join(SDREF_ROOT, "ftfy-6.1.1"),
]

# Skipped from transformers 4.9's runtime dependency check, with the reason (recorded in README.md).
SKIPPED_DEPENDENCY_CHECKS = {
    "sacremoses": "not packaged for Debian 12; used only by non-CLIP tokenizers",
}

_here = os.path.dirname(os.path.abspath(__file__))
if _here not in sys.path:
    sys.path.insert(0, _here)

import safetensors_io  # noqa: E402  (needs the path above)


def _install_transformers_dependency_check():
    """Stands in for transformers/dependency_versions_check.py, minus the skipped packages."""
    module = types.ModuleType("transformers.dependency_versions_check")
    module.__spec__ = importlib.machinery.ModuleSpec("transformers.dependency_versions_check", None)

    def run_checks():
        # Imported lazily: the package `transformers` is being initialised when this runs.
        from transformers.dependency_versions_table import deps
        from transformers.file_utils import is_tokenizers_available
        from transformers.utils.versions import require_version, require_version_core

        for pkg in "python tqdm regex sacremoses requests packaging filelock numpy tokenizers".split():
            if pkg in SKIPPED_DEPENDENCY_CHECKS:
                continue
            if pkg == "tokenizers" and not is_tokenizers_available():
                continue  # the original skips it too when the package is absent
            require_version_core(deps[pkg])

        def dep_version_check(pkg, hint=None):
            require_version(deps[pkg], hint)

        module.dep_version_check = dep_version_check
        module.deps = deps

    module._run_checks = run_checks
    sys.modules["transformers.dependency_versions_check"] = module


def set_ftfy_available(available):
    """Lets the next CLIPTokenizer construction find ftfy (True) or not (False).

    transformers 4.9's CLIPTokenizer imports ftfy in its constructor and falls back to BERT's BasicTokenizer when
    the import fails; `sys.modules["ftfy"] = None` makes that import fail exactly as if ftfy were not installed.
    """
    if available:
        if sys.modules.get("ftfy", 0) is None:
            del sys.modules["ftfy"]
        import ftfy  # noqa: F401
    else:
        sys.modules["ftfy"] = None


def setup():
    """Puts the reference sources on sys.path and installs the two stand-ins; returns the version map."""
    for path in reversed(SOURCE_DIRS):
        if not os.path.isdir(path):
            raise SystemExit(f"reference source tree {path} is missing; see scripts/stable-diffusion-reference/README.md")
        if path not in sys.path:
            sys.path.insert(0, path)
    safetensors_io.install_as_safetensors_module()
    sys.modules["safetensors"].__spec__ = importlib.machinery.ModuleSpec("safetensors", None, is_package=True)
    _install_transformers_dependency_check()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DIFFUSERS_NO_ADVISORY_WARNINGS", "1")

    import torch

    torch.set_num_threads(1)
    transformers_spec = importlib.machinery.PathFinder.find_spec("transformers", SOURCE_DIRS)
    import transformers

    sys.modules["transformers.dependency_versions_check"]._run_checks()
    # transformers 4.9 swaps itself for a lazy module without __spec__, and diffusers probes it with
    # importlib.util.find_spec, which refuses a module whose __spec__ is None: give back the real spec.
    if getattr(sys.modules["transformers"], "__spec__", None) is None:
        sys.modules["transformers"].__spec__ = transformers_spec
    import transformers.tokenization_utils_base as tokenization_utils_base

    if not tokenization_utils_base.is_tokenizers_available():
        tokenization_utils_base.AddedToken.__str__ = lambda self: self.content
    import diffusers
    import ftfy
    import huggingface_hub

    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": __import__("numpy").__version__,
        "diffusers": diffusers.__version__,
        "transformers": transformers.__version__,
        "huggingface_hub": huggingface_hub.__version__,
        "ftfy": ftfy.__version__,
    }
