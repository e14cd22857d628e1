use super::*;
use proptest::prelude::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// 127.0.0.1 and 10.0.0.0/8 are the trusted proxies.
fn trusted(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.octets()[0] == 10,
        IpAddr::V6(_) => false,
    }
}

fn walk(peer: &str, header: &str) -> ClientAddress {
    let entries: Vec<&str> = header.split(',').collect();
    resolve(ip(peer), &entries, trusted)
}

#[test]
fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
    assert_eq!(
        walk("203.0.113.5", "198.51.100.1"),
        ClientAddress::Ip(ip("203.0.113.5"))
    );
}

#[test]
fn the_right_most_untrusted_entry_is_the_client() {
    assert_eq!(
        walk("127.0.0.1", "198.51.100.1, 203.0.113.8, 10.1.1.1"),
        ClientAddress::Ip(ip("203.0.113.8"))
    );
}

#[test]
fn ports_are_dropped_so_they_cannot_pick_a_fresh_bucket() {
    for i in 0..8 {
        assert_eq!(
            walk("127.0.0.1", &format!("10.8.8.{i}, 203.0.113.8:5000")),
            ClientAddress::Ip(ip("203.0.113.8"))
        );
    }
    assert_eq!(
        walk("127.0.0.1", "10.8.8.1, [2001:db8::1]:443"),
        ClientAddress::Ip(ip("2001:db8::1"))
    );
    assert_eq!(
        walk("127.0.0.1", "[2001:db8::1]"),
        ClientAddress::Ip(ip("2001:db8::1"))
    );
}

#[test]
fn mapped_ipv6_is_the_ipv4_address() {
    assert_eq!(
        walk("127.0.0.1", "::ffff:203.0.113.9"),
        ClientAddress::Ip(ip("203.0.113.9"))
    );
    assert_eq!(
        walk("::ffff:127.0.0.1", "203.0.113.9"),
        ClientAddress::Ip(ip("203.0.113.9"))
    );
}

#[test]
fn an_entry_that_is_not_an_address_ends_the_walk_in_one_bucket() {
    for header in [
        "unknown",
        "203.0.113.1, unknown",
        "10.0.0.1, garbage, 10.0.0.2",
        "",
    ] {
        assert_eq!(
            walk("127.0.0.1", header),
            ClientAddress::Unparseable,
            "{header:?}"
        );
    }
    assert_eq!(ClientAddress::Unparseable.limit_key(), "unparseable");
    assert_eq!(ClientAddress::Unparseable.ip(), None);
}

#[test]
fn an_all_trusted_chain_makes_the_left_most_entry_the_client() {
    assert_eq!(
        walk("127.0.0.1", "10.0.0.7, 10.0.0.1, 127.0.0.1"),
        ClientAddress::Ip(ip("10.0.0.7"))
    );
    assert_eq!(
        resolve(ip("127.0.0.1"), &[], trusted),
        ClientAddress::Ip(ip("127.0.0.1"))
    );
}

#[test]
fn ipv6_clients_share_a_bucket_per_64() {
    let a = ClientAddress::Ip(ip("2001:db8:1:2:aaaa::1")).limit_key();
    let b = ClientAddress::Ip(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")).limit_key();
    let c = ClientAddress::Ip(ip("2001:db8:1:3::1")).limit_key();
    assert_eq!(a, "ip:2001:db8:1:2::/64");
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        ClientAddress::Ip(ip("203.0.113.4")).limit_key(),
        "ip:203.0.113.4"
    );
}

proptest! {
    /// Whatever an untrusted client prepends, the bucket is the one its
    /// trusted proxy appended: the client's own address.
    #[test]
    fn spoofed_prefixes_never_change_the_client(
        spoofed in proptest::collection::vec("[ -~]{0,40}", 0..6),
        client in any::<[u8; 4]>(),
        port in proptest::option::of(any::<u16>()),
    ) {
        let real = Ipv4Addr::from(client);
        prop_assume!(!trusted(IpAddr::V4(real)));
        let appended = match port {
            Some(port) => format!("{real}:{port}"),
            None => real.to_string(),
        };
        let mut entries: Vec<&str> = spoofed.iter().flat_map(|s| s.split(',')).collect();
        entries.push(&appended);
        prop_assert_eq!(
            resolve(ip("127.0.0.1"), &entries, trusted),
            ClientAddress::Ip(IpAddr::V4(real))
        );
    }

    /// No forwarded text makes a request loopback unless every entry is a
    /// trusted address; garbage never does.
    #[test]
    fn garbage_is_never_loopback(garbage in "[ -~]{1,40}") {
        prop_assume!(parse_entry(&garbage).is_none());
        let entries = ["127.0.0.1", garbage.as_str(), "10.0.0.1"];
        prop_assert_eq!(resolve(ip("127.0.0.1"), &entries, trusted), ClientAddress::Unparseable);
    }

    /// Any address with any port, in either form, parses to itself.
    #[test]
    fn every_address_parses_with_or_without_its_port(v6 in any::<[u8; 16]>(), port in any::<u16>()) {
        let address = Ipv6Addr::from(v6);
        let expected = canonical(IpAddr::V6(address));
        prop_assert_eq!(parse_entry(&address.to_string()), Some(expected));
        prop_assert_eq!(parse_entry(&format!("[{address}]:{port}")), Some(expected));
        prop_assert_eq!(parse_entry(&format!("[{address}]")), Some(expected));
    }
}
