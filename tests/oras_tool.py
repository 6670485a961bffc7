"""A second OCI client (oras-py) for the package tests.

    oras_tool.py pull REF OUTDIR [USER PASSWORD]   the layers into OUTDIR; prints the files
                                                   and the manifest as JSON
    oras_tool.py push REF WASM [USER PASSWORD]     a component in the Wasm OCI artifact layout
                                                   (the way another tool would publish it)
"""
import hashlib
import json
import os
import sys
import tempfile

import oras.client


def client(ref, creds):
    c = oras.client.OrasClient(hostname=ref.split("/")[0], insecure=True, auth_backend="basic")
    if creds:
        c.auth.set_basic_auth(*creds)
    return c


def main():
    cmd, ref, path = sys.argv[1:4]
    c = client(ref, sys.argv[4:6])
    if cmd == "pull":
        files = c.pull(target=ref, outdir=path)
        print(json.dumps({"files": files, "manifest": c.get_manifest(ref)}))
    elif cmd == "push":
        with open(path, "rb") as f:
            digest = "sha256:" + hashlib.sha256(f.read()).hexdigest()
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "config.json")
            with open(config, "w") as f:
                json.dump({"architecture": "wasm", "os": "wasip2", "layerDigests": [digest]}, f)
            os.chdir(os.path.dirname(path))
            c.push(
                target=ref,
                files=[f"{os.path.basename(path)}:application/wasm"],
                manifest_config=f"{config}:application/vnd.wasm.config.v0+json",
                disable_path_validation=True,
            )
        print(json.dumps({"pushed": ref}))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
