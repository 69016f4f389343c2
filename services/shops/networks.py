"""IP allowlist rules (IP設定): addresses and CIDR ranges, IPv4 and IPv6; an empty list allows everyone."""
import ipaddress

from services.common.text import fold_width


def normalize(entry):
    """'192.168.1.5' → '192.168.1.5/32', '10.0.0.1/8' → '10.0.0.0/8', '2001:DB8::/32' → '2001:db8::/32'. Raises ValueError."""
    text = fold_width(entry).replace(" ", "")
    if not text:
        raise ValueError("empty")
    return str(ipaddress.ip_network(text, strict=False))


def is_allowed(ip, networks):
    if not networks:
        return True
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in networks:
        net = ipaddress.ip_network(network, strict=False)
        if address.version == net.version and address in net:
            return True
    return False
