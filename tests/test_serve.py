"""`dltui serve`: the command line it checks and passes on, and the app in a real browser."""

from __future__ import annotations

import re
import socket
import sys
import time

import pytest
import serve_browser as browser

from dltui import serve
from dltui.cli import main


def test_the_run_options_pass_on_as_typed_but_host_and_port():
    argv = ["serve", "xor", "--set", "lr=2", "--host", "0.0.0.0", "--port=9000", "--paused"]
    assert serve.run_arguments(argv) == ["xor", "--set", "lr=2", "--paused"]
    argv = ["serve", "--port", "9000", "--host=::1", "xor", "--speed", "max", "--at", "5:lr=1"]
    assert serve.run_arguments(argv) == ["xor", "--speed", "max", "--at", "5:lr=1"]


def test_each_tab_runs_dltui_run_with_this_python():
    command = serve.served_command(["xor", "--set", "lr=2", "--set", "weights=a b"])
    assert command.startswith(f"{sys.executable} -m dltui run xor --set lr=2 ")
    assert command.endswith("'weights=a b'")  # through textual-serve's shell, quoted


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"])
def test_loopback_hosts(host):
    assert serve.is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "gpu-box"])
def test_hosts_others_can_reach(host):
    assert not serve.is_loopback(host)


def test_the_web_driver_lets_the_live_ui_run_without_a_tty():
    assert serve.under_textual_serve({"TEXTUAL_DRIVER": serve.WEB_DRIVER})
    assert not serve.under_textual_serve({})


@pytest.mark.parametrize(
    "argv, says",
    [
        (["serve", "nope"], "unknown scenario 'nope'"),
        (["serve", "xor", "--set", "bad=1"], "unknown param 'bad'"),
        (["serve", "xor", "--port", "0"], "--port must be a number from 1 to 65535"),
        (["serve", "xor", "--speed", "fast"], "--speed must be a number or 'max'"),
        (["serve", "xor", "--at", "5:hidden=3"], "hidden cannot change during a run"),
        (["serve", "xor", "--headless"], "unrecognized arguments: --headless"),
        (["serve", "xor", "--host", "no.such.host.invalid"], "--host no.such.host.invalid"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(argv, says, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1, err


def test_a_busy_port_is_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "xor", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("host, warned", [("127.0.0.1", False), ("0.0.0.0", True)])
def test_only_a_network_host_warns(host, warned, monkeypatch, capsys):
    from textual_serve.server import Server

    served = {}
    monkeypatch.setattr(Server, "serve", lambda self: served.update(vars(self)))
    port = browser.free_port()
    assert main(["serve", "xor", "--host", host, "--port", str(port), "--seed", "3"]) == 0
    assert (served["host"], served["port"]) == (host, port)
    assert served["command"].endswith("-m dltui run xor --seed 3")
    err = capsys.readouterr().err
    assert ("anyone who can reach this machine" in err) is warned
    assert err.count("\n") == int(warned)


def _step(text: str) -> int:
    found = re.search(r"step ([\d,]+)/", text)
    return int(found.group(1).replace(",", "")) if found else -1


@pytest.mark.slow
def test_space_and_n_drive_the_run_in_a_browser(tmp_path):
    if reason := browser.missing():
        pytest.skip(f"no browser test: {reason}")
    port = browser.free_port()
    server = browser.start_server(["xor", "--paused"], port, tmp_path / "serve.log")
    driver = None
    try:
        driver = browser.open_browser()
        driver.get(f"http://127.0.0.1:{port}/")
        browser.wait_for(driver, lambda t: _step(t) == 0 and "paused" in t, what="step 0 paused")
        browser.press(driver, "n")
        browser.wait_for(driver, lambda t: _step(t) == 1, what="step 1 after n")
        browser.press(driver, " ")
        browser.wait_for(driver, lambda t: _step(t) > 1, what="the run to go on after space")
        browser.press(driver, " ")
        text = browser.wait_for(driver, lambda t: "paused" in t, what="paused after space")
        time.sleep(1)  # a frame in flight lands
        paused_at = _step(browser.screen(driver))
        time.sleep(1)
        assert _step(browser.screen(driver)) == paused_at > 1, text
        browser.press(driver, "n")
        browser.wait_for(driver, lambda t: _step(t) == paused_at + 1, what="one more step")
    finally:
        if driver is not None:
            driver.quit()
        browser.stop_server(server)
