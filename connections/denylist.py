"""Addresses and names a connection may never point at: the default of DBDECK_HOSTS_DENIED.

The one place this list lives. Each entry says what it protects. Settings read
`DEFAULT_DENIED`; the environment may replace it (DBDECK_HOSTS_DENIED) or add
to it (DBDECK_HOSTS_DENIED_EXTRA). Networks are matched after the host policy
has resolved the name and unwrapped every IPv4 address embedded in an IPv6 one
(mapped, compatible, NAT64, 6to4, Teredo, ISATAP), so one IPv4 entry covers
all the ways of spelling it. Pure data: no Django import, so settings can load it.
"""

from __future__ import annotations

DENIED: list[tuple[str, str]] = [
    # -- addresses that mean "this machine" without saying loopback --------------------
    ("0.0.0.0/8", "'this network': 0.0.0.0 and friends reach the local host on Linux"),
    ("::/128", "the unspecified IPv6 address, which also reaches the local host"),
    # -- link-local: where almost every cloud serves instance metadata and credentials --
    (
        "169.254.0.0/16",
        "IPv4 link-local: the 169.254.169.254 metadata service of AWS (IMDS), GCP, Azure, DigitalOcean, "
        "Hetzner, OpenStack, Oracle Cloud, IBM Cloud VPC and Scaleway; AWS ECS task metadata 169.254.170.2 "
        "and EKS pod identity 169.254.170.23; Tencent Cloud metadata 169.254.0.23",
    ),
    ("fe80::/10", "IPv6 link-local"),
    ("fd00:ec2::254/128", "AWS IMDS over IPv6 (Nitro instances)"),
    ("fd00:ec2::23/128", "AWS EKS pod identity agent over IPv6"),
    ("fd20:ce::254/128", "GCP metadata server over IPv6"),
    # -- cloud endpoints outside link-local ---------------------------------------------
    ("168.63.129.16/32", "Azure host endpoint (WireServer): VM agent, health probes, DNS"),
    ("100.100.100.200/32", "Alibaba Cloud ECS metadata"),
    ("192.0.0.192/32", "Oracle Cloud (OCI) metadata, legacy address"),
    # -- metadata services by name (checked before resolving) --------------------------
    ("metadata.google.internal", "GCP metadata server"),
    ("metadata.goog", "GCP metadata server, short name"),
    ("metadata", "GCP and OpenStack metadata short name"),
    ("instance-data", "AWS IMDS short name"),
    ("instance-data.ec2.internal", "AWS IMDS name"),
    ("metadata.tencentyun.com", "Tencent Cloud metadata"),
    ("api.metadata.cloud.ibm.com", "IBM Cloud VPC metadata"),
    ("metadata.platformequinix.com", "Equinix Metal metadata"),
    # -- the Kubernetes API of the cluster dbdeck may run in ----------------------------
    ("kubernetes", "Kubernetes API service, short name"),
    ("kubernetes.default", "Kubernetes API service"),
    ("kubernetes.default.svc", "Kubernetes API service"),
    ("kubernetes.default.svc.cluster.local", "Kubernetes API service, fully qualified"),
]

DEFAULT_DENIED: list[str] = [entry for entry, _why in DENIED]
