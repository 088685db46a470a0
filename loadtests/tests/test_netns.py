"""The hosts of `make multihost` (loadtests/netns.py): built, routed through their own
interfaces, refused when an address is routed elsewhere, and removed without a trace, also
after a run that was killed before it could clean up. Needs root (skipped otherwise)."""

import os
import subprocess

import pytest

from loadtests.netns import Network, NetworkError, ip, netns_inode, netns_of
from loadtests.stack import netns_exec

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")

SUBNET = "10.97.250.0/24"  # apart from make multihost's default, which may be running
PREFIX = "vpt"


def leftovers() -> list[str]:
    links = [line.split()[0] for line in ip("-br", "link").splitlines()]
    names = ip("netns", "list").split()
    return [name for name in links + names if name.startswith(f"{PREFIX}-")]


@pytest.fixture
def record(tmp_path):
    yield tmp_path / "network.json"
    assert leftovers() == []


def test_hosts_reach_each_other_through_the_bridge_and_are_removed(record):
    with Network(["a", "b"], subnet=SUBNET, prefix=PREFIX, record=record) as network:
        checked = network.verify()
        a, b = network.hosts["a"], network.hosts["b"]
        assert (a.address, b.address, network.gateway) == (
            "10.97.250.2",
            "10.97.250.3",
            "10.97.250.1",
        )
        assert f"here -> a {a.address}: dev {PREFIX}-br" in checked
        assert f"a -> b {b.address}: dev eth0" in checked
        # A process started through netns_exec is in the host's namespace, and reaches the
        # other host's address (a listener there answers) but not its own loopback (down).
        listener = subprocess.Popen(  # noqa: S603 - our interpreter
            [*netns_exec(b.netns), "python3", "-c", LISTEN, b.address],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert listener.stdout.readline().strip() == "listening"
            assert netns_of(listener.pid) == netns_inode(b.netns)
            reached = subprocess.run(  # noqa: S603 - our interpreter
                [*netns_exec(a.netns), "python3", "-c", CONNECT, b.address, "127.0.0.1"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            )
            assert reached.stdout.split() == ["reached", "unreachable"]
        finally:
            listener.kill()
            listener.wait()
        assert record.exists()
    assert not record.exists()


def test_an_address_routed_elsewhere_aborts(record):
    with Network(["a", "b"], subnet=SUBNET, prefix=PREFIX, record=record) as network:
        address = network.hosts["b"].address
        ip("route", "add", f"{address}/32", "dev", "lo")
        try:
            with pytest.raises(NetworkError, match=f"ip route get {address} goes through lo"):
                network.verify()
        finally:
            ip("route", "del", f"{address}/32", "dev", "lo")


def test_what_a_killed_run_left_is_removed_by_the_next(record):
    killed = Network(["a"], subnet=SUBNET, prefix=PREFIX, record=record)
    killed.build()  # and never closed, as when the run is SIGKILLed
    assert f"{PREFIX}-a" in leftovers()
    again = Network(["a"], subnet=SUBNET, prefix=PREFIX, record=record)
    assert sorted(again.remove_leftovers()) == [f"{PREFIX}-a", f"{PREFIX}-a", f"{PREFIX}-br"]
    assert leftovers() == []


LISTEN = """
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 9799))
s.listen()
print("listening", flush=True)
s.accept()[0].recv(1)
"""

CONNECT = """
import socket, sys
for address in sys.argv[1:]:
    try:
        socket.create_connection((address, 9799), timeout=5).close()
        print("reached")
    except OSError:
        print("unreachable")
"""
