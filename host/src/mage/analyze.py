"""Facts about Mage block files, for `weft import mage`: read on stdin as a JSON list of paths,
written to stdout as one JSON object keyed by path. Only parses (never runs) the files.

Per file: imports, decorated functions, calls (with the string constants their arguments
resolve to), URL literals, run variables read from kwargs, and environment variables read.
"""

import ast
import json
import sys


def dotted(node):
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        inner = dotted(node.func)
        if inner is not None:
            parts.append(inner + "()")
            return ".".join(reversed(parts))
    return None


STDLIB = set(getattr(sys, "stdlib_module_names", ()))
URL_SCHEMES = ("http://", "https://", "gs://", "s3://", "file://")


class Facts(ast.NodeVisitor):
    def __init__(self):
        self.consts = {}      # name -> str constant (last simple assignment wins)
        self.var_of = {}      # name -> run variable it was read from (`url = kwargs.get("url")`)
        self.bindings = {}    # name -> root name of the call that made it (`Postgres`)
        self.imports = []
        self.functions = []
        self.calls = []
        self.urls = []
        self.variables = []
        self.env = []

    # --- constants and bindings (first pass)
    def collect(self, tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    value = self.const(node.value)
                    if value is not None:
                        self.consts[target.id] = value
                    root = self.root(node.value)
                    if root is not None:
                        self.bindings[target.id] = root
                    var = self.variable(node.value)
                    if var is not None:
                        self.var_of[target.id] = var
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        root = self.root(item.context_expr)
                        if root is not None:
                            self.bindings[item.optional_vars.id] = root

    def root(self, node):
        """The first name of a call's callee (`Postgres` of `Postgres.with_config(...)`)."""
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name:
                first = name.split(".")[0]
                return self.bindings.get(first, first)
        return None

    def variable(self, node):
        """The run variable ``node`` reads: ``kwargs.get("v")``, ``kwargs["v"]`` or a name
        assigned from one."""
        if isinstance(node, ast.Call) and dotted(node.func) == "kwargs.get" and node.args:
            return self.const(node.args[0])
        if isinstance(node, ast.Subscript) and dotted(node.value) == "kwargs":
            return self.const(node.slice)
        if isinstance(node, ast.Name):
            return self.var_of.get(node.id)
        return None

    def const(self, node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.consts:
            return self.consts[node.id]
        if isinstance(node, ast.JoinedStr):
            return None
        return None

    # --- the walk
    def visit_Import(self, node):
        for a in node.names:
            self.imported(a.name, node.lineno)

    def visit_ImportFrom(self, node):
        if node.level == 0 and node.module:
            self.imported(node.module, node.lineno)
        else:
            self.imported("." * node.level + (node.module or ""), node.lineno)

    def imported(self, module, line):
        top = module.split(".")[0]
        self.imports.append({"module": module, "line": line, "stdlib": top in STDLIB})

    def visit_FunctionDef(self, node):
        decorators = []
        for d in node.decorator_list:
            if isinstance(d, ast.Call):
                name = dotted(d.func)
                args = [self.const(a) for a in d.args]
                decorators.append({"name": name, "args": args})
            else:
                decorators.append({"name": dotted(d), "args": None})
        self.functions.append({"name": node.name, "line": node.lineno, "decorators": decorators})
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node):
        callee = dotted(node.func)
        if callee is not None:
            receiver, method = None, callee
            if isinstance(node.func, ast.Attribute):
                method = node.func.attr
                owner = node.func.value
                if isinstance(owner, ast.Name):
                    receiver = self.bindings.get(owner.id, owner.id)
                elif isinstance(owner, ast.Call):
                    receiver = self.root(owner)
                else:
                    receiver = (dotted(owner) or "").split(".")[0] or None
            self.calls.append({
                "callee": callee,
                "receiver": receiver,
                "method": method,
                "line": node.lineno,
                "args": [self.const(a) for a in node.args],
                "arg_vars": [self.variable(a) for a in node.args],
                "kwargs": {k.arg: self.const(k.value) for k in node.keywords if k.arg},
            })
            # kwargs.get('name') / os.getenv('NAME') / os.environ.get('NAME')
            first = self.const(node.args[0]) if node.args else None
            if callee in ("kwargs.get",) and first is not None:
                self.variables.append({"name": first, "line": node.lineno})
            if callee in ("os.getenv", "os.environ.get", "getenv", "environ.get") and first is not None:
                self.env.append({"name": first, "line": node.lineno})
        self.generic_visit(node)

    def visit_Subscript(self, node):
        base = dotted(node.value)
        key = self.const(node.slice)
        if key is not None:
            if base == "kwargs":
                self.variables.append({"name": key, "line": node.lineno})
            elif base in ("os.environ", "environ"):
                self.env.append({"name": key, "line": node.lineno})
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and node.value.startswith(URL_SCHEMES):
            self.urls.append({"url": node.value, "line": node.lineno})


def facts(path):
    try:
        with open(path, "rb") as f:
            source = f.read()
    except (OSError, MemoryError) as e:
        return {"error": {"line": 0, "message": str(e)}}
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        return {"error": {"line": e.lineno or 0, "message": e.msg}}
    except (ValueError, RecursionError, MemoryError) as e:
        return {"error": {"line": 0, "message": type(e).__name__ + ": " + str(e)}}
    v = Facts()
    try:
        v.collect(tree)
        v.visit(tree)
    except RecursionError:
        return {"error": {"line": 0, "message": "nested too deeply to read"}}
    return {
        "imports": v.imports,
        "functions": v.functions,
        "calls": v.calls,
        "urls": v.urls,
        "variables": v.variables,
        "env": v.env,
    }


def main():
    if sys.version_info < (3, 10):
        sys.exit("reading Mage block files needs Python 3.10 or later; this is " + sys.version.split()[0])
    paths = json.load(sys.stdin)
    json.dump({p: facts(p) for p in paths}, sys.stdout)


if __name__ == "__main__":
    main()
