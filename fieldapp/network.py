"""The laptop's own network addresses, to print where phones can reach the site."""

import ipaddress

import ifaddr


def local_addresses() -> list[str]:
    """Return the laptop's IPv4 addresses, private (Wi-Fi, LAN) ones first, loopback last."""
    found = set()
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                found.add(ipaddress.ip_address(ip.ip))
    ordered = sorted(found, key=lambda a: (a.is_loopback, not a.is_private, a.is_link_local, str(a)))
    return [str(address) for address in ordered if not address.is_link_local] or ["127.0.0.1"]
