"""Who a per-address limit counts: the source address API Gateway saw (`requestContext.http.sourceIp`)."""

import ipaddress

IPV6_NETWORK_PREFIX = 64  # what one subscriber line gets: limiting single IPv6 addresses would limit nothing


def source_network(address: str) -> str:
    """An IPv4 address as it is, an IPv6 address as the /64 it belongs to; anything else as given."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_NETWORK_PREFIX}", strict=False))
    return str(parsed)
