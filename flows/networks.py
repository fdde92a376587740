"""Which networks the fetcher may reach: the policy alone (standard library only), so that the
options and the settings that check it need not import the HTTP stack (`flows.addresses`
connects under it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Union

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

# Never allowed unless listed by a network inside one of these.
LINK_LOCAL_AND_METADATA: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128", "100.100.100.200/32")
)
# What `allow_private` allows.
PRIVATE: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n) for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")
)


def parse_networks(networks: Iterable[str]) -> list[Network]:
    """CIDRs ("127.0.0.1/32", "10.0.0.0/8", "::1"); raises ValueError naming a bad one."""
    parsed = []
    for network in networks:
        try:
            parsed.append(ipaddress.ip_network(str(network).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{network!r} is not a network address (CIDR such as 127.0.0.1/32)") from None
    return parsed


def is_allowed(address: Address, allowed: Sequence[Network], allow_private: bool = False) -> bool:
    mapped = getattr(address, "ipv4_mapped", None) or address
    special = [net for net in LINK_LOCAL_AND_METADATA if mapped in net]
    if special:
        return any(mapped in n and n.version == s.version and n.subnet_of(s) for n in allowed for s in special)  # type: ignore[arg-type]
    if any(mapped in n for n in allowed):
        return True
    if mapped.is_global and not mapped.is_multicast:
        return True
    return allow_private and any(mapped in net for net in PRIVATE)
