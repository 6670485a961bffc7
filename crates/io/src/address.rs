//! Where a block's HTTP requests may connect: a host name a block gives is resolved here, and
//! only public addresses are used. A name that resolves only to loopback, private, link-local
//! (`169.254.169.254`, the cloud metadata service), shared or unique-local addresses is
//! refused: a grant of `https://data.example.com/` must not become a way into the operator's
//! network when that name points inside it. An address the pipeline author writes literally in
//! a grant (`http://10.0.0.5:8080/`) is reached without a lookup, and `localhost` only means
//! this machine when a grant says `localhost`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Benchmarking, 198.18.0.0/15; IETF protocol assignments, 192.0.0.0/24 (cloud
        // metadata at 192.0.0.192 among them); reserved, 240.0.0.0/4.
        || (a == 198 && (b == 18 || b == 19))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, site-local fec0::/10.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        // IPv4-compatible (deprecated) and NAT64 prefixes (well-known and local-use).
        || ip.to_ipv4().is_some_and(|v4| !is_public_v4(v4))
        || (ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
        || (ip.segments()[..3] == [0x64, 0xff9b, 1])
        // 6to4 (2002::/16) around a non-public IPv4 address.
        || (first == 0x2002 && {
            let s = ip.segments();
            !is_public_v4(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8))
        }))
}

/// The DNS resolver of block requests: public addresses only (see the module docs).
#[derive(Debug, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable = usable(&host, &found)?;
            Ok(Box::new(usable.into_iter()) as Addrs)
        })
    }
}

/// The addresses of `host` a block may connect to: public ones, and loopback for
/// `localhost` itself.
///
/// # Errors
/// A message naming the host and what it resolves to, when nothing is left.
pub fn usable(host: &str, found: &[SocketAddr]) -> Result<Vec<SocketAddr>, String> {
    let local = host.eq_ignore_ascii_case("localhost");
    let usable: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|a| is_public(a.ip()) || (local && a.ip().is_loopback()))
        .collect();
    if usable.is_empty() {
        let shown: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
        return Err(format!(
            "`{host}` resolves only to addresses blocks may not reach by name ({}): loopback, private and link-local addresses are reached only when a grant names the address itself, e.g. `http://{}:8080/`",
            if shown.is_empty() { "none".to_string() } else { shown.join(", ") },
            shown.first().map(String::as_str).unwrap_or("10.0.0.5")
        ));
    }
    Ok(usable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "192.0.0.192",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn names_of_private_addresses_are_refused_but_localhost_is_itself() {
        let at = |ips: &[&str]| -> Vec<SocketAddr> {
            ips.iter()
                .map(|ip| SocketAddr::new(ip.parse().unwrap(), 0))
                .collect()
        };
        // A public name that a resolver (or an attacker's DNS) points inside.
        let e = usable("data.example.com", &at(&["169.254.169.254"])).unwrap_err();
        assert!(
            e.contains("169.254.169.254") && e.contains("grant names the address"),
            "{e}"
        );
        assert!(usable("data.example.com", &at(&["10.0.0.7", "127.0.0.1"])).is_err());
        // Mixed answers keep the public addresses only.
        let kept = usable("data.example.com", &at(&["10.0.0.7", "93.184.216.34"])).unwrap();
        assert_eq!(kept, at(&["93.184.216.34"]));
        assert_eq!(
            usable("localhost", &at(&["127.0.0.1"])).unwrap(),
            at(&["127.0.0.1"])
        );
        assert!(usable("localhost", &at(&["10.0.0.7"])).is_err());
        // And through the real resolver: localhost is itself.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let local = rt
            .block_on(PublicOnly.resolve("localhost".parse().unwrap()))
            .map(|a| a.collect::<Vec<_>>())
            .unwrap();
        assert!(!local.is_empty() && local.iter().all(|a| a.ip().is_loopback()));
    }
}
