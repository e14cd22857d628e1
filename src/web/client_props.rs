//! Generated `X-Forwarded-For` values and peers: the client address never
//! panics, an untrusted peer is always the client, and behind trusted proxies
//! the right-most untrusted entry is.

use super::client_ip;
use crate::configuration::TrustedProxies;
use actix_web::test::TestRequest;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

fn trusted() -> TrustedProxies {
    serde_json::from_value(serde_json::json!(["10.0.0.0/8", "fd00::/8"])).unwrap()
}

fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (n & 0x00ff_ffff)))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from((0xfd << 120) | (n >> 8)))),
    ]
}

/// Header values as proxies and attackers write them: lists of addresses with
/// odd spacing and ports, and arbitrary bytes.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    let entry = prop_oneof![
        address().prop_map(|ip| ip.to_string()),
        (address(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port).to_string()),
        "[ \\t]*[0-9a-fA-F:.\\[\\]]{0,20}[ \\t]*",
        "unknown|_hidden|,,| ",
    ];
    prop_oneof![
        proptest::collection::vec(entry, 0..6).prop_map(|e| e.join(",").into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..60),
    ]
}

fn request(peer: IpAddr, headers: &[Vec<u8>]) -> actix_web::HttpRequest {
    let mut req = TestRequest::default().peer_addr(SocketAddr::new(peer, 40000));
    for value in headers {
        if let Ok(value) = actix_web::http::header::HeaderValue::from_bytes(value) {
            req = req.append_header(("x-forwarded-for", value));
        }
    }
    req.to_http_request()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn any_header_gives_an_address_and_an_untrusted_peer_is_the_client(
        peer in address(),
        headers in proptest::collection::vec(header_value(), 0..3),
    ) {
        let trusted = trusted();
        let client = client_ip(&request(peer, &headers), &trusted);
        if !trusted.contains(peer) {
            prop_assert_eq!(client, peer);
        }
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client(
        proxy in any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (n & 0x00ff_ffff)))),
        chain in proptest::collection::vec(address(), 1..6),
    ) {
        let trusted = trusted();
        let header = chain.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ");
        let client = client_ip(&request(proxy, &[header.into_bytes()]), &trusted);
        let expected = chain
            .iter()
            .rev()
            .find(|ip| !trusted.contains(**ip))
            .unwrap_or(&chain[0]);
        prop_assert_eq!(client, *expected);
    }
}
