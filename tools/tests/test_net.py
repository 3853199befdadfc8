import socket

import pytest

from libris_tools import net
from libris_tools.log import Failure


def test_a_free_port_can_be_bound_and_is_not_open():
    port = net.free_port()
    assert 1024 <= port <= 65535
    assert not net.port_open(port)
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_a_listening_port_is_open_and_waited_for_at_once():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert net.port_open(port)
        net.wait_for_port(port, "the test listener", timeout=1)


def test_waiting_for_a_closed_port_fails_early_when_the_process_died():
    with pytest.raises(Failure, match="exited before it listened"):
        net.wait_for_port(net.free_port(), "a server", timeout=5, alive=lambda: False)


def test_waiting_for_a_closed_port_times_out():
    with pytest.raises(Failure, match="is not listening"):
        net.wait_for_port(net.free_port(), "a server", timeout=0.3)
