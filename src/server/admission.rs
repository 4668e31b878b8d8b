//! Admission of media sockets: a cap on calls served at once (taken when a stream has
//! authenticated itself), and caps on sockets that have not yet sent a valid `start`
//! (unauthenticated): per client and in all. Both are counted by RAII slots, so a
//! socket that ends in any way frees what it held.
//!
//! The client is the peer address, or behind a configured trusted proxy the nearest
//! untrusted `X-Forwarded-For` hop; IPv6 clients are grouped by /64 (one subscriber's
//! prefix), so rotating addresses inside it does not multiply the cap.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Why a socket was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_calls` sockets are open.
    AtCapacity,
    /// This client address holds `max_pending_per_client` sockets without a valid start.
    TooManyPending,
    /// `max_calls` sockets without a valid start are open in all.
    TooManyPendingInAll,
}

impl Refusal {
    pub fn kind(self) -> &'static str {
        match self {
            Refusal::AtCapacity => "at_capacity",
            Refusal::TooManyPending => "too_many_pending",
            Refusal::TooManyPendingInAll => "too_many_pending_in_all",
        }
    }
}

/// The admission counters, shared by every socket of the server.
#[derive(Clone)]
pub struct Admission {
    max_calls: usize,
    max_pending: usize,
    active: Arc<AtomicUsize>,
    pending: Arc<Mutex<HashMap<IpAddr, usize>>>,
    pending_total: Arc<AtomicUsize>,
    trusted_proxies: Arc<Vec<ipnet::IpNet>>,
}

/// Held for the life of one admitted socket.
pub struct CallSlot {
    active: Arc<AtomicUsize>,
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Held until the socket's stream is authenticated (or the socket ends).
pub struct PendingSlot {
    ip: IpAddr,
    pending: Arc<Mutex<HashMap<IpAddr, usize>>>,
    total: Arc<AtomicUsize>,
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        self.total.fetch_sub(1, Ordering::SeqCst);
        if let Ok(mut map) = self.pending.lock() {
            if let Some(n) = map.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}

impl Admission {
    /// `trusted_proxies`: addresses or CIDR blocks whose `X-Forwarded-For` is believed.
    pub fn new(
        max_calls: usize,
        max_pending_per_client: usize,
        trusted_proxies: Vec<ipnet::IpNet>,
    ) -> Self {
        Self {
            max_calls,
            max_pending: max_pending_per_client,
            active: Arc::default(),
            pending: Arc::default(),
            pending_total: Arc::default(),
            trusted_proxies: Arc::new(trusted_proxies),
        }
    }

    /// The client a socket counts against: `peer`, or when `peer` is a trusted proxy
    /// the nearest `X-Forwarded-For` hop that is not one (rightmost first, since only
    /// hops appended by our own proxies can be believed).
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| n.contains(ip));
        if !trusted(&peer) {
            return peer;
        }
        forwarded_for
            .into_iter()
            .flat_map(|h| h.rsplit(','))
            .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
            .find(|ip| !trusted(ip))
            .unwrap_or(peer)
    }

    /// Sockets admitted and not yet ended.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Admit one pending (unauthenticated) socket from client `ip`, if under the
    /// per-client cap and under `max_calls` pending in all.
    pub fn pending(&self, ip: IpAddr) -> Result<PendingSlot, Refusal> {
        let ip = group(ip);
        let mut map = self.pending.lock().map_err(|_| Refusal::TooManyPending)?;
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_pending {
            return Err(Refusal::TooManyPending);
        }
        let taken = self
            .pending_total
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                (t < self.max_calls).then_some(t + 1)
            });
        if taken.is_err() {
            if *n == 0 {
                map.remove(&ip);
            }
            return Err(Refusal::TooManyPendingInAll);
        }
        *n += 1;
        Ok(PendingSlot {
            ip,
            pending: self.pending.clone(),
            total: self.pending_total.clone(),
        })
    }

    /// Take one call slot, if fewer than `max_calls` are held.
    pub fn call(&self) -> Result<CallSlot, Refusal> {
        let taken = self
            .active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max_calls).then_some(n + 1)
            });
        match taken {
            Ok(_) => Ok(CallSlot {
                active: self.active.clone(),
            }),
            Err(_) => Err(Refusal::AtCapacity),
        }
    }
}

/// IPv4 as is; IPv6 by its /64 prefix.
fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_behind_trusted_proxies_and_ipv6_prefixes() {
        let a = Admission::new(4, 1, vec!["10.0.0.0/8".parse().unwrap()]);
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let outside: IpAddr = "203.0.113.7".parse().unwrap();
        let fwd = Some("198.51.100.1, 203.0.113.7, 10.9.9.9");
        assert_eq!(a.client(proxy, fwd), outside, "nearest untrusted hop");
        assert_eq!(
            a.client(outside, fwd),
            outside,
            "headers of untrusted peers ignored"
        );
        assert_eq!(a.client(proxy, None), proxy);
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let _slot = a.pending(v6a).unwrap();
        assert_eq!(
            a.pending(v6b).err(),
            Some(Refusal::TooManyPending),
            "same /64"
        );
        let total = Admission::new(2, 5, vec![]);
        let _x = total.pending(outside).unwrap();
        let _y = total.pending(proxy).unwrap();
        assert_eq!(total.pending(v6a).err(), Some(Refusal::TooManyPendingInAll));
    }

    #[test]
    fn slots_are_capped_and_freed_on_drop() {
        let a = Admission::new(2, 1, vec![]);
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        let other: IpAddr = "203.0.113.2".parse().unwrap();
        let p1 = a.pending(ip).unwrap();
        assert_eq!(a.pending(ip).err(), Some(Refusal::TooManyPending));
        let _p2 = a.pending(other).unwrap();
        drop(p1);
        let _p3 = a.pending(ip).unwrap();
        let c1 = a.call().unwrap();
        let _c2 = a.call().unwrap();
        assert_eq!(a.call().err(), Some(Refusal::AtCapacity));
        drop(c1);
        assert_eq!(a.active(), 1);
        assert!(a.call().is_ok());
    }
}
