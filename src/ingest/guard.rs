//! The SSRF guard: herald fetches URLs that strangers type, so it must never be turned
//! into a probe of the network it runs in. Addresses are checked after DNS (by a
//! resolver that drops non-public answers) and IP-literal URLs before every request,
//! including each redirect hop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is an address on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0                                   // "this network"
        || (a == 100 && (64..128).contains(&b))     // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0)           // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19))       // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    let last_v4 =
        || Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
    // NAT64 (64:ff9b::/96) and IPv4-translated (::ffff:0:0/96) addresses carry an IPv4
    // address in their last 32 bits, and reach it.
    if (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0])
        || (seg[..4] == [0, 0, 0, 0] && seg[4] == 0xffff && seg[5] == 0)
    {
        return is_public_v4(last_v4());
    }
    // Local-use NAT64 (64:ff9b:1::/48) translates into a site's own network; 6to4
    // (2002::/16) and Teredo (2001::/32) tunnel to IPv4 hosts whose address the
    // tunnel hides or that a relay picks. No feed is served only there.
    if (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1)
        || seg[0] == 0x2002
        || (seg[0] == 0x2001 && seg[1] == 0)
    {
        return false;
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00   // unique local
        || (seg[0] & 0xffc0) == 0xfe80   // link-local
        || (seg[0] & 0xffc0) == 0xfec0   // site-local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || seg[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible and other reserved
}

/// Why a URL was refused before any byte was sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Blocked(pub String);

/// A DNS lookup that failed or found nothing.
#[derive(Debug, thiserror::Error)]
#[error("DNS lookup for {host} failed: {reason}")]
pub struct DnsFailure {
    pub host: String,
    pub reason: String,
}

/// Which addresses herald may connect to.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub allow_private: bool,
    pub allowlist: Vec<IpAddr>,
}

impl Policy {
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allowlist.contains(&ip)
    }
}

/// Resolves with the system resolver, then keeps only the addresses the policy allows.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub policy: Policy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let lookup = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|addrs| addrs.collect::<Vec<SocketAddr>>());
            let found: Vec<SocketAddr> = match lookup {
                Ok(addrs) => addrs,
                Err(e) => {
                    return Err(Box::new(DnsFailure { host, reason: e.to_string() }) as _);
                }
            };
            if found.is_empty() {
                return Err(Box::new(DnsFailure { host, reason: "no addresses".into() }) as _);
            }
            let allowed: Vec<SocketAddr> =
                found.iter().copied().filter(|a| policy.allows(a.ip())).collect();
            if allowed.is_empty() {
                // The address itself is not repeated: echoing what an internal name
                // resolves to would make herald a map of the network it runs in.
                return Err(Box::new(Blocked(format!(
                    "{host} resolves to a private or reserved address; refused"
                ))) as _);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Names that mean "this machine" or "this site's network" whatever DNS says. Checked
/// when a proxy resolves names for herald (see [`check_name_resolves_public`]).
pub fn is_local_name(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    let local_suffix =
        [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp"];
    h == "localhost" || !h.contains('.') || local_suffix.iter().any(|s| h.ends_with(s))
}

/// With a proxy, the proxy resolves names, not herald's [`GuardedResolver`]: refuse
/// local names, and resolve the name here and refuse it when any address is not
/// allowed. The proxy resolves again, so a name that changes its answer between the two
/// lookups is not caught: the proxy's own rules are the last line there.
pub async fn check_name_resolves_public(host: &str, policy: &Policy) -> Result<(), Blocked> {
    if policy.allow_private {
        return Ok(());
    }
    if is_local_name(host) {
        return Err(Blocked(format!("{host} is a local name; refused")));
    }
    let found: Vec<SocketAddr> = match tokio::net::lookup_host((host, 0)).await {
        Ok(addrs) => addrs.collect(),
        // Let the proxy report names that do not resolve here (split-horizon DNS).
        Err(_) => return Ok(()),
    };
    if found.iter().any(|a| !policy.allows(a.ip())) {
        return Err(Blocked(format!("{host} resolves to a private or reserved address; refused")));
    }
    Ok(())
}

/// Checks a URL before a request: scheme, and the address when the host is an IP literal
/// (those never reach the resolver).
pub fn check_url(url: &url::Url, policy: &Policy) -> Result<(), Blocked> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(Blocked(format!("{url}: scheme {other} is not allowed"))),
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(Blocked(format!("{url}: no host"))),
    };
    if policy.allows(ip) {
        Ok(())
    } else {
        Err(Blocked(format!("{url}: {ip} is a private or reserved address; refused")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::5db8:d822",
            "2002:7f00:1::1",
            "2002:5db8:d822::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "::ffff:0:a00:1",
            "::ffff:0:7f00:1",
            "2001:db8::1",
            "198.18.0.1",
            "240.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().expect("test literal is an address");
            assert!(!is_public(ip), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "64:ff9b::101:101",
            "::ffff:0:101:101",
            "2001:4860::8888",
        ] {
            let ip: IpAddr = ip.parse().expect("test literal is an address");
            assert!(is_public(ip), "{ip} is public");
        }
    }

    #[test]
    fn local_names_are_known() {
        for h in
            ["localhost", "LOCALHOST.", "db.internal", "printer.local", "nas.home.arpa", "intranet"]
        {
            assert!(is_local_name(h), "{h}");
        }
        for h in ["example.com", "news.bbc.co.uk", "local.example.org"] {
            assert!(!is_local_name(h), "{h}");
        }
    }

    #[test]
    fn ip_literal_urls_are_checked() {
        let url = |s: &str| url::Url::parse(s).expect("test literal is a URL");
        let strict = Policy::default();
        let open = Policy { allow_private: true, allowlist: vec![] };
        let one =
            Policy { allow_private: false, allowlist: vec!["127.0.0.2".parse().expect("literal")] };
        assert!(check_url(&url("http://127.0.0.1:8080/feed"), &strict).is_err());
        assert!(check_url(&url("http://[::1]/feed"), &strict).is_err());
        assert!(check_url(&url("http://0x7f.1/feed"), &strict).is_err());
        assert!(check_url(&url("http://127.0.0.1:8080/feed"), &open).is_ok());
        assert!(check_url(&url("http://127.0.0.2:8080/feed"), &one).is_ok());
        assert!(check_url(&url("http://127.0.0.1:8080/feed"), &one).is_err());
        assert!(check_url(&url("https://example.com/feed"), &strict).is_ok());
        assert!(check_url(&url("ftp://example.com/feed"), &open).is_err());
    }
}
