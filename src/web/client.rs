//! The client's address (SPEC: Client address). The peer is the client unless it
//! is a trusted proxy; then `X-Forwarded-For` is walked from the right, trusted
//! entries skipped, and the first untrusted entry is the client (the left-most
//! if all are trusted). Ports are dropped and `::ffff:a.b.c.d` is IPv4. An entry
//! that is not an address ends the walk in one constant bucket, so a forged
//! header can neither pick a fresh bucket nor pass for loopback.

use crate::configuration::TrustedProxies;
use actix_web::HttpRequest;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Who the limits count a request against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientAddress {
    Ip(IpAddr),
    /// A forwarding chain with an entry that is not an address.
    Unparseable,
}

impl ClientAddress {
    /// The bucket key: an IPv4 address, an IPv6 /64, or `unparseable`.
    pub fn limit_key(&self) -> String {
        match self {
            ClientAddress::Ip(IpAddr::V4(v4)) => format!("ip:{v4}"),
            ClientAddress::Ip(IpAddr::V6(v6)) => {
                let network = u128::from(*v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", Ipv6Addr::from(network))
            }
            ClientAddress::Unparseable => "unparseable".to_owned(),
        }
    }

    /// The address, for the consent record; none when it could not be read.
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            ClientAddress::Ip(ip) => Some(*ip),
            ClientAddress::Unparseable => None,
        }
    }
}

/// The headers a proxy may use to say whom it forwards for.
const FORWARDING_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// The client of `req` (see the module docs).
pub fn client_address(req: &HttpRequest, trusted_proxies: &TrustedProxies) -> ClientAddress {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let values = req.headers().get_all("x-forwarded-for").map(|v| v.to_str());
    let mut entries = Vec::new();
    for value in values {
        match value {
            Ok(text) => entries.extend(text.split(',')),
            Err(_) => entries.push(""),
        }
    }
    resolve(peer, &entries, |ip| trusted_proxies.contains(ip))
}

/// The walk itself: `peer` and the `X-Forwarded-For` entries in header order.
pub fn resolve(
    peer: IpAddr,
    forwarded: &[&str],
    is_trusted: impl Fn(IpAddr) -> bool,
) -> ClientAddress {
    let peer = canonical(peer);
    if !is_trusted(peer) {
        return ClientAddress::Ip(peer);
    }
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        match parse_entry(entry) {
            None => return ClientAddress::Unparseable,
            Some(ip) if is_trusted(ip) => client = ip,
            Some(ip) => return ClientAddress::Ip(ip),
        }
    }
    ClientAddress::Ip(client)
}

/// One `X-Forwarded-For` entry: an address, optionally with a port
/// (`a.b.c.d:p`, `[v6]:p`) or in brackets (`[v6]`).
pub fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(canonical(ip))
}

/// `::ffff:a.b.c.d` is the IPv4 address `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether the request came straight from this machine: a loopback peer and
/// no forwarding header at all (a same-host proxy forwards for someone else).
pub fn is_direct_loopback(req: &HttpRequest) -> bool {
    let peer_is_loopback = req
        .peer_addr()
        .is_some_and(|a| canonical(a.ip()).is_loopback());
    let forwarded = FORWARDING_HEADERS
        .iter()
        .any(|name| req.headers().contains_key(*name));
    peer_is_loopback && !forwarded
}

/// The user agent as sent, cut to a sane length for the consent record.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect())
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
