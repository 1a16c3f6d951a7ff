"""Autograd as a graph (COURSE.md §6): the backward pass run one node per step ends at the
leaf gradients torch's own `backward()` computes, over the grad_fn graph torch builds."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import make_runner

from dltui.cli import main


def torch_backward(preset: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """The course's code run plainly: each leaf's .grad after backward(), and the grad_fn
    names in the order torch's engine ran them (a pre-hook on every node of the graph)."""
    if preset == "course":
        x = torch.ones(2, 2, requires_grad=True)
        a = x + 2
        b = a * a * 3
        out, leaves = b.mean(), {"x": x}
    elif preset == "wxb":
        w = torch.tensor(-2.0, requires_grad=True)
        x = torch.tensor(5.0, requires_grad=True)
        b = torch.tensor(3.0, requires_grad=True)
        out, leaves = w * x + b, {"w": w, "x": x, "b": b}
    else:
        x = torch.tensor(2.0, requires_grad=True)
        out, leaves = (x**2 + 1) ** 2, {"x": x}
    ran: list[str] = []
    seen, stack = set(), [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        node.register_prehook(lambda grads, node=node: ran.append(type(node).__name__))
        stack.extend(child for child, _ in node.next_functions)
    out.backward()
    return {name: leaf.grad for name, leaf in leaves.items()}, ran


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("course", {"x": 4.5}),  # ∂c/∂x = (1/4)·3·2a at a = 3
        ("wxb", {"w": 5.0, "x": -2.0, "b": 1.0}),  # ∂f/∂w = x, ∂f/∂x = w, ∂f/∂b = 1
        ("chain", {"x": 40.0}),  # 4x(x² + 1) at x = 2
    ],
)
def test_the_leaf_grads_are_torchs_and_the_courses(preset, expected):
    runner = make_runner("autograd", f"preset={preset}")
    runner.step(runner.limit)
    grads, order = torch_backward(preset)
    record = runner.record()
    assert record["grad_fns"] == order  # the nodes, in the order torch's engine runs them
    assert runner.limit == len(order)  # one node per step
    for name, value in expected.items():
        assert record[f"{name}.grad"] == value
        assert torch.equal(runner.scenario.names_to_leaves()[name].grad, grads[name])
        assert torch.equal(torch.tensor(record["grads"][name]), grads[name])


def test_course_graph_names_and_one_node_per_step(capsys):
    assert main(["run", "autograd", "--headless"]) == 0
    final = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert final["grad_fns"] == [
        "MeanBackward0",  # c = b.mean()
        "MulBackward0",  # b = (a·a)·3
        "MulBackward0",  # a·a
        "AddBackward0",  # a = x + 2
        "AccumulateGrad",  # x.grad
    ]
    assert final["grads"] == {"x": [[4.5, 4.5], [4.5, 4.5]]}
    assert final["step"] == 5 and final["node"] == "AccumulateGrad"


def test_edges_light_up_with_local_derivative_and_running_product():
    runner = make_runner("autograd", advance=3)  # mean, ·3 and a·a have run
    panels = runner.frame().panels
    graph = panels["graph"]["text"].splitlines()
    assert graph[1].startswith("┗━ ×1/4 → b = a·a·3 = 27 (2×2)") and graph[1].endswith("0.25")
    assert "┗━ ×3 → a·a = 9 (2×2)" in graph[2] and "0.75  ◀ ran now" in graph[2]
    assert "×(a + a) (= 6) → a = x + 2" in graph[3] and graph[3].endswith("2.25 + 2.25 = 4.5")
    assert graph[4].lstrip().startswith("└┄ ×? → x (leaf)")  # not reached yet
    now = panels["now"]["text"]
    assert "edge 0 → a: 0.75 × a (= 3) = 2.25" in now and "edge 1 → a" in now
    assert runner.scenario.names_to_leaves()["x"].grad is None  # AccumulateGrad not run yet
    walk = panels["walk"]["text"].splitlines()
    assert walk[0] == "c.grad_fn = MeanBackward0"
    assert walk[3].strip() == ".next_functions = (AddBackward0, AddBackward0)"  # a·a: a twice


def test_wxb_shows_the_slides_partials():
    runner = make_runner("autograd", "preset=wxb")
    runner.step(runner.limit)
    text = runner.frame().panels["now"]["text"]
    assert "w.grad = 5, x.grad = -2, b.grad = 1" in text
    code = runner.frame().panels["code"]["text"]
    assert code.splitlines()[-1] == "f = w * x + b  # -7"


def test_snapshot(snap_scenario):
    assert snap_scenario("autograd", 3)
