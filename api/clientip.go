package api

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The client's address. Behind a load balancer the socket peer is the
// balancer, and the client's address is in a header the balancer appends
// to (X-Forwarded-For). Anyone can send that header too, so it is believed
// only from a trusted proxy, and only as far as it was written by trusted
// proxies: walking the list from the right, each entry was appended by the
// hop to its right, and the first entry that is not a trusted proxy is the
// client as the nearest untrusted hop presented itself. Whatever the
// client put to the left of that is ignored.

const localClientIP = "client_ip"

// ParseTrustedProxies reads a comma-separated list of CIDRs (a bare address
// is one host). A prefix with host bits set is taken as its network. The
// whole internet (/0) is refused: every client would choose its address.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var p netip.Prefix
		if strings.Contains(item, "/") {
			var err error
			if p, err = netip.ParsePrefix(item); err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", item)
			}
		} else {
			a, err := netip.ParseAddr(item)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is not an IP address or a CIDR such as 10.0.0.0/8", item)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are unmapped before they are compared.
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%q mixes IPv4-mapped and IPv6 addresses", item)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("%q trusts every address, which lets any client choose its IP", item)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientIP is the request's client address (see the top of this file),
// worked out once per request.
func (s *server) clientIP(c *fiber.Ctx) netip.Addr {
	if a, ok := c.Locals(localClientIP).(netip.Addr); ok {
		return a
	}
	var peer netip.Addr
	if tcp, ok := c.Context().RemoteAddr().(*net.TCPAddr); ok {
		peer, _ = netip.AddrFromSlice(tcp.IP)
	}
	var header [][]byte
	if s.ProxyHeader != "" {
		header = c.Request().Header.PeekAll(s.ProxyHeader)
	}
	a := resolveClientIP(peer, header, s.TrustedProxies)
	c.Locals(localClientIP, a)
	return a
}

// resolveClientIP is the client address of a request from peer carrying
// the proxy header values (in the order received), given the trusted
// proxies. A peer that is not a trusted proxy is the client, whatever
// the header says. From a trusted peer, the header is walked from the
// right to the first address that is not a trusted proxy; if every
// address is trusted, the left-most is the client. An entry that is not
// an address stops the walk at the trusted hop that passed it on: what it
// and everything left of it say cannot be told apart from a client's
// invention.
func resolveClientIP(peer netip.Addr, header [][]byte, trusted []netip.Prefix) netip.Addr {
	peer = peer.Unmap().WithZone("")
	if len(header) == 0 || !isTrusted(peer, trusted) {
		return peer
	}
	var entries []string
	for _, v := range header {
		entries = append(entries, strings.Split(string(v), ",")...)
	}
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		e := strings.TrimSpace(entries[i])
		if e == "" {
			continue // an empty list element, which the list syntax allows
		}
		a, ok := parseForwardedAddr(e)
		if !ok {
			return client
		}
		client = a
		if !isTrusted(a, trusted) {
			return a
		}
	}
	return client
}

// parseForwardedAddr reads one X-Forwarded-For entry: an address, maybe
// with a port ("203.0.113.9:4711", "[2001:db8::1]:443"), maybe quoted.
func parseForwardedAddr(e string) (netip.Addr, bool) {
	e = strings.Trim(e, `"`)
	a, err := netip.ParseAddr(e)
	if err != nil {
		ap, err := netip.ParseAddrPort(e)
		if err != nil {
			if !strings.HasPrefix(e, "[") || !strings.HasSuffix(e, "]") {
				return netip.Addr{}, false
			}
			if a, err = netip.ParseAddr(e[1 : len(e)-1]); err != nil {
				return netip.Addr{}, false
			}
		} else {
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// throttleAddr is what per-IP throttles count by: an IPv4 address, or an
// IPv6 address's /64. One IPv6 subscriber is usually given a whole /64 (or
// more), so counting per /128 would give one client 2^64 allowances.
func throttleAddr(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// auditAddr is the client address as an audit event keeps it: the whole
// address, canonical (an operator looking into an incident needs the
// address itself to block it or report it; it is personal data, kept with
// the event for the event's 12 months and written nowhere else).
func auditAddr(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}
