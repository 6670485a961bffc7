"""Top-level code runs while the block is snapshotted at build time: it tries to rewrite the
SDK it was built with (the copy another block's build would see), then defines a block."""
import os

from weft import loader

for root in ("/0", "/1", "/2", "/3"):
    target = os.path.join(root, "weft", "_table.py")
    try:
        with open(target, "a") as f:
            f.write("\nraise RuntimeError('poisoned SDK')\n")
    except OSError:
        pass


@loader
def sdk_poison():
    return [{"ok": 1}]
