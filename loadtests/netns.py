"""Hosts on this machine: Linux network namespaces joined by a bridge on a private subnet.

    with Network(["data", "app", "worker1", "worker2"], subnet="10.97.0.0/24",
                 record=run_dir / "network.json") as network:
        network.verify()                 # each address routed through our own interfaces
        host = network.hosts["app"]      # Host(name, netns, address, link)
        host.netns                       # for `ip netns exec` (loadtests.stack.netns_exec)

Each host is a namespace of its own (`<prefix>-<name>`) with one end of a veth pair as its
`eth0`, holding the host's address; the other end (`<prefix>-<name>`, in this namespace) is
a port of the bridge `<prefix>-br`, which holds the subnet's first address. So this
namespace reaches every host, and hosts reach one another, through the bridge only. A host's
loopback stays down: a program that assumed 127.0.0.1 fails instead of quietly talking to
itself.

What was created is written to `record` as it is created; `close()` removes exactly that
(deleting a namespace deletes its end of each veth pair, and with it the pair), and is safe to
call twice. A run killed before it could clean up leaves its record, and the next run removes
what it names first. Needs root (or CAP_NET_ADMIN) and `ip` from iproute2.
"""

import contextlib
import ipaddress
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


class NetworkError(RuntimeError):
    """The hosts could not be built, or an address is not routed through them."""


@dataclass(frozen=True)
class Host:
    name: str
    netns: str
    address: str
    link: str  # this namespace's end of the host's veth pair (a bridge port)


def ip(*args: str, netns: str | None = None, check: bool = True) -> str:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    result = subprocess.run(  # noqa: S603 - iproute2, our arguments
        [*prefix, *args], capture_output=True, text=True, timeout=30, check=False
    )
    if check and result.returncode:
        raise NetworkError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def route_device(address: str, *, netns: str | None = None) -> str:
    """The device `ip route get <address>` sends `address` through (in `netns`), or a word
    saying why none: `local` when the address is this namespace's own."""
    words = ip("route", "get", address, netns=netns).split()
    if words and words[0] in ("local", "unreachable", "prohibit", "blackhole"):
        return words[0]
    return words[words.index("dev") + 1] if "dev" in words else "?"


def netns_inode(netns: str) -> int:
    """The identity of a named namespace, to compare with /proc/<pid>/ns/net."""
    return os.stat(f"/run/netns/{netns}").st_ino


def netns_of(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/net").st_ino


class Network:
    def __init__(self, names: list[str], *, subnet: str, record: Path, prefix: str = "vpm") -> None:
        network = ipaddress.ip_network(subnet)
        addresses = [str(a) for a in network.hosts()]
        if len(addresses) < len(names) + 1:
            raise NetworkError(f"{subnet} has too few addresses for {len(names)} hosts")
        self.subnet, self.prefix, self.record = str(network), prefix, record
        self.bridge = f"{prefix}-br"
        self.gateway = addresses[0]
        self.hosts = {
            name: Host(name, f"{prefix}-{name}", address, f"{prefix}-{name}")
            for name, address in zip(names, addresses[1:], strict=False)
        }
        for host in self.hosts.values():
            if len(host.link) > 15:  # IFNAMSIZ
                raise NetworkError(f"interface name {host.link!r} is over 15 characters")
        self.created: dict[str, list[str]] = {"netns": [], "links": []}

    def __enter__(self) -> "Network":
        self.remove_leftovers()
        try:
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _created(self, kind: str, name: str) -> None:
        self.created[kind].append(name)
        self.record.parent.mkdir(parents=True, exist_ok=True)
        self.record.write_text(json.dumps(self.created))

    def remove_leftovers(self) -> list[str]:
        """Removes what an earlier run that was killed recorded and left behind."""
        if not self.record.exists():
            return []
        left = json.loads(self.record.read_text())
        self.created = left
        self.close()
        return left["netns"] + left["links"]

    def build(self) -> None:
        for name in (self.bridge, *(h.link for h in self.hosts.values())):
            if ip("link", "show", name, check=False):
                raise NetworkError(f"interface {name} exists already; not ours to reuse")
        ip("link", "add", self.bridge, "type", "bridge")
        self._created("links", self.bridge)
        prefix_length = ipaddress.ip_network(self.subnet).prefixlen
        ip("addr", "add", f"{self.gateway}/{prefix_length}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for host in self.hosts.values():
            ip("netns", "add", host.netns)
            self._created("netns", host.netns)
            ip(
                "link",
                "add",
                host.link,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                host.netns,
            )
            self._created("links", host.link)
            ip("link", "set", host.link, "master", self.bridge, "up")
            ip("addr", "add", f"{host.address}/{prefix_length}", "dev", "eth0", netns=host.netns)
            ip("link", "set", "eth0", "up", netns=host.netns)

    def verify(self) -> list[str]:
        """Checks, with `ip route get`, that this namespace sends every host's address through
        the bridge and that every host sends every other host's address through its own
        eth0; raises NetworkError naming the first that does not. Returns what it checked,
        one line each, for a report."""
        checked = []
        for host in self.hosts.values():
            device = route_device(host.address)
            if device != self.bridge:
                raise NetworkError(
                    f"ip route get {host.address} goes through {device}, not {self.bridge}: "
                    f"the subnet {self.subnet} is in use here; choose another (--subnet)"
                )
            checked.append(f"here -> {host.name} {host.address}: dev {device}")
        for host in self.hosts.values():
            for other in self.hosts.values():
                if other is host:
                    continue
                device = route_device(other.address, netns=host.netns)
                if device != "eth0":
                    raise NetworkError(
                        f"on {host.name}, ip route get {other.address} goes through {device}"
                    )
                checked.append(f"{host.name} -> {other.name} {other.address}: dev eth0")
        return checked

    def close(self) -> None:
        """Deletes the namespaces (their veth ends go with them, and so the pairs), then the
        bridge: only what this network created."""
        for netns in reversed(self.created["netns"]):
            with contextlib.suppress(NetworkError):
                ip("netns", "del", netns)
        for link in reversed(self.created["links"]):
            if ip("link", "show", link, check=False):
                with contextlib.suppress(NetworkError):
                    ip("link", "del", link)
        self.created = {"netns": [], "links": []}
        self.record.unlink(missing_ok=True)
