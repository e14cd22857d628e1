//! The client's address. `X-Forwarded-For` is believed only from a trusted
//! proxy, and then the right-most address that is not a trusted proxy is the client.

use crate::configuration::TrustedProxies;
use actix_web::HttpRequest;
use std::net::{IpAddr, Ipv4Addr};

pub fn client_ip(req: &HttpRequest, trusted_proxies: &TrustedProxies) -> IpAddr {
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let is_trusted = |ip: &IpAddr| trusted_proxies.contains(*ip);
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

/// The user agent as sent, cut to a sane length for the consent record.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect())
}

#[cfg(test)]
#[path = "client_props.rs"]
mod props;
