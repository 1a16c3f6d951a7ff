"""Autograd as a computational graph (COURSE.md §6): the backward pass, one node per step.

The course's three examples, each a few lines of PyTorch run as written (preset):
- course: x = [[1,1],[1,1]], a = x + 2, b = a * a * 3, c = b.mean()  →  x.grad = 4.5;
- wxb:    f = w·x + b at w = −2, x = 5, b = 3  →  ∂f/∂w = 5, ∂f/∂x = −2, ∂f/∂b = 1;
- chain:  f = (x² + 1)² at x = 2  →  the chain rule's 4x(x² + 1) = 40.
The forward pass builds the graph torch records (`c.grad_fn`, its `.next_functions`, down to
the leaves' AccumulateGrad). Each step then calls one of those nodes, in the order torch's own
engine runs them, with the gradient that has reached it: the node is torch's, so the numbers
are torch's, and the last one, AccumulateGrad, sets the leaf's `.grad`. The graph panel lights
each edge as its node runs: its local derivative and the running product (the chain rule).
No training: no loss, no lr.
"""

from __future__ import annotations

import ast
import heapq
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from dltui.scenario import Panel, Param, Scenario

PRESETS = {
    "course": ("x = torch.ones(2, 2, requires_grad=True)\na = x + 2\nb = a * a * 3\nc = b.mean()"),
    "wxb": (
        "w = torch.tensor(-2.0, requires_grad=True)\n"
        "x = torch.tensor(5.0, requires_grad=True)\n"
        "b = torch.tensor(3.0, requires_grad=True)\n"
        "f = w * x + b"
    ),
    "chain": "x = torch.tensor(2.0, requires_grad=True)\nf = (x ** 2 + 1) ** 2",
}
"""The course's examples as PyTorch code; the last line's variable is the output."""
EXPECTED = {
    "course": "∂c/∂x = (1/4)·3·2a = 4.5 at a = 3",
    "wxb": "∂f/∂w = x = 5, ∂f/∂x = w = −2, ∂f/∂b = 1",
    "chain": "df/dx = 2(x² + 1)·2x = 4x(x² + 1) = 40 at x = 2",
}
"""What the slides derive by hand, shown beside torch's numbers at the end."""
SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class Tape(TorchFunctionMode):
    """Records, for every tensor an op makes with a grad_fn, the op and its operands."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: dict[Any, tuple[str, torch.Tensor, tuple]] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor) and out.grad_fn is not None:
            self.ops[out.grad_fn] = (func.__name__.strip("_"), out, args)
        return out


def fmt(t: torch.Tensor | float | None, shape: bool = True) -> str:
    """A value for the graph: 27, or '0.25 (2×2)' when every entry of a 2×2 tensor is 0.25
    (just '0.25' without `shape`: a gradient has its node's shape)."""
    if t is None:
        return "?"
    if not isinstance(t, torch.Tensor):
        return f"{t:.4g}"
    t = t.detach()
    flat = t.reshape(-1).tolist()
    if t.dim() == 0:
        return f"{flat[0]:.4g}"
    size = "×".join(map(str, t.shape))
    if all(v == flat[0] for v in flat):
        return f"{flat[0]:.4g} ({size})" if shape else f"{flat[0]:.4g}"
    if len(flat) <= 4:
        return "[" + ", ".join(f"{v:.4g}" for v in flat) + "]"
    return f"{size}, mean {t.float().mean().item():.4g}"


def name_of(node: Any) -> str:
    """The class name torch gives a graph node: MulBackward0, AccumulateGrad, …"""
    return type(node).__name__


class Autograd(Scenario):
    """The graph of a few lines of PyTorch, and its backward pass one node per step."""

    name, title = "autograd", "Autograd: the computational graph, backward one node at a time"
    description = "c.grad_fn's graph of x + 2, a·a·3, mean: each step runs one backward node."
    caption = (
        "The forward pass records a graph (grad_fn); backward runs it from the output: each "
        "node multiplies the gradient by its local derivative (the chain rule) and hands it "
        "on, ending in the leaf's .grad. (2×2): every entry of a 2×2 tensor."
    )
    aliases = ("graph",)
    steps = 5
    speed = 1.0
    columns = 2
    records = {
        "<leaf>.grad": "a leaf's .grad once the backward pass has reached it (a tensor "
        "leaf: its first entry; 'grads' holds it whole)",
        "node": "the grad_fn torch ran in this step (a string)",
        "grads": "every leaf's .grad reached so far, as nested lists",
        "grad_fns": "the grad_fn names in the order torch's engine runs them",
    }
    params = (
        Param(
            "preset",
            "course",
            "course: x + 2, a·a·3, mean (x.grad = 4.5); wxb: f = w·x + b at (−2, 5, 3) "
            "(∂f/∂w = 5); chain: f = (x² + 1)² at x = 2 (4x(x² + 1) = 40)",
            choices=tuple(PRESETS),
        ),
    )
    panels = (
        Panel("text", "The forward pass: code and values", "code"),
        Panel("text", "What torch built: grad_fn.next_functions", "walk"),
        Panel(
            "text",
            "The graph: node = value · grad_fn · grad that reached it (the running product)",
            "graph",
            col_span=2,
            options={"wrap": False},
        ),
        Panel("text", "This step", "now", col_span=2),
    )

    # -- the forward pass, as written ---------------------------------------------------
    def setup(self) -> None:
        self.code = PRESETS[self.p.preset]
        self.names: dict[int, str] = {}  # id(tensor) -> the variable that holds it
        self.lines: list[tuple[str, torch.Tensor]] = []
        scope: dict[str, Any] = {"torch": torch}
        tape = Tape()
        with tape:
            for line in self.code.splitlines():
                exec(line, scope)  # noqa: S102 - the preset's own code, shown as it runs
                target = ast.parse(line).body[0].targets[0].id
                self.names[id(scope[target])] = target
                self.lines.append((line, scope[target]))
        self.ops = tape.ops
        self.output = self.lines[-1][1]
        self.output_name = self.names[id(self.output)]
        self.leaves = [t for _, t in self.lines if t.grad_fn is None and t.requires_grad]
        # Torch's engine order: a node runs once every edge into it has delivered its
        # gradient; of the nodes ready, the most recently created first (AccumulateGrad,
        # numbered last, runs as soon as it is ready).
        self.order = self.engine_order(self.output.grad_fn)
        self.incoming: dict[Any, list[tuple[Any, int, torch.Tensor]]] = {}
        self.delivered: dict[tuple[Any, int], torch.Tensor] = {}  # (node, edge) -> gradient
        self.done = 0

    def engine_order(self, root: Any) -> list[Any]:
        deps: dict[Any, int] = {}
        seen, stack = {root}, [root]
        while stack:
            for child, _ in stack.pop().next_functions:
                if child is not None:
                    deps[child] = deps.get(child, 0) + 1
                    if child not in seen:
                        seen.add(child)
                        stack.append(child)
        order, ready = [], [(-root._sequence_nr(), 0, root)]
        tie = 1
        while ready:
            node = heapq.heappop(ready)[2]
            order.append(node)
            for child, _ in node.next_functions:
                if child is not None:
                    deps[child] -= 1
                    if deps[child] == 0:
                        heapq.heappush(ready, (-child._sequence_nr(), tie, child))
                        tie += 1
        return order

    def length(self) -> int:
        return len(self.order)

    def names_to_leaves(self) -> dict[str, torch.Tensor]:
        """The leaf tensors by the names the code gives them."""
        return {self.names[id(leaf)]: leaf for leaf in self.leaves}

    # -- the backward pass, one node per step -------------------------------------------
    def step(self) -> dict[str, Any]:
        if self.done < len(self.order):
            node = self.order[self.done]
            grad = self.grad_into(node)
            out = node(grad)  # torch's own backward of this node (AccumulateGrad sets .grad)
            out = out if isinstance(out, tuple) else (out,)
            for i, ((child, _), g) in enumerate(zip(node.next_functions, out)):
                if child is not None and g is not None:
                    self.delivered[(node, i)] = g
                    self.incoming.setdefault(child, []).append((node, i, g))
            self.done += 1
        return {
            f"{self.names[id(leaf)]}.grad": leaf.grad.reshape(-1)[0].item()
            for leaf in self.leaves
            if leaf.grad is not None
        }

    def grad_into(self, node: Any) -> torch.Tensor:
        """The gradient that reached `node`: 1 at the output, else the sum over its edges."""
        if node is self.output.grad_fn:
            return torch.ones_like(self.output)
        return sum(g for _, _, g in self.incoming[node])

    def record_extras(self) -> dict[str, Any]:
        last = self.order[self.done - 1] if self.done else None
        return {
            "node": name_of(last) if last is not None else "",
            "grads": {
                self.names[id(leaf)]: leaf.grad.tolist()
                for leaf in self.leaves
                if leaf.grad is not None
            },
            "grad_fns": [name_of(n) for n in self.order],
        }

    # -- names and local derivatives ----------------------------------------------------
    def label(self, node: Any) -> str:
        """What a node computes, by the variable holding it or as an expression: a·a, x²."""
        if name_of(node) == "AccumulateGrad":
            return self.names.get(id(node.variable), "leaf")
        out = self.ops[node][1]
        return self.names.get(id(out)) or self.expression(node)

    def expression(self, node: Any) -> str:
        op, _, args = self.ops[node]

        def operand(a: Any, tight: bool) -> str:
            if not isinstance(a, torch.Tensor):
                return f"{a:g}"
            if a.grad_fn is None or id(a) in self.names:
                return self.names.get(id(a), "t")
            text = self.expression(a.grad_fn)
            return f"({text})" if tight and " " in text else text

        if op == "mean":
            return f"{operand(args[0], True)}.mean()"
        if op == "pow":
            return operand(args[0], True) + f"{args[1]:g}".translate(SUPERSCRIPT)
        sign = {"add": " + ", "sub": " − ", "mul": "·", "div": "/"}.get(op)
        if sign is None:
            return f"{op}({', '.join(operand(a, False) for a in args)})"
        return sign.join(operand(a, sign == "·") for a in args[:2])

    def local(self, node: Any, edge: int) -> tuple[str, Any]:
        """The local derivative along one edge as the slides write it, and its value:
        ∂(a·a)/∂a = a → ("a", 3); ∂(b.mean())/∂b → ("1/4", 0.25)."""
        op, _, args = self.ops[node]
        if op == "mean":
            return f"1/{args[0].numel()}", 1 / args[0].numel()
        if op == "mul":
            other = args[1 - edge]
            if isinstance(other, torch.Tensor):
                return self.names.get(id(other)) or self.expression(other.grad_fn), other
            return f"{other:g}", other
        if op == "pow":
            k, u = args[1], args[0]
            name = self.names.get(id(u)) or f"({self.expression(u.grad_fn)})"
            power = "" if k == 2 else f"{k - 1:g}".translate(SUPERSCRIPT)
            return f"{k:g}·{name}{power}", k * u.detach() ** (k - 1)
        if op in ("add", "sub"):
            return ("1", 1) if op == "add" or edge == 0 else ("−1", -1)
        return "?", None

    def locals_text(self, node: Any, edges: list[int]) -> str:
        """×3, ×x (= 5), ×(a + a) (= 6): the local derivatives of the edges from node to one
        child, summed (a·a reaches a along two edges), with the value where it is a symbol."""
        parts = [self.local(node, i) for i in edges]
        symbol = " + ".join(sym for sym, _ in parts)
        value = sum(v for _, v in parts)
        if len(parts) > 1:
            symbol = f"({symbol})"
        numeric = symbol.lstrip("−").replace(".", "").replace("/", "").isdigit()
        return f"×{symbol}" if numeric else f"×{symbol} (= {fmt(value, shape=False)})"

    # -- what to show -------------------------------------------------------------------
    def view(self) -> dict[str, dict]:
        return {
            "code": {"text": self.code_text()},
            "walk": {"text": self.walk_text()},
            "graph": {"text": self.graph_text()},
            "now": {"text": self.step_text()},
        }

    def code_text(self) -> str:
        return "\n".join(f"{line}  # {fmt(t)}" for line, t in self.lines)

    def walk_text(self) -> str:
        """`c.grad_fn`, then each node's `.next_functions`, as torch holds them."""
        lines = [f"{self.output_name}.grad_fn = {name_of(self.output.grad_fn)}"]
        shown: set[Any] = set()

        def walk(node: Any, depth: int) -> None:
            if node in shown:
                return
            shown.add(node)
            if name_of(node) == "AccumulateGrad":
                lines.append(f"{' ' * depth}.variable is {self.label(node)}")
                return
            nexts = ", ".join(
                "None" if child is None else name_of(child) for child, _ in node.next_functions
            )
            lines.append(f"{' ' * depth}.next_functions = ({nexts})")
            for child, _ in node.next_functions:
                if child is not None:
                    walk(child, depth + 1)

        walk(self.output.grad_fn, 1)
        return "\n".join(lines)

    def graph_text(self) -> str:
        """The graph from the output down, one node a line: the edge into it (lit ━ once its
        parent ran, with the local derivative), what the node computes and its value, its
        grad_fn, and the gradient that reached it (the running product). A node reached
        again is named, not redrawn."""
        ran = set(self.order[: self.done])
        now = self.order[self.done - 1] if self.done else None
        rows: list[tuple[str, str, str]] = []  # (edge and node, grad_fn, grad)
        drawn: set[Any] = set()

        def draw(node: Any, prefix: str, child_prefix: str) -> None:
            if name_of(node) == "AccumulateGrad":
                what, value = f"{self.label(node)} (leaf)", node.variable
            else:
                what, value = self.label(node), self.ops[node][1]
                if what != self.expression(node):
                    what = f"{what} = {self.expression(node)}"
            mark = "  ◀ ran now" if node is now else ""
            rows.append(
                (f"{prefix}{what} = {fmt(value)}", name_of(node), self.grad_text(node) + mark)
            )
            drawn.add(node)
            children: dict[Any, list[int]] = {}
            for i, (child, _) in enumerate(node.next_functions):
                if child is not None:
                    children.setdefault(child, []).append(i)
            lit = node in ran
            for k, (child, edges) in enumerate(children.items()):
                last = k == len(children) - 1
                branch = ("┗━" if last else "┣━") if lit else ("└┄" if last else "├┄")
                label = f"{branch} {self.locals_text(node, edges) if lit else '×?'} → "
                if child in drawn:
                    rows.append((f"{child_prefix}{label}{self.label(child)} (above)", "", ""))
                    continue
                more = "   " if last else ("┃  " if lit else "│  ")
                draw(child, child_prefix + label, child_prefix + more)

        draw(self.output.grad_fn, "", "")
        width = max(len(r[0]) for r in rows)
        return "\n".join(f"{a:<{width}}  {b:<15} {c}".rstrip() for a, b, c in rows)

    def grad_text(self, node: Any) -> str:
        """The gradient that has reached a node so far: its edges' products, then the sum."""
        if node is self.output.grad_fn:
            return f"1 (d{self.output_name}/d{self.output_name})" if self.done else "?"
        parts = self.incoming.get(node, [])
        if not parts:
            return "?"
        text = " + ".join(fmt(g, shape=False) for _, _, g in parts)
        if len(parts) > 1:
            text += f" = {fmt(sum(g for _, _, g in parts), shape=False)}"
        return text

    def step_text(self) -> str:
        if not self.done:
            first = name_of(self.order[0])
            return (
                f"{self.output_name}.backward() starts at {self.output_name}.grad_fn = {first} "
                f"with d{self.output_name}/d{self.output_name} = 1. n runs the first node."
            )
        node = self.order[self.done - 1]
        grad = fmt(self.grad_into(node), shape=False)
        head = f"# step {self.done}/{len(self.order)}: {name_of(node)} ({self.label(node)})"
        lines = [head, f"  called with the gradient that reached it: {grad}"]
        if name_of(node) == "AccumulateGrad":
            leaf = self.label(node)
            lines.append(f"  stores it: {leaf}.grad = {fmt(node.variable.grad)}")
        for i, (child, _) in enumerate(node.next_functions):
            if child is None:
                const = self.ops[node][2][i] if i < len(self.ops[node][2]) else "?"
                lines.append(f"  edge {i}: the constant {const}, no gradient (None)")
                continue
            g = fmt(self.delivered[(node, i)], shape=False)
            lines.append(
                f"  edge {i} → {self.label(child)}: {grad} × {self.locals_text(node, [i])[1:]} = {g}"
                f"  (to {name_of(child)})"
            )
        if self.done == len(self.order):
            grads = ", ".join(
                f"{self.names[id(leaf)]}.grad = {fmt(leaf.grad)}" for leaf in self.leaves
            )
            lines.append(f"# done: {grads}")
            lines.append(f"  by hand: {EXPECTED[self.p.preset]}")
        return "\n".join(lines)
